/* daydream-rtc: what a browser may ask of serve and the gateway
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Both servers run on the user's desktop, next to a browser that visits
 * any web page. As Jupyter, Syncthing and Django's ALLOWED_HOSTS do, a
 * request is served only when
 *  - its Host names this server (127.0.0.1, localhost, [::1], the address
 *    listened on, or an --allowed-host; with our port): otherwise 421, so a
 *    DNS-rebound name reaches nothing;
 *  - its Origin, when it has one, is allowed (--allowed-origin, this
 *    server's own origins and, for serve, ComfyUI's at 127.0.0.1:8188 and
 *    localhost:8188): otherwise 403;
 *  - a state-changing method (POST, PUT, PATCH, DELETE) sends its body as
 *    one of the route's media types, never as one of the "simple" types
 *    (text/plain, multipart/form-data, application/x-www-form-urlencoded)
 *    a page may send cross-origin without a preflight: otherwise 415.
 * CORS answers name the one allowed origin asked for, never "*".
 */
#include "drtc-http-guard.h"
#include "drtc-http-listen.h"

#include <string.h>

#define COMFYUI_PORT 8188

struct _DrtcHttpGuard
{
  GPtrArray *hosts;             /* host names (lower case, IPv6 in []) */
  GPtrArray *origins;           /* canonical "scheme://host:port" */
  guint n_configured;           /* origins[0..n) are configured, then ours */
  guint port;
};

/* "[::1]" for IPv6 literals, lower case for the rest */
static gchar *
host_canonical (const gchar * host)
{
  if (strchr (host, ':') && host[0] != '[')
    return g_strdup_printf ("[%s]", host);
  return g_ascii_strdown (host, -1);
}

/* "scheme://host:port" of @origin, or NULL when it is not one */
static gchar *
origin_canonical (const gchar * origin)
{
  g_autoptr (GUri) uri = g_uri_parse (origin, G_URI_FLAGS_NONE, NULL);
  const gchar *scheme = uri ? g_uri_get_scheme (uri) : NULL;
  const gchar *path = uri ? g_uri_get_path (uri) : NULL;
  g_autofree gchar *host = NULL;
  gint port;

  if (!scheme || !g_uri_get_host (uri) || !*g_uri_get_host (uri)
      || (path && *path && !g_str_equal (path, "/")) || g_uri_get_query (uri)
      || (g_ascii_strcasecmp (scheme, "http") != 0
          && g_ascii_strcasecmp (scheme, "https") != 0))
    return NULL;
  port = g_uri_get_port (uri);
  if (port < 0)
    port = g_ascii_strcasecmp (scheme, "https") == 0 ? 443 : 80;
  host = host_canonical (g_uri_get_host (uri));
  return g_strdup_printf ("%s://%s:%d", g_ascii_strcasecmp (scheme,
          "https") == 0 ? "https" : "http", host, port);
}

static void
add_host (DrtcHttpGuard * guard, const gchar * host)
{
  g_autofree gchar *h = host_canonical (host);

  for (guint i = 0; i < guard->hosts->len; i++)
    if (g_str_equal (guard->hosts->pdata[i], h))
      return;
  g_ptr_array_add (guard->hosts, g_steal_pointer (&h));
}

static gboolean
unspecified (const gchar * host)
{
  g_autoptr (GInetAddress) a = g_inet_address_new_from_string (host);

  return a && g_inet_address_get_is_any (a);
}

/**
 * drtc_http_guard_new:
 * @bound_host: the address listened on
 * @extra_hosts: (nullable): --allowed-host values (host names, no port)
 * @origins: (nullable): --allowed-origin values
 * @with_comfyui: whether ComfyUI's origins are allowed too
 *
 * Returns: (transfer full): the guard, or NULL when an origin is not one
 */
DrtcHttpGuard *
drtc_http_guard_new (const gchar * bound_host, const gchar * const *extra_hosts,
    const gchar * const *origins, gboolean with_comfyui, GError ** error)
{
  g_autoptr (DrtcHttpGuard) guard = g_new0 (DrtcHttpGuard, 1);

  guard->hosts = g_ptr_array_new_with_free_func (g_free);
  guard->origins = g_ptr_array_new_with_free_func (g_free);
  add_host (guard, "127.0.0.1");
  add_host (guard, "localhost");
  add_host (guard, "::1");
  if (bound_host && !unspecified (bound_host))
    add_host (guard, bound_host);
  for (guint i = 0; extra_hosts && extra_hosts[i]; i++) {
    if (!*extra_hosts[i] || strchr (extra_hosts[i], '/')
        || (strchr (extra_hosts[i], ':') && !g_hostname_is_ip_address
            (extra_hosts[i]))) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "--allowed-host '%s' must be a host name or address, no port",
          extra_hosts[i]);
      return NULL;
    }
    add_host (guard, extra_hosts[i]);
  }
  for (guint i = 0; origins && origins[i]; i++) {
    gchar *o = origin_canonical (origins[i]);

    if (!o) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "--allowed-origin '%s' must be scheme://host[:port]", origins[i]);
      return NULL;
    }
    g_ptr_array_add (guard->origins, o);
  }
  if (with_comfyui) {
    g_ptr_array_add (guard->origins, g_strdup_printf ("http://127.0.0.1:%d",
            COMFYUI_PORT));
    g_ptr_array_add (guard->origins, g_strdup_printf ("http://localhost:%d",
            COMFYUI_PORT));
  }
  guard->n_configured = guard->origins->len;
  return g_steal_pointer (&guard);
}

