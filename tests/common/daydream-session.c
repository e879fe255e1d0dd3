/* daydream-rtc: tests of common/drtc-daydream-session.c against a small
 * scripted Daydream API (a real SoupServer on 127.0.0.1, its own thread) */
#include "drtc-daydream-session.h"

#include <string.h>

#define KEY "test-key-0123456789"
#define STATUS_WHEP "http://127.0.0.1:9/status-out/whep"

typedef struct
{
  SoupServer *server;
  GMainContext *context;
  GThread *thread;
  GMainLoop *loop;
  gchar *base;
  GMutex lock;
  /* the script */
  guint create_failures;        /* 503 this many POSTs first */
  guint ready_after;            /* polls before "ready"; 0: never */
  gboolean status_whep;         /* the ready status names a WHEP URL */
  guint patch_status;
  /* what was seen */
  guint creates, polls, patches, deletes;
} Api;

static void
set_json (SoupServerMessage * msg, guint status, const gchar * json)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
      json, strlen (json));
}

static void
on_status_request (Api * api, SoupServerMessage * msg)
{
  guint polls = ++api->polls;

  if (api->ready_after && polls >= api->ready_after)
    set_json (msg, 200, api->status_whep ? "{\"data\": {\"state\": "
        "\"ready\", \"gateway_status\": {\"whep_url\": \"" STATUS_WHEP
        "\"}}}" : "{\"data\": {\"state\": \"ready\"}}");
  else
    set_json (msg, 200, "{\"data\": {\"state\": \"starting\"}}");
}

static void
on_request (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer data)
{
  Api *api = data;
  const gchar *method = soup_server_message_get_method (msg);

  g_mutex_lock (&api->lock);
  if (g_str_equal (path, "/v1/streams") && g_str_equal (method, "POST")) {
    if (api->creates++ < api->create_failures)
      set_json (msg, 503, "{\"error\": \"busy\"}");
    else
      set_json (msg, 201, "{\"id\": \"str_1\", \"whip_url\": "
          "\"http://127.0.0.1:9/whip\", \"output_playback_id\": \"p1\"}");
  } else if (g_str_equal (path, "/v1/streams/str_1/status")) {
    on_status_request (api, msg);
  } else if (g_str_equal (path, "/v1/streams/str_1")
      && g_str_equal (method, "PATCH")) {
    api->patches++;
    set_json (msg, api->patch_status, api->patch_status == 200 ?
        "{\"id\": \"str_1\", \"params\": {\"prompt\": \"x\"}}" :
        "{\"error\": \"no\"}");
  } else if (g_str_equal (path, "/v1/streams/str_1")
      && g_str_equal (method, "DELETE")) {
    api->deletes++;
    soup_server_message_set_status (msg, 204, NULL);
  } else {
    soup_server_message_set_status (msg, 404, NULL);
  }
  g_mutex_unlock (&api->lock);
}

static gpointer
api_thread (gpointer data)
{
  Api *api = data;

  g_main_context_push_thread_default (api->context);
  g_main_loop_run (api->loop);
  g_main_context_pop_thread_default (api->context);
  return NULL;
}

