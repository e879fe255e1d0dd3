/* daydream-rtc: tests of common/drtc-daydream.c against the local gateway
 * (`daydream-rtc gateway`, a real HTTP service on 127.0.0.1) */
#include "drtc-daydream.h"
#include "drtc-json.h"
#include "drtc-pipeline-config.h"

#include <string.h>
#include <glib/gstdio.h>

#define KEY "test-key-0123456789"

typedef struct
{
  GSubprocess *proc;
  gchar *url;
} Gateway;

static Gateway *
gateway_start (const gchar * const *extra)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
      G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr (GDataInputStream) out = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *line = NULL;
  Gateway *gw = g_new0 (Gateway, 1);
  const gchar *at;

  g_subprocess_launcher_setenv (launcher, "DRTC_GATEWAY_API_KEY", KEY, TRUE);
  g_ptr_array_add (argv, (gpointer) DRTC_GATEWAY_BINARY);
  g_ptr_array_add (argv, (gpointer) "gateway");
  g_ptr_array_add (argv, (gpointer) "--port");
  g_ptr_array_add (argv, (gpointer) "0");
  for (guint i = 0; extra && extra[i]; i++)
    g_ptr_array_add (argv, (gpointer) extra[i]);
  g_ptr_array_add (argv, NULL);
  gw->proc = g_subprocess_launcher_spawnv (launcher,
      (const gchar * const *) argv->pdata, &err);
  g_assert_no_error (err);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (gw->proc));
  line = g_data_input_stream_read_line (out, NULL, NULL, &err);
  g_assert_no_error (err);
  g_assert_nonnull (line);
  at = strstr (line, "http://");
  g_assert_nonnull (at);
  gw->url = g_strndup (at, strcspn (at, " "));
  return gw;
}

static void
gateway_stop (Gateway * gw)
{
  g_subprocess_send_signal (gw->proc, SIGTERM);
  g_subprocess_wait (gw->proc, NULL, NULL);
  g_object_unref (gw->proc);
  g_free (gw->url);
  g_free (gw);
}

/* one call at a time, waited for on the test's own context */
typedef struct
{
  gboolean done;
  GError *error;
  gchar *id, *whip_url, *state;
  guint http_status;
  JsonNode *node;
} Result;

static void
result_clear (Result * r)
{
  g_clear_error (&r->error);
  g_clear_pointer (&r->id, g_free);
  g_clear_pointer (&r->whip_url, g_free);
  g_clear_pointer (&r->state, g_free);
  g_clear_pointer (&r->node, json_node_unref);
  memset (r, 0, sizeof (*r));
}

static void
on_stream (gpointer result, const GError * error, gpointer data)
{
  Result *r = data;
  DrtcDaydreamStream *s = result;

  r->done = TRUE;
  r->error = error ? g_error_copy (error) : NULL;
  if (s) {
    r->id = g_strdup (s->id);
    r->whip_url = g_strdup (s->whip_url);
  }
}

static void
on_status (gpointer result, const GError * error, gpointer data)
{
  Result *r = data;
  DrtcDaydreamStatus *st = result;

  r->done = TRUE;
  r->error = error ? g_error_copy (error) : NULL;
  if (st) {
    r->http_status = st->http_status;
    r->state = g_strdup (st->state);
    r->node = json_node_ref (st->body);
  }
}

static void
on_node (gpointer result, const GError * error, gpointer data)
{
  Result *r = data;

  r->done = TRUE;
  r->error = error ? g_error_copy (error) : NULL;
  r->node = result ? json_node_ref (result) : NULL;
}

static void
wait_done (Result * r)
{
  while (!r->done)
    g_main_context_iteration (NULL, TRUE);
}

static JsonObject *
params_of (const gchar * json)
{
  g_autoptr (JsonNode) node = drtc_json_parse (json, -1, NULL);

  return json_object_ref (json_node_get_object (node));
}

static void
test_normalize_base (void)
{
  static const gchar *cases[][2] = {
    {"https://api.daydream.live", "https://api.daydream.live"},
    {"https://api.daydream.live/", "https://api.daydream.live"},
    {"https://api.daydream.live/v1/streams", "https://api.daydream.live"},
    {"https://api.daydream.live/v1/streams/", "https://api.daydream.live"},
    {"  http://127.0.0.1:8896//  ", "http://127.0.0.1:8896"},
    {"", DRTC_DAYDREAM_DEFAULT_API_URL},
    {NULL, DRTC_DAYDREAM_DEFAULT_API_URL},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *got = drtc_daydream_normalize_base (cases[i][0]);

    g_assert_cmpstr (got, ==, cases[i][1]);
  }
}

