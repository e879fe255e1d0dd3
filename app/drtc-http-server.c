/* daydream-rtc: how serve and the gateway start their HTTP server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The same steps for both: the address, the guard (Host, Origin), a
 * SoupServer with the request handler, /preview's and the early handler
 * for each, our accept path (drtc-http-listen.c), the port the guard
 * expects in Host.
 */
#include "drtc-http-server.h"
#include "drtc-http-listen.h"

/**
 * drtc_http_server_start:
 * @server, @listener, @guard: (out): set as they are made, so that the
 *   caller's free function cleans up after a failure too
 *
 * Returns: whether the server listens; else @error says why
 */
gboolean
drtc_http_server_start (const DrtcHttpServerSetup * setup,
    SoupServer ** server, GSocketService ** listener, DrtcHttpGuard ** guard,
    guint * port, GError ** error)
{
  g_autoptr (GInetAddress) address = NULL;
  g_autoptr (GSocketAddress) sockaddr = NULL;

  address = g_inet_address_new_from_string (setup->host);
  if (!address) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "--host must be an IP address, not '%s'", setup->host);
    return FALSE;
  }
  *guard = drtc_http_guard_new (setup->host, setup->allowed_hosts,
      setup->allowed_origins, TRUE, error);
  if (!*guard)
    return FALSE;
  *server = soup_server_new ("server-header", setup->server_header, NULL);
  soup_server_add_handler (*server, NULL, setup->on_request,
      setup->user_data, NULL);
  soup_server_add_handler (*server, "/preview", setup->on_preview,
      setup->user_data, NULL);
  soup_server_add_early_handler (*server, NULL, setup->on_request_headers,
      setup->user_data, NULL);
  /* libsoup runs the early handler registered for the same path as the
   * handler: /preview needs the guard's too */
  soup_server_add_early_handler (*server, "/preview",
      setup->on_request_headers, setup->user_data, NULL);
  sockaddr = g_inet_socket_address_new (address, setup->port);
  /* our accept path: backlog 511, a deadline for request heads */
  *listener = drtc_http_listen (*server, sockaddr, setup->idle_timeout_s,
      port, error);
  if (!*listener)
    return FALSE;
  drtc_http_guard_set_port (*guard, *port);
  return TRUE;
}
