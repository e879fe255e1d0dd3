/* daydream-rtc: tests of whepsrc that need no WebRTC peer (gst/gstwhepsrc.c)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Settings, state changes and the HTTP side of the WHEP client against a
 * real SoupServer on 127.0.0.1 that answers from a script (503, 404, 429,
 * 401, a bad answer...): retries and their waits, errors and their
 * details, tokens kept out of logs. webrtcbin really makes its offer
 * (gathering on 127.0.0.1 only); no media flows, so nothing is decoded and
 * the suite runs under valgrind. Sessions with real peers are in
 * tests/interop/test_whepsrc.py.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/check/gstcheck.h>

#include "check-util.h"
#include <libsoup/soup.h>

#define WAIT_S 30.0

/* ---- a scripted WHEP endpoint ---- */

typedef struct
{
  guint status;
  const gchar *retry_after;
  const gchar *content_type;
  const gchar *body;
  const gchar *location;
} Reply;

typedef struct
{
  SoupServer *server;
  guint port;
  const Reply *script;
  guint n_script;
  guint posts;
  GPtrArray *auth;              /* Authorization of each request */
} Endpoint;

static void
on_request (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer data)
{
  Endpoint *ep = data;
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  const gchar *auth = soup_message_headers_get_one
      (soup_server_message_get_request_headers (msg), "Authorization");
  const Reply *r;

  g_ptr_array_add (ep->auth, g_strdup (auth ? auth : ""));
  if (!g_str_equal (soup_server_message_get_method (msg), "POST")) {
    soup_server_message_set_status (msg, 200, NULL);
    return;
  }
  r = &ep->script[MIN (ep->posts, ep->n_script - 1)];
  ep->posts++;
  if (r->retry_after)
    soup_message_headers_replace (h, "Retry-After", r->retry_after);
  if (r->location)
    soup_message_headers_replace (h, "Location", r->location);
  soup_server_message_set_status (msg, r->status, NULL);
  soup_server_message_set_response (msg, r->content_type ? r->content_type :
      "text/plain", SOUP_MEMORY_STATIC, r->body ? r->body : "scripted",
      strlen (r->body ? r->body : "scripted"));
}

static Endpoint *
endpoint_new (const Reply * script, guint n)
{
  Endpoint *ep = g_new0 (Endpoint, 1);
  GSList *uris;
  GError *err = NULL;

  ep->script = script;
  ep->n_script = n;
  ep->auth = g_ptr_array_new_with_free_func (g_free);
  ep->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (ep->server, NULL, on_request, ep, NULL);
  fail_unless (soup_server_listen_local (ep->server, 0,
          SOUP_SERVER_LISTEN_IPV4_ONLY, &err), "listen: %s",
      err ? err->message : "");
  uris = soup_server_get_uris (ep->server);
  ep->port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return ep;
}

static void
endpoint_free (Endpoint * ep)
{
  soup_server_disconnect (ep->server);
  g_object_unref (ep->server);
  g_ptr_array_unref (ep->auth);
  g_free (ep);
}

/* ---- the element ---- */

static GstElement *
make_src (void)
{
  GstElement *src = gst_element_factory_make ("whepsrc", NULL);

  fail_unless (src != NULL, "whepsrc not found: is GST_PLUGIN_PATH set?");
  return gst_object_ref_sink (src);
}

/* whepsrc ! fakesink, pointed at @ep's /secret-path/whep */
static GstElement *
make_pipeline (Endpoint * ep, GstElement ** src_out)
{
  /* loopback needs no proxy; and libproxy, which GIO would ask, throws C++
   * exceptions that valgrind reports */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);

  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src = gst_element_factory_make ("whepsrc", "src");
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  gchar *url = g_strdup_printf ("http://127.0.0.1:%u/secret-path/whep",
      ep ? ep->port : 9);

  g_object_set (src, "whep-endpoint", url, "ice-local-addresses",
      "127.0.0.1", "retry-interval", 100, "max-retry-interval", 400,
      "timeout", 5, NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, sink, NULL);
  fail_unless (gst_element_link (src, sink));
  g_free (url);
  if (src_out)
    *src_out = src;
  return pipeline;
}

