/* daydream-rtc serve: the listening socket, with a bound on request lines
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libsoup reads at most 64 KiB of request head and closes the connection
 * without an answer when there is more; a client sending a 64 kB path
 * learns nothing. So we accept connections ourselves: the first bytes of
 * each are peeked (left in the socket) until its request line is complete,
 * then the connection goes to the SoupServer. A first line longer than
 * DRTC_SERVE_MAX_LINE is answered 414 here and the connection closed.
 * Later requests on a kept-alive connection are libsoup's alone (the early
 * handler answers 414 for paths it can still read).
 *
 * The early handler refuses, before a route runs and before the body is
 * held in memory, paths and bodies over the limits.
 */
#include "drtc-serve-private.h"
#include "drtc-http-util.h"

#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#define PEEK_RETRY_MS 10
#define FIRST_LINE_TIMEOUT_US (10 * G_USEC_PER_SEC)
#define DRAIN_TIMEOUT_US (2 * G_USEC_PER_SEC)

typedef struct
{
  SoupServer *server;
  GSocketConnection *conn;
  gint64 deadline;
  gboolean answered;            /* 414 sent: reading the rest away */
} Incoming;

static void
incoming_free (Incoming * in)
{
  g_object_unref (in->server);
  g_object_unref (in->conn);
  g_free (in);
}

static void
answer_414 (GSocket * socket)
{
  static const gchar body[] = "{\"detail\":\"request line over "
      G_STRINGIFY (DRTC_SERVE_MAX_LINE) " bytes\"}";
  g_autofree gchar *reply = g_strdup_printf ("HTTP/1.1 414 URI Too Long\r\n"
      "Content-Type: application/json\r\nConnection: close\r\n"
      "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n%s", strlen (body), body);

  /* a few hundred bytes: the socket's send buffer takes them at once */
  g_socket_send_with_blocking (socket, reply, strlen (reply), FALSE, NULL,
      NULL);
}

/* After the 414: what the client still sends is read and dropped until it
 * closes (closing with unread data would reset the connection, and the
 * client could lose the answer). TRUE when done. */
static gboolean
drain (Incoming * in, GSocket * socket)
{
  gchar buf[16384];
  gssize n = recv (g_socket_get_fd (socket), buf, sizeof buf, MSG_DONTWAIT);

  if ((n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
      && g_get_monotonic_time () < in->deadline)
    return FALSE;
  g_io_stream_close (G_IO_STREAM (in->conn), NULL, NULL);
  return TRUE;
}

/* TRUE: @in is done with (handed to the server, or answered and closed) */
static gboolean
check_first_line (Incoming * in)
{
  GSocket *socket = g_socket_connection_get_socket (in->conn);
  gchar buf[DRTC_SERVE_MAX_LINE + 1];
  gssize n = recv (g_socket_get_fd (socket), buf, sizeof buf,
      MSG_PEEK | MSG_DONTWAIT);
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (GSocketAddress) remote = NULL;
  g_autoptr (GError) err = NULL;
  gboolean line = n > 0 && memchr (buf, '\n', n);

  if (in->answered)
    return drain (in, socket);
  if (!line && n < 0 && (errno == EAGAIN || errno == EINTR)
      && g_get_monotonic_time () < in->deadline)
    return FALSE;
  if (!line && n > 0 && n <= DRTC_SERVE_MAX_LINE
      && g_get_monotonic_time () < in->deadline)
    return FALSE;
  if (!line && n > DRTC_SERVE_MAX_LINE) {
    answer_414 (socket);
    g_socket_shutdown (socket, FALSE, TRUE, NULL);
    in->answered = TRUE;
    in->deadline = g_get_monotonic_time () + DRAIN_TIMEOUT_US;
    return drain (in, socket);
  }
  if (!line) {
    /* closed, failed or silent for too long: nothing to answer */
    g_io_stream_close (G_IO_STREAM (in->conn), NULL, NULL);
    return TRUE;
  }
  local = g_socket_connection_get_local_address (in->conn, NULL);
  remote = g_socket_connection_get_remote_address (in->conn, NULL);
  if (!soup_server_accept_iostream (in->server, G_IO_STREAM (in->conn),
          local, remote, &err))
    g_debug ("connection refused by the server: %s", err->message);
  return TRUE;
}

/* A timer, not G_IO_IN: the bytes already peeked keep the socket readable,
 * so waiting for G_IO_IN would spin. */
static gboolean
on_peek_timer (gpointer data)
{
  return check_first_line (data) ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static gboolean
on_incoming (GSocketService * service, GSocketConnection * conn,
    GObject * source, gpointer data)
{
  Incoming *in = g_new0 (Incoming, 1);
  GSource *timer;

  in->server = g_object_ref (data);
  in->conn = g_object_ref (conn);
  /* as libsoup does for the connections it accepts: an answer written in
   * parts must not wait for the client's delayed ACK (40 ms) */
  g_socket_set_option (g_socket_connection_get_socket (conn), IPPROTO_TCP,
      TCP_NODELAY, TRUE, NULL);
  in->deadline = g_get_monotonic_time () + FIRST_LINE_TIMEOUT_US;
  if (check_first_line (in)) {
    incoming_free (in);
    return TRUE;
  }
  timer = g_timeout_source_new (PEEK_RETRY_MS);
  g_source_set_callback (timer, on_peek_timer, in,
      (GDestroyNotify) incoming_free);
  g_source_attach (timer, g_main_context_get_thread_default ());
  g_source_unref (timer);
  return TRUE;
}

/**
 * drtc_serve_listen:
 * @port: (out): the port listened on (@address may say 0)
 *
 * Returns: (transfer full): the service accepting for @server, or NULL
 */
GSocketService *
drtc_serve_listen (SoupServer * server, GSocketAddress * address,
    guint * port, GError ** error)
{
  GSocketService *service = g_socket_service_new ();
  g_autoptr (GSocketAddress) effective = NULL;

  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (service), address,
          G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &effective,
          error)) {
    g_object_unref (service);
    return NULL;
  }
  /* libsoup 3.2 keeps a connection alive only while the server has a
   * listener of its own (soup-server.c, request_finished: priv->listeners);
   * without one every connection we hand over closes after one request. So
   * it listens on a loopback port too, nowhere announced: the same
   * handlers and the same access token check answer there. */
  if (!soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY,
          error)) {
    g_object_unref (service);
    return NULL;
  }
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_signal_connect_object (service, "incoming", G_CALLBACK (on_incoming),
      server, 0);
  g_socket_service_start (service);
  return service;
}