/* the API key goes to WHIP/WHEP only on the API's own origin */
static void
test_media_token (void)
{
  static const struct
  {
    const gchar *api, *media;
    gboolean keyed;
  } cases[] = {
    {"http://127.0.0.1:8896", "http://127.0.0.1:8896/live/video-to-video/"
          "stk_1/whip", TRUE},
    {"http://127.0.0.1:8896/v1/streams/", "http://127.0.0.1:8896/x", TRUE},
    {"https://api.example", "https://API.example:443/whep", TRUE},
    /* Daydream: WHIP/WHEP on other hosts, never the account key */
    {NULL, "https://ai.livepeer.com/live/video-to-video/stk_1/whip", FALSE},
    {"http://127.0.0.1:8896", "http://127.0.0.1:8897/whip", FALSE},
    {"http://127.0.0.1:8896", "http://localhost:8896/whip", FALSE},
    {"https://api.example", "http://api.example/whip", FALSE},
    {"http://127.0.0.1:8896", "rtsp://127.0.0.1:8896/whip", FALSE},
    {"http://127.0.0.1:8896", "not a url", FALSE},
    {"http://127.0.0.1:8896", NULL, FALSE},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *got = drtc_daydream_media_token (cases[i].api, KEY,
        cases[i].media);

    g_assert_cmpstr (got, ==, cases[i].keyed ? KEY : NULL);
  }
  g_assert_null (drtc_daydream_media_token ("http://a", NULL, "http://a/"));
  g_assert_null (drtc_daydream_media_token ("http://a", "", "http://a/"));
}

static void
test_key_sources (void)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("drtc-key-XXXXXX", NULL);
  g_autofree gchar *file = g_build_filename (dir, "key", NULL);
  gchar *key;

  g_setenv ("DAYDREAM_API_KEY", "  abc\r\n", TRUE);
  key = drtc_daydream_resolve_key (NULL, &err);
  g_assert_cmpstr (key, ==, "abc");
  g_free (key);
  g_unsetenv ("DAYDREAM_API_KEY");
  g_assert_null (drtc_daydream_resolve_key (NULL, &err));
  g_assert_error (err, DRTC_DAYDREAM_ERROR, DRTC_DAYDREAM_ERROR_NO_KEY);
  g_clear_error (&err);
  g_assert_true (g_file_set_contents (file, "from-file\n", -1, NULL));
  g_chmod (file, 0644);
  g_assert_null (drtc_daydream_resolve_key (file, &err));
  g_assert_nonnull (strstr (err->message, "600"));
  g_clear_error (&err);
  g_chmod (file, 0600);
  key = drtc_daydream_resolve_key (file, &err);
  g_assert_cmpstr (key, ==, "from-file");
  g_free (key);
  /* an empty file says so, rather than that the key is missing */
  g_assert_true (g_file_set_contents (file, " \r\n", -1, NULL));
  g_chmod (file, 0600);
  g_assert_null (drtc_daydream_resolve_key (file, &err));
  g_assert_nonnull (strstr (err->message, "is empty"));
  g_clear_error (&err);
  key = drtc_daydream_read_secret (file, "access token", &err);
  g_assert_null (key);
  g_assert_nonnull (strstr (err->message, "access token file"));
  g_clear_error (&err);
  g_unlink (file);
  g_rmdir (dir);
}

static void
test_default_config_is_valid (void)
{
  g_autoptr (JsonNode) config = drtc_daydream_default_config ();
  g_autoptr (JsonObject) params = NULL;
  g_autofree gchar *pipeline = NULL;
  g_autoptr (GError) err = NULL;

  g_assert_nonnull (config);
  params = drtc_pipeline_config_split (config, &pipeline, &err);
  g_assert_no_error (err);
  g_assert_true (drtc_pipeline_config_validate (pipeline, params, &err));
  g_assert_cmpstr (drtc_json_get_string (params, "prompt"), ==, "Superman");
}

static void
test_full_lifecycle (void)
{
  Gateway *gw = gateway_start (NULL);
  DrtcHttp *http = drtc_http_new_for_context (g_main_context_default ());
  g_autofree gchar *base = g_strconcat (gw->url, "/v1/streams/", NULL);
  DrtcDaydreamClient *client = drtc_daydream_client_new (http, base, KEY);
  g_autoptr (JsonObject) params = params_of ("{\"prompt\": \"x\"}");
  g_autoptr (JsonObject) bad = params_of ("{\"width\": 500}");
  g_autofree gchar *id = NULL;
  Result r = { 0 };

  drtc_daydream_create_stream (client, NULL, params, "life", on_stream, &r,
      NULL);
  wait_done (&r);
  g_assert_no_error (r.error);
  g_assert_true (g_str_has_prefix (r.id, "str_"));
  g_assert_true (g_str_has_prefix (r.whip_url, gw->url));
  id = g_strdup (r.id);
  result_clear (&r);

  drtc_daydream_get_status (client, id, on_status, &r, NULL);
  wait_done (&r);
  g_assert_no_error (r.error);
  g_assert_cmpuint (r.http_status, ==, 200);
  g_assert_cmpstr (r.state, ==, "OFFLINE");
  result_clear (&r);

  drtc_daydream_update_stream (client, id, NULL, bad, on_node, &r, NULL);
  wait_done (&r);
  g_assert_error (r.error, DRTC_DAYDREAM_ERROR, 422);
  g_assert_true (g_str_has_prefix (r.error->message,
          "Failed to update stream 422: "));
  g_assert_nonnull (strstr (r.error->message, "params.width"));
  result_clear (&r);

  drtc_daydream_update_stream (client, id, NULL, params, on_node, &r, NULL);
  wait_done (&r);
  g_assert_no_error (r.error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (r.node));
  result_clear (&r);

  drtc_daydream_get_stream (client, id, on_stream, &r, NULL);
  wait_done (&r);
  g_assert_no_error (r.error);
  g_assert_cmpstr (r.id, ==, id);
  result_clear (&r);

  drtc_daydream_delete_stream (client, id, on_node, &r, NULL);
  wait_done (&r);
  g_assert_no_error (r.error);
  result_clear (&r);

  /* a status poll keeps a 404 as an answer, not an error */
  drtc_daydream_get_status (client, id, on_status, &r, NULL);
  wait_done (&r);
  g_assert_no_error (r.error);
  g_assert_cmpuint (r.http_status, ==, 404);
  result_clear (&r);

  drtc_daydream_client_free (client);
  drtc_http_free (http);
  gateway_stop (gw);
}