static Api *
api_start (void)
{
  Api *api = g_new0 (Api, 1);
  g_autoptr (GInetAddress) address =
      g_inet_address_new_from_string ("127.0.0.1");
  g_autoptr (GSocketAddress) where = g_inet_socket_address_new (address, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) err = NULL;
  GSList *listeners;

  g_mutex_init (&api->lock);
  api->patch_status = 200;
  api->status_whep = TRUE;
  api->context = g_main_context_new ();
  api->loop = g_main_loop_new (api->context, FALSE);
  g_main_context_push_thread_default (api->context);
  api->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (api->server, NULL, on_request, api, NULL);
  g_assert_true (soup_server_listen (api->server, where, 0, &err));
  g_main_context_pop_thread_default (api->context);
  listeners = soup_server_get_listeners (api->server);
  bound = g_socket_get_local_address (listeners->data, &err);
  g_assert_no_error (err);
  g_slist_free (listeners);
  api->base = g_strdup_printf ("http://127.0.0.1:%u",
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  api->thread = g_thread_new ("api", api_thread, api);
  return api;
}

static gboolean
quit_server (gpointer data)
{
  Api *api = data;

  soup_server_disconnect (api->server);
  g_main_loop_quit (api->loop);
  return G_SOURCE_REMOVE;
}

static void
api_stop (Api * api)
{
  g_main_context_invoke (api->context, quit_server, api);
  g_thread_join (api->thread);
  g_object_unref (api->server);
  g_main_loop_unref (api->loop);
  g_main_context_unref (api->context);
  g_mutex_clear (&api->lock);
  g_free (api->base);
  g_free (api);
}

static guint
api_count (Api * api, guint * counter)
{
  guint n;

  g_mutex_lock (&api->lock);
  n = *counter;
  g_mutex_unlock (&api->lock);
  return n;
}

/* ---- the session under test, on this thread's default context ---- */

typedef struct
{
  Api *api;
  DrtcHttp *http;
  DrtcDaydreamSession *session;
  GString *states;              /* "creating created ready " */
  gchar *whep_url, *ready_whep;
  guint whep_calls, ready_calls, polled, never_ready, poll_problems;
  GError *create_error;
  /* per call */
  gboolean updated, stopped;
  GError *update_error;
  gchar *update_answer;
} Fixture;

static void
on_state (DrtcDaydreamSession * s, DrtcDaydreamSessionState state,
    const gchar * detail, gpointer data)
{
  Fixture *f = data;

  g_string_append_printf (f->states, "%s ",
      drtc_daydream_session_state_nick (state));
}

static void
on_whep (DrtcDaydreamSession * s, const gchar * url, gpointer data)
{
  Fixture *f = data;

  f->whep_calls++;
  g_free (f->whep_url);
  f->whep_url = g_strdup (url);
}

static void
on_ready (DrtcDaydreamSession * s, const gchar * whip_url,
    const gchar * whep_url, gpointer data)
{
  Fixture *f = data;

  g_assert_cmpstr (whip_url, ==, "http://127.0.0.1:9/whip");
  f->ready_calls++;
  f->ready_whep = g_strdup (whep_url);
}

static void
on_polled (DrtcDaydreamSession * s, const DrtcDaydreamStatus * st,
    gpointer data)
{
  ((Fixture *) data)->polled++;
}

static void
on_problem (DrtcDaydreamSession * s, DrtcDaydreamSessionProblem problem,
    const GError * error, gpointer data)
{
  Fixture *f = data;

  if (problem == DRTC_DAYDREAM_SESSION_PROBLEM_CREATE)
    f->create_error = g_error_copy (error);
  else if (problem == DRTC_DAYDREAM_SESSION_PROBLEM_NEVER_READY)
    f->never_ready++;
  else
    f->poll_problems++;
}

static const DrtcDaydreamSessionCallbacks callbacks = {
  .state_changed = on_state,
  .whep_url = on_whep,
  .ready = on_ready,
  .polled = on_polled,
  .problem = on_problem,
};

static void
fixture_set_up (Fixture * f, gconstpointer unused)
{
  f->api = api_start ();
  f->http = drtc_http_new_for_context (g_main_context_default ());
  f->session = drtc_daydream_session_new (f->http, f->api->base, KEY,
      &callbacks, f);
  f->states = g_string_new (NULL);
}

static void
fixture_tear_down (Fixture * f, gconstpointer unused)
{
  drtc_daydream_session_stop (f->session, FALSE, NULL, NULL);
  g_clear_pointer (&f->session, drtc_daydream_session_unref);
  g_clear_pointer (&f->http, drtc_http_free);
  api_stop (f->api);
  g_string_free (f->states, TRUE);
  g_clear_error (&f->create_error);
  g_clear_error (&f->update_error);
  g_free (f->whep_url);
  g_free (f->ready_whep);
  g_free (f->update_answer);
}

#define ITERATE_UNTIL(cond) \
  G_STMT_START { \
    while (!(cond)) \
      g_main_context_iteration (NULL, TRUE); \
  } G_STMT_END

static void
start (Fixture * f)
{
  g_autoptr (JsonObject) params = json_object_new ();

  json_object_set_string_member (params, "prompt", "a");
  drtc_daydream_session_start (f->session, "streamdiffusion", params, "t");
}

static void
test_ready_after_polls (Fixture * f, gconstpointer unused)
{
  f->api->ready_after = 3;
  start (f);
  ITERATE_UNTIL (f->ready_calls > 0);
  g_assert_cmpuint (api_count (f->api, &f->api->polls), ==, 3);
  g_assert_cmpuint (f->polled, ==, 3);
  g_assert_cmpstr (f->states->str, ==, "creating created ready ");
  g_assert_cmpint (drtc_daydream_session_get_state (f->session), ==,
      DRTC_DAYDREAM_SESSION_READY);
  g_assert_cmpstr (drtc_daydream_session_get_stream_id (f->session), ==,
      "str_1");
  /* the status named the WHEP URL: known by the time ready is told */
  g_assert_cmpstr (f->ready_whep, ==, STATUS_WHEP);
  g_assert_cmpuint (f->whep_calls, ==, 1);
  /* a heartbeat goes on, ready is told once */
  ITERATE_UNTIL (f->polled >= 4);
  g_assert_cmpuint (f->ready_calls, ==, 1);
  g_assert_cmpuint (f->never_ready, ==, 0);
}

static void
test_never_ready (Fixture * f, gconstpointer unused)
{
  f->api->ready_after = 0;
  drtc_daydream_session_set_ready_timeout (f->session, 1);
  start (f);
  ITERATE_UNTIL (f->never_ready > 0);
  g_assert_cmpuint (f->ready_calls, ==, 0);
  g_assert_cmpint (drtc_daydream_session_get_state (f->session), ==,
      DRTC_DAYDREAM_SESSION_CREATED);
  /* told once; the polling goes on */
  guint polls = f->polled;
  ITERATE_UNTIL (f->polled >= polls + 2);
  g_assert_cmpuint (f->never_ready, ==, 1);
}

static void
on_update (DrtcDaydreamSession * s, JsonNode * answer, const GError * error,
    gpointer data)
{
  Fixture *f = data;

  g_assert_true (!answer != !error);
  f->updated = TRUE;
  g_clear_error (&f->update_error);
  g_clear_pointer (&f->update_answer, g_free);
  if (error)
    f->update_error = g_error_copy (error);
  else
    f->update_answer = json_to_string (answer, FALSE);
}

static void
update (Fixture * f)
{
  g_autoptr (JsonObject) params = json_object_new ();

  json_object_set_string_member (params, "prompt", "b");
  f->updated = FALSE;
  drtc_daydream_session_update (f->session, "streamdiffusion", params,
      on_update, f, NULL);
  ITERATE_UNTIL (f->updated);
}

static void
test_patch_405_409 (Fixture * f, gconstpointer unused)
{
  f->api->ready_after = 1;
  update (f);                   /* before the stream exists */
  g_assert_error (f->update_error, DRTC_DAYDREAM_ERROR,
      DRTC_DAYDREAM_ERROR_NO_STREAM);
  g_assert_cmpuint (api_count (f->api, &f->api->patches), ==, 0);
  start (f);
  ITERATE_UNTIL (f->ready_calls > 0);
  update (f);
  g_assert_no_error (f->update_error);
  g_assert_nonnull (strstr (f->update_answer, "\"prompt\":\"x\""));
  f->api->patch_status = 405;
  update (f);
  g_assert_error (f->update_error, DRTC_DAYDREAM_ERROR, 405);
  g_assert_nonnull (strstr (drtc_daydream_session_update_hint
          (f->update_error), "live updates"));
  f->api->patch_status = 409;
  update (f);
  g_assert_error (f->update_error, DRTC_DAYDREAM_ERROR, 409);
  g_assert_nonnull (strstr (drtc_daydream_session_update_hint
          (f->update_error), "no active stream"));
  /* a 4xx is not retried */
  g_assert_cmpuint (api_count (f->api, &f->api->patches), ==, 3);
  g_assert_null (drtc_daydream_session_update_hint (NULL));
}

static void
on_stopped (DrtcDaydreamSession * s, const GError * error, gpointer data)
{
  Fixture *f = data;

  g_assert_no_error (error);
  f->stopped = TRUE;
}

static void
test_delete_on_stop (Fixture * f, gconstpointer unused)
{
  f->api->ready_after = 1;
  start (f);
  ITERATE_UNTIL (f->ready_calls > 0);
  drtc_daydream_session_stop (f->session, TRUE, on_stopped, f);
  g_assert_cmpint (drtc_daydream_session_get_state (f->session), ==,
      DRTC_DAYDREAM_SESSION_STOPPED);
  ITERATE_UNTIL (f->stopped);
  g_assert_cmpuint (api_count (f->api, &f->api->deletes), ==, 1);
  /* after stop: no callback, an update is refused at once */
  update (f);
  g_assert_error (f->update_error, DRTC_DAYDREAM_ERROR,
      DRTC_DAYDREAM_ERROR_NO_STREAM);
  g_assert_cmpstr (f->states->str, ==, "creating created ready ");
}

static void
test_stop_while_creating_deletes (Fixture * f, gconstpointer unused)
{
  start (f);                    /* the POST cannot be answered yet */
  drtc_daydream_session_stop (f->session, TRUE, on_stopped, f);
  g_assert_false (f->stopped);
  ITERATE_UNTIL (f->stopped);
  g_assert_cmpuint (api_count (f->api, &f->api->creates), ==, 1);
  g_assert_cmpuint (api_count (f->api, &f->api->deletes), ==, 1);
  g_assert_cmpstr (f->states->str, ==, "creating ");
}

static void
test_stop_without_delete (Fixture * f, gconstpointer unused)
{
  f->api->ready_after = 1;
  start (f);
  ITERATE_UNTIL (f->ready_calls > 0);
  drtc_daydream_session_stop (f->session, FALSE, on_stopped, f);
  g_assert_true (f->stopped);   /* nothing to wait for */
  g_assert_cmpuint (api_count (f->api, &f->api->deletes), ==, 0);
}

static void
test_whep_from_header (Fixture * f, gconstpointer unused)
{
  f->api->ready_after = 2;
  start (f);
  ITERATE_UNTIL (strstr (f->states->str, "created"));
  /* not a URL: ignored; then the WHIP answer's header, trimmed */
  drtc_daydream_session_offer_whep_url (f->session, "ftp://x/y");
  g_assert_null (f->whep_url);
  drtc_daydream_session_offer_whep_url (f->session,
      "  http://127.0.0.1:9/header-out/whep\n");
  g_assert_cmpstr (f->whep_url, ==, "http://127.0.0.1:9/header-out/whep");
  /* the status names another later: the first one stays */
  ITERATE_UNTIL (f->ready_calls > 0);
  g_assert_cmpstr (f->ready_whep, ==, "http://127.0.0.1:9/header-out/whep");
  g_assert_cmpstr (drtc_daydream_session_get_whep_url (f->session), ==,
      "http://127.0.0.1:9/header-out/whep");
  g_assert_cmpuint (f->whep_calls, ==, 1);
}

static void
test_whep_from_status (Fixture * f, gconstpointer unused)
{
  f->api->ready_after = 2;
  start (f);
  ITERATE_UNTIL (f->whep_calls > 0);
  g_assert_cmpstr (f->whep_url, ==, STATUS_WHEP);
  g_assert_cmpuint (api_count (f->api, &f->api->polls), ==, 2);
}

static void
test_create_retries_5xx (Fixture * f, gconstpointer unused)
{
  f->api->create_failures = 2;
  f->api->ready_after = 1;
  start (f);
  ITERATE_UNTIL (f->ready_calls > 0 || f->create_error);
  g_assert_no_error (f->create_error);
  g_assert_cmpuint (api_count (f->api, &f->api->creates), ==, 3);
}

static void
test_create_gives_up (Fixture * f, gconstpointer unused)
{
  f->api->create_failures = 100;
  start (f);
  ITERATE_UNTIL (f->create_error);
  g_assert_error (f->create_error, DRTC_DAYDREAM_ERROR, 503);
  g_assert_cmpuint (api_count (f->api, &f->api->creates), ==, 3);
  g_assert_cmpstr (f->states->str, ==, "creating failed ");
  g_assert_cmpint (drtc_daydream_session_get_state (f->session), ==,
      DRTC_DAYDREAM_SESSION_FAILED);
  g_assert_cmpuint (api_count (f->api, &f->api->polls), ==, 0);
}

#define ADD(path, fn) \
  g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD ("/daydream-session/ready-after-polls", test_ready_after_polls);
  ADD ("/daydream-session/never-ready", test_never_ready);
  ADD ("/daydream-session/patch-405-409", test_patch_405_409);
  ADD ("/daydream-session/stop/delete", test_delete_on_stop);
  ADD ("/daydream-session/stop/while-creating",
      test_stop_while_creating_deletes);
  ADD ("/daydream-session/stop/keep", test_stop_without_delete);
  ADD ("/daydream-session/whep/header", test_whep_from_header);
  ADD ("/daydream-session/whep/status", test_whep_from_status);
  ADD ("/daydream-session/create/retries-5xx", test_create_retries_5xx);
  ADD ("/daydream-session/create/gives-up", test_create_gives_up);
  return g_test_run ();
}