typedef gboolean (*MessagePred) (GstMessage * msg, gpointer data);

/* WAIT_S, scaled where tests run slower (under valgrind, the first
 * webrtcbin's DTLS key alone can take half a minute) */
static gdouble
wait_s (void)
{
  return WAIT_S * drtc_test_time_scale ();
}

/* Serves the endpoint (default context) while waiting for a message. */
static GstMessage *
wait_message (GstElement * pipeline, MessagePred pred, gpointer data)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  gint64 end = g_get_monotonic_time () + wait_s () * G_USEC_PER_SEC;
  GstMessage *found = NULL;

  while (!found && g_get_monotonic_time () < end) {
    GstMessage *msg;

    while (g_main_context_iteration (NULL, FALSE));
    msg = gst_bus_timed_pop (bus, 5 * GST_MSECOND);
    if (msg && pred (msg, data))
      found = msg;
    else if (msg)
      gst_message_unref (msg);
  }
  gst_object_unref (bus);
  fail_unless (found != NULL, "expected message never came");
  return found;
}

static gboolean
is_state (GstMessage * msg, gpointer data)
{
  const GstStructure *s = gst_message_get_structure (msg);

  return GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT
      && gst_structure_has_name (s, "whep-state")
      && g_strcmp0 (gst_structure_get_string (s, "state"), data) == 0;
}

static gboolean
is_error (GstMessage * msg, gpointer data)
{
  return GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR;
}

static guint
state_uint (GstMessage * msg, const gchar * field)
{
  guint v = G_MAXUINT;

  fail_unless (gst_structure_get_uint (gst_message_get_structure (msg), field,
          &v));
  return v;
}

static void
stop (GstElement * pipeline)
{
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (pipeline);
}

/* ---- settings ---- */