static void
test_wrong_key_and_retries (void)
{
  const gchar *faults[] = { "--fail-creates", "2", NULL };
  Gateway *gw = gateway_start (faults);
  DrtcHttp *http = drtc_http_new_for_context (g_main_context_default ());
  DrtcDaydreamClient *wrong = drtc_daydream_client_new (http, gw->url,
      "not-the-key");
  DrtcDaydreamClient *client = drtc_daydream_client_new (http, gw->url, KEY);
  g_autoptr (JsonObject) params = params_of ("{}");
  Result r = { 0 };

  drtc_daydream_create_stream (wrong, NULL, params, NULL, on_stream, &r, NULL);
  wait_done (&r);
  g_assert_error (r.error, DRTC_DAYDREAM_ERROR, 401);
  g_assert_null (strstr (r.error->message, "not-the-key"));
  result_clear (&r);

  /* the two 500s fed to the first creates are retried away */
  drtc_daydream_create_stream (client, NULL, params, NULL, on_stream, &r, NULL);
  wait_done (&r);
  g_assert_no_error (r.error);
  result_clear (&r);

  drtc_daydream_client_free (wrong);
  drtc_daydream_client_free (client);
  drtc_http_free (http);
  gateway_stop (gw);
}

static void
test_give_up_after_retries (void)
{
  const gchar *faults[] = { "--fail-creates", "5", NULL };
  Gateway *gw = gateway_start (faults);
  DrtcHttp *http = drtc_http_new_for_context (g_main_context_default ());
  DrtcDaydreamClient *client = drtc_daydream_client_new (http, gw->url, KEY);
  DrtcDaydreamClient *nobody = drtc_daydream_client_new (http,
      "http://127.0.0.1:9", KEY);
  g_autoptr (JsonObject) params = params_of ("{}");
  Result r = { 0 };

  drtc_daydream_client_set_retries (client, 2);
  drtc_daydream_create_stream (client, NULL, params, NULL, on_stream, &r, NULL);
  wait_done (&r);
  g_assert_error (r.error, DRTC_DAYDREAM_ERROR, 500);
  g_assert_true (g_str_has_prefix (r.error->message,
          "Failed to create stream 500: "));
  result_clear (&r);

  drtc_daydream_client_set_retries (nobody, 1);
  drtc_daydream_get_status (nobody, "str_x", on_status, &r, NULL);
  wait_done (&r);
  g_assert_error (r.error, DRTC_DAYDREAM_ERROR, DRTC_DAYDREAM_ERROR_NETWORK);
  result_clear (&r);

  drtc_daydream_client_free (client);
  drtc_daydream_client_free (nobody);
  drtc_http_free (http);
  gateway_stop (gw);
}

static void
test_missing_key_fails_without_a_request (void)
{
  DrtcHttp *http = drtc_http_new_for_context (g_main_context_default ());
  DrtcDaydreamClient *client = drtc_daydream_client_new (http,
      "http://127.0.0.1:9", NULL);
  g_autoptr (JsonObject) params = params_of ("{}");
  Result r = { 0 };

  drtc_daydream_create_stream (client, NULL, params, NULL, on_stream, &r, NULL);
  g_assert_true (r.done);       /* at once */
  g_assert_error (r.error, DRTC_DAYDREAM_ERROR, DRTC_DAYDREAM_ERROR_NO_KEY);
  result_clear (&r);
  drtc_daydream_client_free (client);
  drtc_http_free (http);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/daydream/base/normalize", test_normalize_base);
  g_test_add_func ("/daydream/key/sources", test_key_sources);
  g_test_add_func ("/daydream/key/media-token", test_media_token);
  g_test_add_func ("/daydream/config/default", test_default_config_is_valid);
  g_test_add_func ("/daydream/gateway/lifecycle", test_full_lifecycle);
  g_test_add_func ("/daydream/gateway/key-and-retries",
      test_wrong_key_and_retries);
  g_test_add_func ("/daydream/gateway/give-up", test_give_up_after_retries);
  g_test_add_func ("/daydream/key/missing",
      test_missing_key_fails_without_a_request);
  return g_test_run ();
}
