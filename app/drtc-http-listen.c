/* daydream-rtc: the listening socket of serve and the gateway
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libsoup reads at most 64 KiB of request head and closes the connection
 * without an answer when there is more; a client sending a 64 kB path
 * learns nothing. libsoup 3.2 has no timeout for a head either: a client
 * sending one byte a minute holds its connection forever. So we accept
 * connections ourselves: the first bytes of each are peeked (left in the
 * socket) until its head is complete (an empty line), then the connection
 * goes to the SoupServer. A first line longer than DRTC_HTTP_MAX_LINE is
 * answered 414 here and the connection closed; a head not complete within
 * DRTC_HTTP_HEAD_TIMEOUT_S seconds is closed. Later requests on a
 * kept-alive connection are libsoup's alone (the early handlers answer 414
 * for paths they can still read).
 *
 * Once libsoup has a connection, each request on it is watched (libsoup
 * 3.2 has no timeouts of its own): from the moment libsoup waits for it
 * until its head is in, and between two pieces of its body, at most
 * --idle-timeout seconds may pass, else the connection is shut down. A
 * kept-alive connection with no next request is closed that way; a request
 * whose answer is pending waits on nothing and is not cut short.
 *
 * A request refused from its head (by an early handler, or once a chunked
 * body passes its limit) is answered here, before its body is read: libsoup
 * 3.2 has no way to (drtc_http_listen_answer_now).
 *
 * The listen backlog is nginx's 511 (GSocket's default is 10: a burst of
 * 200 connections then waits for SYN retries, seconds each).
 */
#include "drtc-http-listen.h"

#include <errno.h>
#include <unistd.h>
#include <gio/gunixsocketaddress.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#define PEEK_RETRY_MS 10
#define HEAD_TIMEOUT_US (DRTC_HTTP_HEAD_TIMEOUT_S * G_USEC_PER_SEC)
#define DRAIN_TIMEOUT_US (2 * G_USEC_PER_SEC)
#define MAX_HEAD (64 * 1024)    /* libsoup's own bound on a request head */
#define BACKLOG 511

typedef struct
{
  SoupServer *server;           /* NULL for a connection taken back */
  GSocketConnection *conn;
  GIOStream *stolen;            /* (nullable) libsoup's, taken back */
  gint64 deadline;
  GBytes *answer;               /* (nullable) an answer being sent */
  gsize sent;
  gboolean shut;                /* answer sent, write side shut down */
} Incoming;

static void
incoming_free (Incoming * in)
{
  g_clear_object (&in->server);
  g_object_unref (in->conn);
  g_clear_object (&in->stolen);
  g_clear_pointer (&in->answer, g_bytes_unref);
  g_free (in);
}

/* Sends what is left of the answer, without blocking; TRUE once it is all
 * sent (FALSE: the client's window is full, or it is gone) */
static gboolean
send_answer (Incoming * in, GSocket * socket)
{
  gsize len;
  const gchar *data = g_bytes_get_data (in->answer, &len);
  gssize n;

  while (in->sent < len) {
    n = g_socket_send_with_blocking (socket, data + in->sent, len - in->sent,
        FALSE, NULL, NULL);
    if (n <= 0)
      return FALSE;
    in->sent += n;
  }
  return TRUE;
}

/* Once answered: the answer is sent, the write side shut down, and what the
 * client still sends is read and dropped until it closes (closing with
 * unread data would reset the connection, and the client could lose the
 * answer), for at most DRAIN_TIMEOUT_US: 16 KiB a tick, so a client
 * streaming a body gets a few MiB read, not the body. TRUE when done. */