void
drtc_http_guard_free (DrtcHttpGuard * guard)
{
  if (!guard)
    return;
  g_ptr_array_unref (guard->hosts);
  g_ptr_array_unref (guard->origins);
  g_free (guard);
}

/* Once the port is known: this server's own origins (a page it serves). */
void
drtc_http_guard_set_port (DrtcHttpGuard * guard, guint port)
{
  guard->port = port;
  g_ptr_array_set_size (guard->origins, guard->n_configured);
  for (guint i = 0; i < guard->hosts->len; i++)
    g_ptr_array_add (guard->origins, g_strdup_printf ("http://%s:%u",
            (const gchar *) guard->hosts->pdata[i], port));
}

static gboolean
host_allowed (DrtcHttpGuard * guard, const gchar * value)
{
  g_autofree gchar *name = NULL;
  const gchar *port = NULL;
  const gchar *end;

  if (value[0] == '[') {
    end = strchr (value, ']');
    if (!end)
      return FALSE;
    name = g_ascii_strdown (value, end + 1 - value);
    port = end[1] == ':' ? end + 2 : (end[1] ? "" : NULL);
  } else {
    end = strchr (value, ':');
    name = g_ascii_strdown (value, end ? end - value : -1);
    port = end ? end + 1 : NULL;
  }
  /* the name is what a rebinding attack changes; a port, when there is
   * one, must be ours */
  if (port && (!g_ascii_string_to_unsigned (port, 10, 1, 65535, NULL, NULL)
          || g_ascii_strtoull (port, NULL, 10) != guard->port))
    return FALSE;
  for (guint i = 0; i < guard->hosts->len; i++)
    if (g_str_equal (guard->hosts->pdata[i], name))
      return TRUE;
  return FALSE;
}

static gboolean
origin_allowed (DrtcHttpGuard * guard, const gchar * origin)
{
  g_autofree gchar *o = origin_canonical (origin);

  for (guint i = 0; o && i < guard->origins->len; i++)
    if (g_str_equal (guard->origins->pdata[i], o))
      return TRUE;
  return FALSE;
}

static gboolean
state_changing (const gchar * method)
{
  return g_str_equal (method, SOUP_METHOD_POST)
      || g_str_equal (method, SOUP_METHOD_PUT)
      || g_str_equal (method, "PATCH")
      || g_str_equal (method, SOUP_METHOD_DELETE);
}

static gboolean
has_body (SoupMessageHeaders * h)
{
  SoupEncoding enc = soup_message_headers_get_encoding (h);

  if (enc == SOUP_ENCODING_CONTENT_LENGTH)
    return soup_message_headers_get_content_length (h) > 0;
  return enc != SOUP_ENCODING_NONE;
}

/**
 * drtc_http_guard_check:
 * @body_types: the media types a state-changing request may send its body
 *   as on this route (NULL-terminated)
 * @status: (out): the status to answer when refused
 *
 * Returns: (nullable): NULL when @msg may be served, else why not
 */
const gchar *
drtc_http_guard_check (DrtcHttpGuard * guard, SoupServerMessage * msg,
    const gchar * const *body_types, guint * status)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const gchar *host = soup_message_headers_get_one (h, "Host");
  const gchar *origin = soup_message_headers_get_one (h, "Origin");
  const gchar *ct = soup_message_headers_get_content_type (h, NULL);

  if (host && !host_allowed (guard, host)) {
    *status = DRTC_STATUS_MISDIRECTED_REQUEST;
    return "this server does not answer for that Host (see --allowed-host)";
  }
  if (origin && !origin_allowed (guard, origin)) {
    *status = SOUP_STATUS_FORBIDDEN;
    return "requests from this Origin are refused (see --allowed-origin)";
  }
  if (!state_changing (soup_server_message_get_method (msg)))
    return NULL;
  if (ct ? !g_strv_contains (body_types, ct) : has_body (h)) {
    *status = DRTC_STATUS_UNSUPPORTED_MEDIA_TYPE;
    return g_str_equal (body_types[0], "application/json") ?
        "the request body must be sent as Content-Type: application/json" :
        "the request body's Content-Type is not one this route takes";
  }
  return NULL;
}

