/* daydream-rtc: tests of common/drtc-http.c over real HTTP on 127.0.0.1 */
#include "drtc-http.h"
#include "drtc-daydream.h"

#include <string.h>

/* ---- Link headers, URL helpers ---- */

static void
test_links (void)
{
  static const struct
  {
    const gchar *header;
    const gchar *expected;      /* servers joined by " ", "" for none */
  } cases[] = {
    {"<stun:stun.example.net>; rel=\"ice-server\"", "stun://stun.example.net"},
    {"<stun:stun.example.net:3478>; rel=ice-server",
        "stun://stun.example.net:3478"},
    {"<turn:turn.example.net?transport=udp>; rel=\"ice-server\"; "
          "username=\"user\"; credential=\"myPassword\"; "
          "credential-type=\"password\"",
        "turn://user:myPassword@turn.example.net?transport=udp"},
    {"<turns:t.example.net:443>; rel=\"ice-server\"; username=\"a:b@c\"; "
          "credential=\"p w\"", "turns://a%3Ab%40c:p%20w@t.example.net:443"},
    {"<stun:a.example>; rel=\"ice-server\", <stun:b.example>; "
          "rel=\"ice-server\"", "stun://a.example stun://b.example"},
    /* ignored, safely */
    {"<turn:t.example>; rel=\"ice-server\"", ""},       /* no credentials */
    {"<http://x.example>; rel=\"ice-server\"", ""},     /* not STUN/TURN */
    {"<stun:x.example>; rel=\"next\"", ""},
    {"<stun:x.example; rel=\"ice-server\"", ""},        /* no closing > */
    {"stun:x.example; rel=\"ice-server\"", ""},
    {"<>; rel=\"ice-server\"", ""},
    {"", ""},
    {";;;,,,<<>>", ""},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    SoupMessageHeaders *h = soup_message_headers_new
        (SOUP_MESSAGE_HEADERS_RESPONSE);
    g_autoptr (GPtrArray) servers = NULL;
    g_autofree gchar *joined = NULL;

    soup_message_headers_append (h, "Link", cases[i].header);
    servers = drtc_http_ice_servers_from_links (h);
    g_ptr_array_add (servers, NULL);
    joined = g_strjoinv (" ", (gchar **) servers->pdata);
    g_assert_cmpstr (joined, ==, cases[i].expected);
    soup_message_headers_unref (h);
  }
  {
    g_autoptr (GPtrArray) none = drtc_http_ice_servers_from_links (NULL);

    g_assert_cmpuint (none->len, ==, 0);
  }
}

static void
test_links_over_several_headers (void)
{
  SoupMessageHeaders *h = soup_message_headers_new
      (SOUP_MESSAGE_HEADERS_RESPONSE);
  g_autoptr (GPtrArray) servers = NULL;

  soup_message_headers_append (h, "Link", "<stun:a.example>; rel=ice-server");
  soup_message_headers_append (h, "Link", "</next>; rel=next");
  soup_message_headers_append (h, "Link", "<stun:b.example>; rel=ice-server");
  servers = drtc_http_ice_servers_from_links (h);
  g_assert_cmpuint (servers->len, ==, 2);
  soup_message_headers_unref (h);
}