static gboolean
drain (Incoming * in, GSocket * socket)
{
  gchar buf[16384];
  gssize n = -1;

  if (!in->shut && send_answer (in, socket)) {
    g_socket_shutdown (socket, FALSE, TRUE, NULL);
    in->shut = TRUE;
  }
  if (in->shut)
    n = recv (g_socket_get_fd (socket), buf, sizeof buf, MSG_DONTWAIT);
  else
    errno = EAGAIN;
  if ((n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
      && g_get_monotonic_time () < in->deadline)
    return FALSE;
  g_io_stream_close (G_IO_STREAM (in->conn), NULL, NULL);
  return TRUE;
}

/* From now on @in sends @answer (owned) and closes */
static void
incoming_answer (Incoming * in, GBytes * answer)
{
  in->answer = answer;
  in->deadline = g_get_monotonic_time () + DRAIN_TIMEOUT_US;
}

static GBytes *
answer_414 (void)
{
  static const gchar body[] = "{\"detail\":\"request line over "
      G_STRINGIFY (DRTC_HTTP_MAX_LINE) " bytes\"}";
  gchar *reply = g_strdup_printf ("HTTP/1.1 414 URI Too Long\r\n"
      "Content-Type: application/json\r\nConnection: close\r\n"
      "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n%s", strlen (body), body);

  return g_bytes_new_take (reply, strlen (reply));
}

/* Whether the peeked @buf holds a whole head; @line: the length of its
 * first line, -1 while that is not complete */
static gboolean
head_complete (const gchar * buf, gssize n, gssize * line)
{
  const gchar *nl = n > 0 ? memchr (buf, '\n', n) : NULL;

  *line = nl ? nl - buf : -1;
  if (!nl)
    return FALSE;
  /* a bare first line ("GET /\n", HTTP/0.9 style) is libsoup's to refuse */
  for (const gchar * p = nl; p && p < buf + n - 1;
      p = memchr (p + 1, '\n', buf + n - p - 1))
    if (p[1] == '\n' || (p[1] == '\r' && p + 2 < buf + n && p[2] == '\n'))
      return TRUE;
  return n >= MAX_HEAD;
}

/* The connections libsoup has from us, by remote address ("ip:port"):
 * libsoup 3.2 gives no socket for a connection it got as a GIOStream.
 * Not owned: each leaves the table when libsoup lets it go. */
static GHashTable *handed;

static gchar *
address_key (GSocketAddress * address)
{
  g_autofree gchar *ip = NULL;

  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return NULL;
  ip = g_inet_address_to_string (g_inet_socket_address_get_address
      (G_INET_SOCKET_ADDRESS (address)));
  return g_strdup_printf ("%s:%u", ip,
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address)));
}

static void
on_connection_gone (gpointer key, GObject * where_the_object_was)
{
  if (g_hash_table_lookup (handed, key) == where_the_object_was)
    g_hash_table_remove (handed, key);
  g_free (key);
}

static void
remember (GSocketConnection * conn, GSocketAddress * remote)
{
  gchar *key = address_key (remote);

  if (!key)
    return;
  if (!handed)
    handed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_replace (handed, g_strdup (key), conn);
  g_object_weak_ref (G_OBJECT (conn), on_connection_gone, key);
}

static GSocketConnection *
connection_of (SoupServerMessage * msg)
{
  g_autofree gchar *key = address_key
      (soup_server_message_get_remote_address (msg));

  return key && handed ? g_hash_table_lookup (handed, key) : NULL;
}

static void
hand_over (Incoming * in)
{
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (GSocketAddress) remote = NULL;
  g_autoptr (GError) err = NULL;

  local = g_socket_connection_get_local_address (in->conn, NULL);
  remote = g_socket_connection_get_remote_address (in->conn, NULL);
  remember (in->conn, remote);
  /* not owned: looked up only while the server handles a request of it */
  g_object_set_data (G_OBJECT (in->conn), "drtc-server", in->server);
  if (!soup_server_accept_iostream (in->server, G_IO_STREAM (in->conn),
          local, remote, &err))
    g_debug ("connection refused by the server: %s", err->message);

}