GST_START_TEST (test_defaults_and_write_only_token)
{
  GstElement *src = make_src ();
  GParamSpec *pspec;
  guint timeout, connect_timeout, latency, stall, media;
  gboolean decode, links;
  GstCaps *video = NULL, *audio = NULL;
  GstStructure *stats = NULL;
  gchar *addresses = NULL;

  g_object_get (src, "timeout", &timeout, "connect-timeout", &connect_timeout,
      "latency", &latency, "stall-timeout", &stall, "media-timeout", &media,
      "decode", &decode, "use-link-headers", &links, "video-caps", &video,
      "audio-caps", &audio, "stats", &stats, NULL);
  fail_unless_equals_int (timeout, 15);
  fail_unless_equals_int (connect_timeout, 120);
  fail_unless (latency <= 50);
  fail_unless_equals_int (stall, 1000);
  fail_unless_equals_int (media, 5000);
  fail_unless (decode);
  fail_unless (!links);
  fail_unless (audio == NULL, "audio is off by default");
  fail_unless_equals_int (gst_caps_get_size (video), 2);
  fail_unless (gst_structure_has_name (gst_caps_get_structure (video, 0),
          "video/x-h264"), "H.264 comes first");
  fail_unless_equals_string (gst_structure_get_string (stats, "state"), "idle");
  fail_unless (gst_structure_has_field (stats, "frames-decoded"));
  fail_unless (gst_structure_has_field (stats, "bitrate"));
  fail_unless (gst_structure_has_field (stats, "jitter"));
  fail_unless (gst_structure_has_field (stats, "packets-lost"));
  fail_unless (gst_structure_has_field (stats, "rtt"));
  gst_structure_free (stats);
  gst_caps_unref (video);
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (src), "auth-token");
  fail_unless (pspec && !(pspec->flags & G_PARAM_READABLE),
      "a token that can be read back ends up in logs");
  g_object_set (src, "ice-local-addresses", " 127.0.0.1 ,, 10.0.0.2 ", NULL);
  g_object_get (src, "ice-local-addresses", &addresses, NULL);
  fail_unless_equals_string (addresses, "127.0.0.1,10.0.0.2");
  g_free (addresses);
  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_settings_checked_at_ready)
{
  GstElement *src = make_src ();
  GstCaps *h265 = gst_caps_from_string ("video/x-h265");
  GstCaps *vp8;
  gchar *msg;

  msg = ready_error (src);
  fail_unless (strstr (msg, "endpoint") != NULL, "%s", msg);
  g_free (msg);
  g_object_set (src, "whep-endpoint", "ftp://127.0.0.1/whep", NULL);
  msg = ready_error (src);
  fail_unless (strstr (msg, "http") != NULL, "%s", msg);
  g_free (msg);
  g_object_set (src, "whep-endpoint", "http://127.0.0.1:9/whep",
      "stun-server", "127.0.0.1:3478", NULL);
  msg = ready_error (src);
  fail_unless (strstr (msg, "stun://") != NULL, "%s", msg);
  g_free (msg);
  g_object_set (src, "stun-server", NULL, "turn-server", "host:1", NULL);
  msg = ready_error (src);
  fail_unless (strstr (msg, "turn") != NULL, "%s", msg);
  g_free (msg);
  g_object_set (src, "turn-server", NULL, "ice-local-addresses", "lo0", NULL);
  msg = ready_error (src);
  fail_unless (strstr (msg, "lo0") != NULL, "%s", msg);
  g_free (msg);
  g_object_set (src, "ice-local-addresses", NULL, "retry-interval", 9000, NULL);
  msg = ready_error (src);
  fail_unless (strstr (msg, "retry-interval") != NULL, "%s", msg);
  g_free (msg);
  g_object_set (src, "retry-interval", 500, "video-caps", h265, NULL);
  msg = ready_error (src);
  fail_unless (strstr (msg, "video-caps") != NULL, "%s", msg);
  g_free (msg);
  /* all good: READY works, and makes no request */
  gst_caps_unref (h265);
  vp8 = gst_caps_from_string ("video/x-vp8");
  g_object_set (src, "video-caps", vp8, NULL);
  gst_caps_unref (vp8);
  fail_unless_equals_int (gst_element_set_state (src, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (gst_element_set_state (src, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (src);
}

GST_END_TEST;

/* ---- states without a server ---- */

GST_START_TEST (test_live_source_links_and_cycles_without_server)
{
  GstElement *src = NULL;
  GstElement *pipeline = make_pipeline (NULL, &src);
  GstQuery *query = gst_query_new_latency ();
  GstPad *pad = gst_element_get_static_pad (src, "src");
  gboolean live = FALSE;
  GstClockTime min = 0;
  gchar *endpoint = NULL;

  for (guint i = 0; i < 3; i++) {
    GstMessage *msg;

    fail_unless_equals_int (gst_element_set_state (pipeline,
            GST_STATE_PAUSED), GST_STATE_CHANGE_NO_PREROLL);
    /* the sink prerolls when a first buffer comes: ASYNC until then */
    fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
        GST_STATE_CHANGE_FAILURE);
    /* nothing listens on port 9: refused, so waiting for a retry */
    msg = wait_message (pipeline, is_state, (gpointer) "waiting");
    fail_unless_equals_int (state_uint (msg, "http-status"), 0);
    fail_unless (state_uint (msg, "retry-in-ms") >= 100);
    gst_message_unref (msg);
    fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
  }
  /* settings stay as they are while running; the endpoint may move */
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  g_object_set (src, "stun-server", "stun://127.0.0.1:3478", NULL);
  g_object_get (src, "stun-server", &endpoint, NULL);
  fail_unless (endpoint == NULL, "%s", endpoint);
  g_object_set (src, "whep-endpoint", "http://127.0.0.1:1/other", NULL);
  g_object_get (src, "whep-endpoint", &endpoint, NULL);
  fail_unless_equals_string (endpoint, "http://127.0.0.1:1/other");
  g_free (endpoint);
  {
    /* the session moved: refused at the new port too, waiting again */
    GstMessage *msg = wait_message (pipeline, is_state, (gpointer) "waiting");

    gst_message_unref (msg);
  }
  /* before any session a latency query is still answered: live */
  fail_unless (gst_pad_query (pad, query));
  gst_query_parse_latency (query, &live, &min, NULL);
  fail_unless (live);
  fail_unless_equals_uint64 (min, 50 * GST_MSECOND);
  gst_query_unref (query);
  gst_object_unref (pad);
  stop (pipeline);
}

GST_END_TEST;

/* ---- HTTP against the scripted endpoint ---- */

GST_START_TEST (test_retries_honour_retry_after_then_401_is_fatal)
{
  static const Reply script[] = {
    {503, "1"},
    {404},
    {401, NULL, "text/plain", "token rejected"},
  };
  Endpoint *ep = endpoint_new (script, G_N_ELEMENTS (script));
  GstElement *src = NULL;
  GstElement *pipeline = make_pipeline (ep, &src);
  GstMessage *msg;
  GError *err = NULL;
  const GstStructure *details = NULL;
  guint status = 0;

  g_object_set (src, "auth-token", "s3cret", NULL);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = wait_message (pipeline, is_state, (gpointer) "waiting");
  fail_unless_equals_int (state_uint (msg, "http-status"), 503);
  fail_unless (state_uint (msg, "retry-in-ms") >= 1000, "Retry-After: 1");
  gst_message_unref (msg);
  msg = wait_message (pipeline, is_state, (gpointer) "waiting");
  fail_unless_equals_int (state_uint (msg, "http-status"), 404);
  fail_unless (state_uint (msg, "retry-in-ms") < 1000, "no Retry-After");
  fail_unless_equals_int (state_uint (msg, "attempt"), 2);
  gst_message_unref (msg);
  msg = wait_message (pipeline, is_error, NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED), "%s", err->message);
  fail_unless (strstr (err->message, "401") != NULL, "%s", err->message);
  gst_message_parse_error_details (msg, &details);
  fail_unless (details && gst_structure_get_uint (details, "http-status-code",
          &status));
  fail_unless_equals_int (status, 401);
  g_error_free (err);
  gst_message_unref (msg);
  fail_unless_equals_int (ep->posts, 3);
  for (guint i = 0; i < ep->auth->len; i++)
    fail_unless_equals_string (g_ptr_array_index (ep->auth, i),
        "Bearer s3cret");
  stop (pipeline);
  endpoint_free (ep);
}

GST_END_TEST;

GST_START_TEST (test_too_many_viewers_waits_longer)
{
  static const Reply script[] = { {429}, {429, "0"}, {404} };
  Endpoint *ep = endpoint_new (script, G_N_ELEMENTS (script));
  GstElement *src = NULL;
  GstElement *pipeline = make_pipeline (ep, &src);
  GstMessage *msg;

  g_object_set (src, "busy-retry-interval", 300, NULL);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = wait_message (pipeline, is_state, (gpointer) "waiting");
  fail_unless_equals_int (state_uint (msg, "http-status"), 429);
  fail_unless (state_uint (msg, "retry-in-ms") >= 300);
  gst_message_unref (msg);
  msg = wait_message (pipeline, is_state, (gpointer) "waiting");
  fail_unless_equals_int (state_uint (msg, "http-status"), 429);
  fail_unless (state_uint (msg, "retry-in-ms") >= 600, "doubles");
  gst_message_unref (msg);
  msg = wait_message (pipeline, is_state, (gpointer) "waiting");
  fail_unless_equals_int (state_uint (msg, "http-status"), 404);
  fail_unless (state_uint (msg, "retry-in-ms") < 300, "404 waits less");
  gst_message_unref (msg);
  stop (pipeline);
  endpoint_free (ep);
}

GST_END_TEST;

GST_START_TEST (test_connect_timeout_is_an_error)
{
  static const Reply script[] = { {404, NULL, "text/plain", "not yet"} };
  Endpoint *ep = endpoint_new (script, 1);
  GstElement *src = NULL;
  GstElement *pipeline = make_pipeline (ep, &src);
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;
  guint limit = drtc_test_scaled_s (1);
  gchar *within = g_strdup_printf ("within %u s", limit);

  g_object_set (src, "connect-timeout", limit, NULL);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = wait_message (pipeline, is_error, NULL);
  gst_message_parse_error (msg, &err, &debug);
  fail_unless (strstr (err->message, within) != NULL, "%s", err->message);
  g_free (within);
  fail_unless (strstr (debug, "404") != NULL, "%s", debug);
  fail_unless (ep->posts >= 2, "it retried before giving up");
  g_error_free (err);
  g_free (debug);
  gst_message_unref (msg);
  stop (pipeline);
  endpoint_free (ep);
}

GST_END_TEST;

GST_START_TEST (test_unusable_answers_are_errors)
{
  static const Reply garbage[] = {
    {201, NULL, "application/sdp", "this is not SDP", "/whep/1"},
  };
  static const Reply no_location[] = {
    {406, NULL, "application/sdp", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
          "t=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\nc=IN IP4 0.0.0.0\r\n"
          "a=sendonly\r\na=mid:0\r\na=rtpmap:102 H264/90000\r\n"},
  };
  const Reply *scripts[] = { garbage, no_location };
  const gchar *why[] = { "v=0", "Location" };

  for (guint i = 0; i < G_N_ELEMENTS (scripts); i++) {
    Endpoint *ep = endpoint_new (scripts[i], 1);
    GstElement *pipeline = make_pipeline (ep, NULL);
    GstMessage *msg;
    GError *err = NULL;
    gchar *debug = NULL;

    gst_element_set_state (pipeline, GST_STATE_PLAYING);
    msg = wait_message (pipeline, is_error, NULL);
    gst_message_parse_error (msg, &err, &debug);
    fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
            GST_RESOURCE_ERROR_READ), "%s", err->message);
    fail_unless (strstr (err->message, "unusable SDP") != NULL, "%s",
        err->message);
    fail_unless (strstr (debug, why[i]) != NULL, "%s", debug);
    fail_unless_equals_int (ep->posts, 1);
    g_error_free (err);
    g_free (debug);
    gst_message_unref (msg);
    stop (pipeline);
    endpoint_free (ep);
  }
}