static void
test_resolve_and_redact (void)
{
  g_autoptr (GUri) base = g_uri_parse ("http://h.example:8896/live/k/whip",
      G_URI_FLAGS_ENCODED, NULL);
  gchar *s;

  s = drtc_http_resolve (base, "/live/k/whip/abc");
  g_assert_cmpstr (s, ==, "http://h.example:8896/live/k/whip/abc");
  g_free (s);
  s = drtc_http_resolve (base, "whip/abc");
  g_assert_cmpstr (s, ==, "http://h.example:8896/live/k/whip/abc");
  g_free (s);
  s = drtc_http_resolve (base, "https://other.example/r/1");
  g_assert_cmpstr (s, ==, "https://other.example/r/1");
  g_free (s);
  g_assert_null (drtc_http_resolve (base, "ftp://x/y"));
  g_assert_null (drtc_http_resolve (base, ""));
  g_assert_null (drtc_http_resolve (NULL, "/x"));

  s = drtc_http_redact_url ("https://gw.example/live/stk_SECRET/whip");
  g_assert_cmpstr (s, ==, "https://gw.example/...");
  g_free (s);
  s = drtc_http_redact_url ("http://127.0.0.1:8896/live/stk_SECRET/whip");
  g_assert_cmpstr (s, ==, "http://127.0.0.1:8896/...");
  g_free (s);
  s = drtc_http_redact_url ("not a url");
  g_assert_cmpstr (s, ==, "(invalid URL)");
  g_free (s);

  {
    static const struct
    {
      const gchar *url;
      gboolean http;
    } table[] = {
      {"http://127.0.0.1:8896/whip", TRUE},
      {"HTTPS://gw.example/whep", TRUE},
      {"ftp://x/y", FALSE},
      {"stun://h:3478", FALSE},
      {"/relative", FALSE},
    };

    for (guint i = 0; i < G_N_ELEMENTS (table); i++) {
      g_autoptr (GUri) uri = g_uri_parse (table[i].url, G_URI_FLAGS_NONE, NULL);

      g_assert_cmpint (drtc_http_uri_is_http (uri), ==, table[i].http);
    }
    g_assert_false (drtc_http_uri_is_http (NULL));
  }
}

/* ---- DrtcHttp against a SoupServer on 127.0.0.1 ---- */

typedef struct
{
  SoupServer *server;
  GMainContext *context;
  GThread *thread;
  GMainLoop *loop;
  gchar *base;
  GMutex lock;
  gchar *seen_auth, *seen_body, *seen_method;
  gchar *redirect_to;           /* where /away sends a 307 */
  guint hits;
} Server;

static void
on_request (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer data)
{
  Server *srv = data;
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);

  g_mutex_lock (&srv->lock);
  srv->hits++;
  g_free (srv->seen_auth);      /* of the last request */
  srv->seen_auth = g_strdup (soup_message_headers_get_one
      (soup_server_message_get_request_headers (msg), "Authorization"));
  g_mutex_unlock (&srv->lock);
  if (g_str_equal (path, "/away") || g_str_equal (path, "/v1/streams")) {
    if (srv->redirect_to) {
      soup_message_headers_replace (h, "Location", srv->redirect_to);
      soup_server_message_set_status (msg, 307, NULL);
    } else {
      soup_server_message_set_status (msg, 201, NULL);
      soup_server_message_set_response (msg, "application/json",
          SOUP_MEMORY_STATIC, "{\"id\": \"str_t\"}", 15);
    }
  } else if (g_str_equal (path, "/redirect")) {
    soup_message_headers_replace (h, "Location", "/target");
    soup_server_message_set_status (msg, 307, NULL);
  } else if (g_str_equal (path, "/loop")) {
    soup_message_headers_replace (h, "Location", "/loop");
    soup_server_message_set_status (msg, 307, NULL);
  } else if (g_str_equal (path, "/target")) {
    SoupMessageBody *body = soup_server_message_get_request_body (msg);
    g_autoptr (GBytes) bytes = soup_message_body_flatten (body);

    g_mutex_lock (&srv->lock);
    srv->seen_method = g_strdup (soup_server_message_get_method (msg));
    srv->seen_body = g_strndup (g_bytes_get_data (bytes, NULL),
        g_bytes_get_size (bytes));
    g_mutex_unlock (&srv->lock);
    soup_message_headers_replace (h, "Location", "target/1");
    soup_server_message_set_status (msg, 201, NULL);
    soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC,
        "made", 4);
  } else if (g_str_equal (path, "/resource")) {
    soup_server_message_set_status (msg, 200, NULL);
  } else if (g_str_equal (path, "/stall")) {
    soup_server_message_pause (msg);    /* never answered */
  } else {
    soup_server_message_set_status (msg, 404, NULL);
  }
}