/* TRUE: @in is done with (handed to the server, or answered and closed) */
static gboolean
check_head (Incoming * in)
{
  /* the main context's thread only */
  static gchar buf[MAX_HEAD];
  GSocket *socket = g_socket_connection_get_socket (in->conn);
  gssize n, line;
  gboolean whole, waiting;

  if (in->answer)
    return drain (in, socket);
  n = recv (g_socket_get_fd (socket), buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
  whole = head_complete (buf, n, &line);
  waiting = g_get_monotonic_time () < in->deadline
      && (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)));
  if (line > DRTC_HTTP_MAX_LINE || (line < 0 && n > DRTC_HTTP_MAX_LINE)) {
    incoming_answer (in, answer_414 ());
    return drain (in, socket);
  }
  if (!whole && waiting)
    return FALSE;
  if (!whole) {
    /* closed, failed or too slow: nothing to answer */
    g_io_stream_close (G_IO_STREAM (in->conn), NULL, NULL);
    return TRUE;
  }
  hand_over (in);
  return TRUE;
}

/* A timer, not G_IO_IN: the bytes already peeked keep the socket readable,
 * so waiting for G_IO_IN would spin. */
static gboolean
on_peek_timer (gpointer data)
{
  return check_head (data) ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

/* Checks @in every PEEK_RETRY_MS until it is done with */
static void
incoming_watch (Incoming * in)
{
  GSource *timer = g_timeout_source_new (PEEK_RETRY_MS);

  g_source_set_callback (timer, on_peek_timer, in,
      (GDestroyNotify) incoming_free);
  g_source_attach (timer, g_main_context_get_thread_default ());
  g_source_unref (timer);
}

static gboolean
on_incoming (GSocketService * service, GSocketConnection * conn,
    GObject * source, gpointer data)
{
  Incoming *in = g_new0 (Incoming, 1);

  in->server = g_object_ref (data);
  in->conn = g_object_ref (conn);
  /* as libsoup does for the connections it accepts: an answer written in
   * parts must not wait for the client's delayed ACK (40 ms) */
  g_socket_set_option (g_socket_connection_get_socket (conn), IPPROTO_TCP,
      TCP_NODELAY, TRUE, NULL);
  in->deadline = g_get_monotonic_time () + HEAD_TIMEOUT_US;
  if (check_head (in))
    incoming_free (in);
  else
    incoming_watch (in);
  return TRUE;
}

/* ---- the requests of a connection libsoup has ---- */

typedef struct
{
  GSocket *socket;
  GSource *timer;
  guint timeout_s;
} Watch;

static void
watch_disarm (Watch * w)
{
  if (w->timer) {
    g_source_destroy (w->timer);
    g_clear_pointer (&w->timer, g_source_unref);
  }
}

static void
watch_free (gpointer data)
{
  Watch *w = data;

  watch_disarm (w);
  g_object_unref (w->socket);
  g_free (w);
}

static gboolean
on_idle_expired (gpointer data)
{
  Watch *w = data;

  g_debug ("connection silent for %u s: closed", w->timeout_s);
  g_clear_pointer (&w->timer, g_source_unref);
  /* libsoup's pending read fails and it drops the connection */
  g_socket_shutdown (w->socket, TRUE, TRUE, NULL);
  return G_SOURCE_REMOVE;
}

static void
watch_arm (Watch * w)
{
  watch_disarm (w);
  w->timer = g_timeout_source_new_seconds (w->timeout_s);
  g_source_set_callback (w->timer, on_idle_expired, w, NULL);
  g_source_attach (w->timer, g_main_context_get_thread_default ());
}

static void
on_got_chunk (SoupServerMessage * msg, GBytes * chunk, gpointer data)
{
  watch_arm (data);
}

static void
on_got_headers (SoupServerMessage * msg, gpointer data)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  SoupEncoding enc = soup_message_headers_get_encoding (h);

  if (enc == SOUP_ENCODING_NONE || (enc == SOUP_ENCODING_CONTENT_LENGTH
          && soup_message_headers_get_content_length (h) == 0))
    watch_disarm (data);
  else
    watch_arm (data);
}

static void
on_got_body (SoupServerMessage * msg, gpointer data)
{
  watch_disarm (data);
}