GST_END_TEST;

/* Logs are checked for secrets in tests/interop/test_whepsrc.py (here a
 * log function would leak GStreamer's list under valgrind). */
GST_START_TEST (test_errors_name_the_host_only)
{
  static const Reply script[] = {
    {404, "0"},
    {403, NULL, "text/plain", "forbidden"},
  };
  Endpoint *ep = endpoint_new (script, G_N_ELEMENTS (script));
  GstElement *src = NULL;
  GstElement *pipeline = make_pipeline (ep, &src);
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;

  g_object_set (src, "auth-token", "s3cret", NULL);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = wait_message (pipeline, is_error, NULL);
  gst_message_parse_error (msg, &err, &debug);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED), "%s", err->message);
  fail_unless (strstr (debug, "127.0.0.1") != NULL, "%s", debug);
  fail_unless (strstr (debug, "forbidden") != NULL, "body excerpt: %s", debug);
  fail_if (strstr (err->message, "secret-path") || strstr (debug,
          "secret-path"), "URL path in the error: %s", debug);
  fail_if (strstr (err->message, "s3cret") || strstr (debug, "s3cret"),
      "token in the error: %s", debug);
  g_error_free (err);
  g_free (debug);
  gst_message_unref (msg);
  stop (pipeline);
  endpoint_free (ep);
}

GST_END_TEST;

static Suite *
whepsrc_suite (void)
{
  Suite *s = suite_create ("whepsrc");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_defaults_and_write_only_token);
  tcase_add_test (tc, test_settings_checked_at_ready);
  tcase_add_test (tc, test_live_source_links_and_cycles_without_server);
  tcase_add_test (tc, test_retries_honour_retry_after_then_401_is_fatal);
  tcase_add_test (tc, test_too_many_viewers_waits_longer);
  tcase_add_test (tc, test_connect_timeout_is_an_error);
  tcase_add_test (tc, test_unusable_answers_are_errors);
  tcase_add_test (tc, test_errors_name_the_host_only);
  return s;
}

GST_CHECK_MAIN (whepsrc);