static gpointer
server_thread (gpointer data)
{
  Server *srv = data;

  g_main_context_push_thread_default (srv->context);
  g_main_loop_run (srv->loop);
  g_main_context_pop_thread_default (srv->context);
  return NULL;
}

/* @host: a loopback address (127.0.0.2 is another host for redirects) */
static Server *
server_start_on (const gchar * host)
{
  Server *srv = g_new0 (Server, 1);
  g_autoptr (GInetAddress) address = g_inet_address_new_from_string (host);
  g_autoptr (GSocketAddress) where = g_inet_socket_address_new (address, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  GSList *listeners;
  g_autoptr (GError) err = NULL;

  g_mutex_init (&srv->lock);
  srv->context = g_main_context_new ();
  srv->loop = g_main_loop_new (srv->context, FALSE);
  g_main_context_push_thread_default (srv->context);
  srv->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (srv->server, NULL, on_request, srv, NULL);
  g_assert_true (soup_server_listen (srv->server, where, 0, &err));
  g_main_context_pop_thread_default (srv->context);
  /* the port from the socket: soup_server_get_uris leaks an address for a
   * server listening on a given address (libsoup 3.2) */
  listeners = soup_server_get_listeners (srv->server);
  bound = g_socket_get_local_address (listeners->data, &err);
  g_assert_no_error (err);
  g_slist_free (listeners);
  srv->base = g_strdup_printf ("http://%s:%u", host,
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  srv->thread = g_thread_new ("server", server_thread, srv);
  return srv;
}

static Server *
server_start (void)
{
  return server_start_on ("127.0.0.1");
}

/* on the server's thread: its sources belong to that context */
static gboolean
shut_down (gpointer data)
{
  Server *srv = data;

  soup_server_disconnect (srv->server);
  g_clear_object (&srv->server);
  g_main_loop_quit (srv->loop);
  return G_SOURCE_REMOVE;
}

static void
server_stop (Server * srv)
{
  g_main_context_invoke (srv->context, shut_down, srv);
  g_thread_join (srv->thread);
  g_main_context_push_thread_default (srv->context);
  while (g_main_context_iteration (srv->context, FALSE));
  g_main_context_pop_thread_default (srv->context);
  g_main_loop_unref (srv->loop);
  g_main_context_unref (srv->context);
  g_free (srv->base);
  g_free (srv->seen_auth);
  g_free (srv->seen_body);
  g_free (srv->seen_method);
  g_free (srv->redirect_to);
  g_mutex_clear (&srv->lock);
  g_free (srv);
}

typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean done;
  guint status;
  gchar *location;
  GError *error;
} Result;

static void
on_response (DrtcHttpResponse * response, const GError * error, gpointer data)
{
  Result *r = data;

  g_mutex_lock (&r->lock);
  if (response) {
    r->status = response->status;
    r->location = drtc_http_resolve (response->uri,
        soup_message_headers_get_one (response->headers, "Location"));
  } else {
    r->error = g_error_copy (error);
  }
  r->done = TRUE;
  g_cond_signal (&r->cond);
  g_mutex_unlock (&r->lock);
}

static void
send_and_wait (DrtcHttp * http, const DrtcHttpRequest * req, Result * r)
{
  memset (r, 0, sizeof (*r));
  g_mutex_init (&r->lock);
  g_cond_init (&r->cond);
  drtc_http_send (http, req, on_response, r, NULL);
  g_mutex_lock (&r->lock);
  while (!r->done)
    g_cond_wait (&r->cond, &r->lock);
  g_mutex_unlock (&r->lock);
}

static void
result_clear (Result * r)
{
  g_free (r->location);
  g_clear_error (&r->error);
  g_mutex_clear (&r->lock);
  g_cond_clear (&r->cond);
}

static void
test_redirect_keeps_auth_method_and_body (void)
{
  Server *srv = server_start ();
  DrtcHttp *http = drtc_http_new ("test-http");
  g_autofree gchar *url = g_strconcat (srv->base, "/redirect", NULL);
  g_autofree gchar *expected = g_strconcat (srv->base, "/target/1", NULL);
  g_autoptr (GBytes) body = g_bytes_new_static ("v=0 offer", 9);
  DrtcHttpRequest req = { "POST", url, "tok", "application/sdp", body,
    NULL, 5, 10
  };
  Result r;

  send_and_wait (http, &req, &r);
  g_assert_no_error (r.error);
  g_assert_cmpuint (r.status, ==, 201);
  /* the relative Location resolves against the URL that answered */
  g_assert_cmpstr (r.location, ==, expected);
  g_assert_cmpstr (srv->seen_auth, ==, "Bearer tok");
  g_assert_cmpstr (srv->seen_method, ==, "POST");
  g_assert_cmpstr (srv->seen_body, ==, "v=0 offer");
  result_clear (&r);
  drtc_http_free (http);
  server_stop (srv);
}

static void
test_redirect_loop_is_bounded (void)
{
  Server *srv = server_start ();
  DrtcHttp *http = drtc_http_new ("test-http");
  g_autofree gchar *url = g_strconcat (srv->base, "/loop", NULL);
  DrtcHttpRequest req = { "GET", url, NULL, NULL, NULL, NULL, 5, 3 };
  Result r;

  send_and_wait (http, &req, &r);
  g_assert_nonnull (r.error);
  g_assert_nonnull (strstr (r.error->message, "redirects"));
  g_assert_cmpuint (srv->hits, ==, 4);  /* the first request + 3 */
  result_clear (&r);
  drtc_http_free (http);
  server_stop (srv);
}

static void
test_timeout_and_bad_url (void)
{
  Server *srv = server_start ();
  DrtcHttp *http = drtc_http_new ("test-http");
  g_autofree gchar *url = g_strconcat (srv->base, "/stall", NULL);
  DrtcHttpRequest req = { "GET", url, NULL, NULL, NULL, NULL, 1, 0 };
  DrtcHttpRequest bad = { "GET", "not a url", NULL, NULL, NULL, NULL, 1, 0 };
  Result r;

  send_and_wait (http, &req, &r);
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  result_clear (&r);
  send_and_wait (http, &bad, &r);
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  result_clear (&r);
  drtc_http_free (http);
  server_stop (srv);
}

static void
test_free_cancels_in_flight (void)
{
  Server *srv = server_start ();
  DrtcHttp *http = drtc_http_new ("test-http");
  g_autofree gchar *url = g_strconcat (srv->base, "/stall", NULL);
  DrtcHttpRequest req = { "GET", url, NULL, NULL, NULL, NULL, 60, 0 };
  Result r = { 0 };

  g_mutex_init (&r.lock);
  g_cond_init (&r.cond);
  drtc_http_send (http, &req, on_response, &r, NULL);
  while (!srv->hits)
    g_thread_yield ();
  drtc_http_free (http);        /* must not wait the 60 s */
  g_assert_true (r.done);
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  result_clear (&r);
  server_stop (srv);
}

static void
test_send_and_wait (void)
{
  Server *srv = server_start ();
  DrtcHttp *http = drtc_http_new ("test-http");
  g_autofree gchar *url = g_strconcat (srv->base, "/resource", NULL);
  g_autofree gchar *stall = g_strconcat (srv->base, "/stall", NULL);
  DrtcHttpRequest req = { "DELETE", url, NULL, NULL, NULL, NULL, 5, 0 };
  DrtcHttpRequest slow = { "GET", stall, NULL, NULL, NULL, NULL, 30, 0 };
  guint status = 0;
  gint64 start;
  guint i;

  /* an answer that comes before the caller waits must not be missed: a
   * lost wakeup would show as a call that runs into its 5 s deadline */
  for (i = 0; i < 100; i++) {
    start = g_get_monotonic_time ();
    g_assert_true (drtc_http_send_and_wait (http, &req, 5, &status));
    g_assert_cmpuint (status, ==, 200);
    g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  }
  g_assert_cmpuint (srv->hits, ==, 100);

  /* no answer: the caller gets control back at the deadline, the request
   * goes on and is cancelled safely when the client is freed */
  start = g_get_monotonic_time ();
  g_assert_false (drtc_http_send_and_wait (http, &slow, 1, &status));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, G_USEC_PER_SEC);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 20 * G_USEC_PER_SEC);
  drtc_http_free (http);
  server_stop (srv);
}