/* The watch of @msg's connection (made with it, gone with it) */
static Watch *
watch_of (SoupServerMessage * msg, guint timeout_s)
{
  GSocketConnection *conn = connection_of (msg);
  Watch *w = conn ? g_object_get_data (G_OBJECT (conn), "drtc-watch") : NULL;

  if (w || !conn)
    return w;
  w = g_new0 (Watch, 1);
  w->socket = g_object_ref (g_socket_connection_get_socket (conn));
  w->timeout_s = timeout_s;
  g_object_set_data_full (G_OBJECT (conn), "drtc-watch", w, watch_free);
  return w;
}

/* @conn leaves libsoup: @msg's handlers no longer arm its watch */
static void
watch_stop (SoupServerMessage * msg, GSocketConnection * conn)
{
  Watch *w = g_object_get_data (G_OBJECT (conn), "drtc-watch");

  if (!w)
    return;
  g_signal_handlers_disconnect_by_data (msg, w);
  watch_disarm (w);
}

/* libsoup reads a request: its head must come within the idle timeout */
static void
on_request_started (SoupServer * server, SoupServerMessage * msg, gpointer data)
{
  Watch *w = watch_of (msg, GPOINTER_TO_UINT (data));

  if (!w)
    return;
  g_signal_connect (msg, "got-headers", G_CALLBACK (on_got_headers), w);
  g_signal_connect (msg, "got-chunk", G_CALLBACK (on_got_chunk), w);
  g_signal_connect (msg, "got-body", G_CALLBACK (on_got_body), w);
  watch_arm (w);
}

/* answered: a kept-alive connection waits for the next request (libsoup
 * 3.2 starts one only once bytes come), at most the idle timeout */
static void
on_request_finished (SoupServer * server, SoupServerMessage * msg,
    gpointer data)
{
  Watch *w = watch_of (msg, GPOINTER_TO_UINT (data));

  if (w)
    watch_arm (w);
}

/* ---- answering before the body ---- */

/* @msg's response as HTTP/1.1 bytes: what libsoup would write for it
 * (write_headers in soup-server-message-io-http1.c), with Connection: close
 * and the body's length */
static GBytes *
response_bytes (SoupServerMessage * msg)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  g_autoptr (GBytes) body = soup_message_body_flatten
      (soup_server_message_get_response_body (msg));
  guint status = soup_server_message_get_status (msg);
  const gchar *reason = soup_server_message_get_reason_phrase (msg);
  GString *out = g_string_new (NULL);
  SoupMessageHeadersIter iter;
  const gchar *name, *value;

  soup_message_headers_replace (h, "Connection", "close");
  soup_message_headers_set_content_length (h, g_bytes_get_size (body));
  g_string_append_printf (out, "HTTP/1.%d %u %s\r\n",
      soup_server_message_get_http_version (msg) == SOUP_HTTP_1_0 ? 0 : 1,
      status, reason ? reason : soup_status_get_phrase (status));
  soup_message_headers_iter_init (&iter, h);
  while (soup_message_headers_iter_next (&iter, &name, &value))
    g_string_append_printf (out, "%s: %s\r\n", name, value);
  g_string_append (out, "\r\n");
  if (!g_str_equal (soup_server_message_get_method (msg), SOUP_METHOD_HEAD))
    g_string_append_len (out, g_bytes_get_data (body, NULL),
        g_bytes_get_size (body));
  return g_string_free_to_bytes (out);
}

/**
 * drtc_http_listen_answer_now:
 *
 * From a got-headers (early handler) or got-chunk handler: sends @msg's
 * response as set (status, headers, body) at once and closes the
 * connection, leaving the request body unread.
 *
 * libsoup 3.2 (and its main branch) reads a request's whole body before it
 * writes any answer, whatever status an early handler sets, unless the
 * client sent Expect: 100-continue (io_read in
 * soup-server-message-io-http1.c goes from got-headers straight to
 * BODY_START); it has no call to skip the body. So the connection is taken
 * back from libsoup (soup_server_message_steal_connection, the call it has
 * for taking a connection over) and the response libsoup would have written
 * is written here, then the connection is closed as the 414 above is: the
 * write side shut down, then what the client still sends read away for at
 * most DRAIN_TIMEOUT_US, 16 KiB a tick. Nothing else is written by hand.
 *
 * @msg may be gone on return.
 *
 * Returns: FALSE (and nothing done) when @msg's connection did not come
 *   from drtc_http_listen: libsoup then answers after the body.
 */