/* ---- request heads ---- */

/* Bytes a route takes: frames are big, the JSON of the others is not. */
static goffset
body_limit (const gchar * path)
{
  return g_str_has_suffix (path,
      "/frames") ? DRTC_SERVE_MAX_BODY : DRTC_SERVE_MAX_JSON;
}

/* Stops reading a body into memory and answers 413 naming the limit. */
static void
refuse_body (SoupServerMessage * msg, goffset limit)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autofree gchar *detail = g_strdup_printf ("request body over %"
      G_GOFFSET_FORMAT " bytes", limit);

  /* with Expect: 100-continue the body is never sent; without, it is read
   * and thrown away as it comes, never held in memory */
  soup_message_body_set_accumulate (body, FALSE);
  soup_message_body_truncate (body);
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Connection", "close");
  drtc_http_reply_detail (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, detail);
}

/* A body without Content-Length (chunked) is counted as it comes. */
static void
on_body_chunk (SoupServerMessage * msg, GBytes * chunk, gpointer data)
{
  goffset limit = GPOINTER_TO_SIZE (data);
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  if (soup_server_message_get_status (msg) == 0 && body->length > limit)
    refuse_body (msg, limit);
}

/**
 * drtc_serve_on_request_headers:
 *
 * The early handler: over-long paths and bodies are refused before the
 * body is read (it runs once the headers are in).
 */
void
drtc_serve_on_request_headers (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer data)
{
  GUri *uri = soup_server_message_get_uri (msg);
  const gchar *q = g_uri_get_query (uri);
  goffset limit = body_limit (path);
  goffset len = soup_message_headers_get_content_length
      (soup_server_message_get_request_headers (msg));

  if (strlen (path) + (q ? strlen (q) : 0) > DRTC_SERVE_MAX_PATH) {
    soup_message_body_set_accumulate (soup_server_message_get_request_body
        (msg), FALSE);
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Connection", "close");
    drtc_http_reply_detail (msg, SOUP_STATUS_REQUEST_URI_TOO_LONG,
        "request path and query over " G_STRINGIFY (DRTC_SERVE_MAX_PATH)
        " bytes");
  } else if (len > limit) {
    refuse_body (msg, limit);
  } else {
    g_signal_connect (msg, "got-chunk", G_CALLBACK (on_body_chunk),
        GSIZE_TO_POINTER (limit));
  }
}