/* ---- the redirect policy (issue 15, section 4) ---- */

static void
test_redirect_policy (void)
{
  const struct
  {
    const gchar *from, *to;
    DrtcHttpRedirect token, key;        /* FOLLOWS, SAME_ORIGIN */
  } cases[] = {
    /* same origin: both keep their Authorization */
    {"https://api.daydream.live/v1/streams", "https://api.daydream.live/v2",
        DRTC_HTTP_REDIRECT_KEEP_AUTH, DRTC_HTTP_REDIRECT_KEEP_AUTH},
    {"https://API.daydream.live/a", "https://api.daydream.live:443/b",
        DRTC_HTTP_REDIRECT_KEEP_AUTH, DRTC_HTTP_REDIRECT_KEEP_AUTH},
    {"http://127.0.0.1/a", "http://127.0.0.1:80/b",
        DRTC_HTTP_REDIRECT_KEEP_AUTH, DRTC_HTTP_REDIRECT_KEEP_AUTH},
    /* another host, port or scheme: a stream token follows, a key not */
    {"https://api.daydream.live/whip", "https://eu.gateway.example/whip",
        DRTC_HTTP_REDIRECT_KEEP_AUTH, DRTC_HTTP_REDIRECT_DROP_AUTH},
    {"http://127.0.0.1:8896/a", "http://127.0.0.1:8897/a",
        DRTC_HTTP_REDIRECT_KEEP_AUTH, DRTC_HTTP_REDIRECT_DROP_AUTH},
    {"http://127.0.0.1/a", "https://127.0.0.1/a",
        DRTC_HTTP_REDIRECT_KEEP_AUTH, DRTC_HTTP_REDIRECT_DROP_AUTH},
    /* https -> http: refused for everyone, same host or not */
    {"https://api.daydream.live/a", "http://api.daydream.live/a",
        DRTC_HTTP_REDIRECT_REFUSE, DRTC_HTTP_REDIRECT_REFUSE},
    {"https://api.daydream.live/a", "http://evil.example/a",
        DRTC_HTTP_REDIRECT_REFUSE, DRTC_HTTP_REDIRECT_REFUSE},
    {"https://api.daydream.live/a", "ftp://api.daydream.live/a",
        DRTC_HTTP_REDIRECT_REFUSE, DRTC_HTTP_REDIRECT_REFUSE},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GUri) from = g_uri_parse (cases[i].from, G_URI_FLAGS_NONE, NULL);
    g_autoptr (GUri) to = g_uri_parse (cases[i].to, G_URI_FLAGS_NONE, NULL);

    g_test_message ("%s -> %s", cases[i].from, cases[i].to);
    g_assert_cmpint (drtc_http_redirect_policy (from, to,
            DRTC_HTTP_BEARER_FOLLOWS), ==, cases[i].token);
    g_assert_cmpint (drtc_http_redirect_policy (from, to,
            DRTC_HTTP_BEARER_SAME_ORIGIN), ==, cases[i].key);
  }
}