/**
 * drtc_http_guard_cors:
 * @expose: (nullable): Access-Control-Expose-Headers
 *
 * Adds the CORS headers when @msg comes from an allowed Origin; a preflight
 * (OPTIONS) gets the methods and headers allowed.
 *
 * Returns: whether it did
 */
gboolean
drtc_http_guard_cors (DrtcHttpGuard * guard, SoupServerMessage * msg,
    const gchar * expose)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  const gchar *origin = soup_message_headers_get_one (req, "Origin");

  if (!origin || !origin_allowed (guard, origin))
    return FALSE;
  soup_message_headers_replace (h, "Access-Control-Allow-Origin", origin);
  soup_message_headers_append (h, "Vary", "Origin");
  if (expose)
    soup_message_headers_replace (h, "Access-Control-Expose-Headers", expose);
  if (!g_str_equal (soup_server_message_get_method (msg), SOUP_METHOD_OPTIONS))
    return TRUE;
  soup_message_headers_replace (h, "Access-Control-Allow-Methods",
      "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT");
  soup_message_headers_replace (h, "Access-Control-Allow-Headers",
      "Authorization, Content-Type, If-Match");
  soup_message_headers_replace (h, "Access-Control-Max-Age", "600");
  return TRUE;
}

/* Whether libsoup would read a body before answering: one is announced
 * and the client does not wait for a 100 Continue (with Expect:
 * 100-continue libsoup answers at once and the body is never sent). */
static gboolean
body_would_be_read (SoupServerMessage * msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);

  return has_body (h)
      && !(soup_message_headers_get_expectations (h) &
      SOUP_EXPECTATION_CONTINUE);
}

/* @mid_body: called while the body comes (got-chunk), not from the early
 * handler */
static void
answer_now (SoupServerMessage * msg, gboolean mid_body)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  soup_message_body_set_accumulate (body, FALSE);
  soup_message_body_truncate (body);
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Connection", "close");
  /* on a connection not from drtc_http_listen, libsoup reads the body
   * away first (not kept), then answers */
  if (mid_body || body_would_be_read (msg))
    drtc_http_listen_answer_now (msg);
}

/**
 * drtc_http_guard_answer_now:
 *
 * For a request whose answer an early handler has set: the answer goes out
 * now, the body is not read, and the connection closes after the answer,
 * so a kept-alive connection never reads the rest of a body as a next
 * request. @msg may be gone on return.
 */
void
drtc_http_guard_answer_now (SoupServerMessage * msg)
{
  answer_now (msg, FALSE);
}

/**
 * drtc_http_guard_refuse:
 *
 * Answers @msg from an early handler, before its body is read (see
 * drtc_http_guard_answer_now()).
 */
void
drtc_http_guard_refuse (SoupServerMessage * msg, guint status,
    const gchar * detail, DrtcGuardReplyFunc reply)
{
  reply (msg, status, detail);
  answer_now (msg, FALSE);
}

typedef struct
{
  goffset limit;
  goffset count;                /* bytes come so far */
  DrtcGuardReplyFunc reply;
} Limit;

static void
refuse_over (SoupServerMessage * msg, const Limit * l, gboolean mid_body)
{
  g_autofree gchar *detail = g_strdup_printf ("request body over %"
      G_GOFFSET_FORMAT " bytes", l->limit);

  l->reply (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, detail);
  answer_now (msg, mid_body);
}

static void
limit_free (gpointer data, GClosure * closure)
{
  g_free (data);
}

/* A body without Content-Length (chunked) is counted as it comes, and
 * refused as soon as the count passes the limit: the rest is not read. */
static void
on_body_chunk (SoupServerMessage * msg, GBytes * chunk, gpointer data)
{
  Limit *l = data;

  l->count += g_bytes_get_size (chunk);
  if (soup_server_message_get_status (msg) == 0 && l->count > l->limit)
    refuse_over (msg, l, TRUE);
}

/**
 * drtc_http_guard_limit_body:
 *
 * From an early handler: a body declared over @limit bytes is refused
 * (413) before it is read; one that comes in chunks, as soon as it passes.
 */
void
drtc_http_guard_limit_body (SoupServerMessage * msg, goffset limit,
    DrtcGuardReplyFunc reply)
{
  Limit l = { limit, 0, reply };
  goffset len = soup_message_headers_get_content_length
      (soup_server_message_get_request_headers (msg));

  if (len > limit) {
    refuse_over (msg, &l, FALSE);
    return;
  }
  g_signal_connect_data (msg, "got-chunk", G_CALLBACK (on_body_chunk),
      g_memdup2 (&l, sizeof l), limit_free, 0);
}