gboolean
drtc_http_listen_answer_now (SoupServerMessage * msg)
{
  GSocketConnection *conn = connection_of (msg);
  Incoming *in;

  if (!conn)
    return FALSE;
  in = g_new0 (Incoming, 1);
  in->conn = g_object_ref (conn);
  incoming_answer (in, response_bytes (msg));
  g_object_ref (msg);
  /* libsoup emits nothing for a message whose connection is taken: the
   * server's request-finished (serve counts requests by it) is emitted
   * here, as libsoup would once the answer is written */
  g_signal_emit_by_name (g_object_get_data (G_OBJECT (conn), "drtc-server"),
      "request-finished", msg);
  watch_stop (msg, conn);
  in->stolen = soup_server_message_steal_connection (msg);
  g_object_unref (msg);
  /* the answer now, the close from the timer: the connection (and its
   * watch) must outlive the handlers of @msg still to run */
  send_answer (in, g_socket_connection_get_socket (conn));
  incoming_watch (in);
  return TRUE;
}

/* A listening socket of libsoup's own that no client uses (see below). */
static gboolean
listen_placeholder (SoupServer * server, GError ** error)
{
  g_autofree gchar *uuid = g_uuid_string_random ();
  g_autofree gchar *name = g_strdup_printf ("daydream-rtc-%d-%s",
      (int) getpid (), uuid);
  g_autoptr (GSocketAddress) addr = g_unix_socket_address_new_with_type (name,
      -1, G_UNIX_SOCKET_ADDRESS_ABSTRACT);
  g_autoptr (GSocket) sock = g_socket_new (G_SOCKET_FAMILY_UNIX,
      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, error);

  return sock && g_socket_bind (sock, addr, FALSE, error)
      && g_socket_listen (sock, error)
      && soup_server_listen_socket (server, sock, 0, error);
}

/**
 * drtc_http_listen:
 * @idle_timeout_s: seconds a connection may wait on its client (0: ever)
 * @port: (out): the port listened on (@address may say 0)
 *
 * Returns: (transfer full): the service accepting for @server, or NULL
 */
GSocketService *
drtc_http_listen (SoupServer * server, GSocketAddress * address,
    guint idle_timeout_s, guint * port, GError ** error)
{
  GSocketService *service = g_socket_service_new ();
  g_autoptr (GSocketAddress) effective = NULL;

  g_socket_listener_set_backlog (G_SOCKET_LISTENER (service), BACKLOG);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (service), address,
          G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &effective,
          error)) {
    g_object_unref (service);
    return NULL;
  }
  /* libsoup 3.2 keeps a connection alive only while the server has a
   * listener of its own (soup-server.c, request_finished: priv->listeners);
   * without one every connection we hand over closes after one request. So
   * it gets one that nothing can reach by TCP, and so no web page either:
   * an abstract Unix socket with a random name, announced nowhere. */
  if (!listen_placeholder (server, error)) {
    g_object_unref (service);
    return NULL;
  }
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  if (idle_timeout_s) {
    g_signal_connect (server, "request-started",
        G_CALLBACK (on_request_started), GUINT_TO_POINTER (idle_timeout_s));
    g_signal_connect (server, "request-finished",
        G_CALLBACK (on_request_finished), GUINT_TO_POINTER (idle_timeout_s));
  }
  g_signal_connect_object (service, "incoming", G_CALLBACK (on_incoming),
      server, 0);
  g_socket_service_start (service);
  return service;
}

/* Stops accepting and closes the listening socket. */
void
drtc_http_listen_stop (GSocketService * service)
{
  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
}