/* A on 127.0.0.1 answers 307 to B on 127.0.0.2 (another host). */
static void
start_two_hosts (Server ** a, Server ** b)
{
  *b = server_start_on ("127.0.0.2");
  *a = server_start ();
  (*a)->redirect_to = g_strconcat ((*b)->base, "/v1/streams", NULL);
}

/* A stream token follows a 307 to another host; an account key does not
 * (it did, before: the request went on with it). */
static void
test_redirect_to_another_host (void)
{
  const struct
  {
    DrtcHttpBearerScope scope;
    const gchar *bearer, *seen_there;
  } cases[] = {
    {DRTC_HTTP_BEARER_FOLLOWS, "stream-token", "Bearer stream-token"},
    {DRTC_HTTP_BEARER_SAME_ORIGIN, "account-key", NULL},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    Server *a, *b;
    DrtcHttp *http = drtc_http_new ("test-http");
    g_autofree gchar *url = NULL;
    g_autofree gchar *seen_home = NULL;
    DrtcHttpRequest req = { 0 };
    Result r;

    start_two_hosts (&a, &b);
    url = g_strconcat (a->base, "/away", NULL);
    seen_home = g_strconcat ("Bearer ", cases[i].bearer, NULL);
    req.method = "POST";
    req.url = url;
    req.bearer = cases[i].bearer;
    req.bearer_scope = cases[i].scope;
    req.timeout_s = 5;
    req.max_redirects = 3;
    send_and_wait (http, &req, &r);
    g_assert_no_error (r.error);
    g_assert_cmpuint (r.status, ==, 201);
    g_assert_cmpstr (a->seen_auth, ==, seen_home);
    g_assert_cmpuint (b->hits, ==, 1);
    g_assert_cmpstr (b->seen_auth, ==, cases[i].seen_there);
    result_clear (&r);
    drtc_http_free (http);
    server_stop (a);
    server_stop (b);
  }
}

typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean done;
  gchar *id;
  GError *error;
} Created;

static void
on_created (gpointer result, const GError * error, gpointer data)
{
  Created *c = data;
  DrtcDaydreamStream *s = result;

  g_mutex_lock (&c->lock);
  c->id = s ? g_strdup (s->id) : NULL;
  c->error = error ? g_error_copy (error) : NULL;
  c->done = TRUE;
  g_cond_signal (&c->cond);
  g_mutex_unlock (&c->lock);
}

/* The Daydream client's own calls: the key is not sent to the host a 307
 * names (it was, with every retry, before) */
static void
test_daydream_key_not_sent_to_another_host (void)
{
  Server *a, *b;
  DrtcHttp *http = drtc_http_new ("test-http");
  DrtcDaydreamClient *client;
  g_autoptr (JsonObject) params = json_object_new ();
  Created c = { 0 };

  start_two_hosts (&a, &b);
  client = drtc_daydream_client_new (http, a->base, "sk_ACCOUNT");
  g_mutex_init (&c.lock);
  g_cond_init (&c.cond);
  drtc_daydream_create_stream (client, NULL, params, NULL, on_created, &c,
      NULL);
  g_mutex_lock (&c.lock);
  while (!c.done)
    g_cond_wait (&c.cond, &c.lock);
  g_mutex_unlock (&c.lock);
  g_assert_no_error (c.error);
  g_assert_cmpstr (c.id, ==, "str_t");
  g_assert_cmpstr (a->seen_auth, ==, "Bearer sk_ACCOUNT");
  g_assert_cmpuint (b->hits, ==, 1);
  g_assert_null (b->seen_auth);
  g_free (c.id);
  g_mutex_clear (&c.lock);
  g_cond_clear (&c.cond);
  drtc_http_free (http);
  drtc_daydream_client_free (client);
  server_stop (a);
  server_stop (b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/http/links/table", test_links);
  g_test_add_func ("/http/links/several-headers",
      test_links_over_several_headers);
  g_test_add_func ("/http/url/resolve-redact", test_resolve_and_redact);
  g_test_add_func ("/http/redirect/keeps-auth",
      test_redirect_keeps_auth_method_and_body);
  g_test_add_func ("/http/redirect/bounded", test_redirect_loop_is_bounded);
  g_test_add_func ("/http/redirect/policy", test_redirect_policy);
  g_test_add_func ("/http/redirect/another-host",
      test_redirect_to_another_host);
  g_test_add_func ("/http/redirect/daydream-key",
      test_daydream_key_not_sent_to_another_host);
  g_test_add_func ("/http/timeout", test_timeout_and_bad_url);
  g_test_add_func ("/http/free-cancels", test_free_cancels_in_flight);
  g_test_add_func ("/http/send-and-wait", test_send_and_wait);
  return g_test_run ();
}
