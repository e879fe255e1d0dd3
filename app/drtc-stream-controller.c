/* daydream-rtc serve: one named stream (Daydream stream + WHIP publisher)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The frames posted to the REST API go into this stream's framebridgesrc,
 * which lives as long as the controller: before a start it holds frames up
 * to its bound (oldest dropped, as the reference tool's pre-buffer). A
 * start creates the Daydream stream (async, the HTTP reply waits for it)
 * and runs `framebridgesrc ! whipsink` to its WHIP URL; whipsink's state
 * messages become the reference tool's phases. Status comes from memory;
 * the Daydream status is polled in the background only.
 */
#include "drtc-stream-controller-private.h"
#include "drtc-http-util.h"
#include "drtc-json.h"
#include "drtc-pipeline-config.h"

#include <string.h>


static void
set_phase (DrtcStreamController * ctl, const gchar * phase,
    const gchar * detail, const gchar * extra_name, const gchar * extra)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "phase");
  json_builder_add_string_value (b, phase);
  json_builder_set_member_name (b, "detail");
  json_builder_add_string_value (b, detail);
  json_builder_set_member_name (b, "timestamp");
  json_builder_add_double_value (b, drtc_now ());
  if (extra_name) {
    json_builder_set_member_name (b, extra_name);
    json_builder_add_string_value (b, extra);
  }
  json_builder_end_object (b);
  g_clear_pointer (&ctl->remote_status, json_node_unref);
  ctl->remote_status = json_builder_get_root (b);
  g_message ("stream '%s': %s (%s)", ctl->name, phase, detail);
}

static void
set_string (gchar ** field, const gchar * value)
{
  g_free (*field);
  *field = g_strdup (value ? value : "");
}

/* The plain state /status reports beside the reference tool's phases. */
static void
set_state (DrtcStreamController * ctl, const gchar * state,
    const gchar * detail)
{
  ctl->state = state;
  set_string (&ctl->state_detail, detail);
}

/* For /whep/connect: the original node pack hands over the status's
 * whip_url when it knows no WHEP URL yet (its legacy fallback). */
static gboolean
own_stream (DrtcServe * serve, const gchar * url, gchar ** name,
    gchar ** whep_url)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, serve->streams);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    DrtcStreamController *ctl = value;

    if (*ctl->whip_url && g_str_equal (ctl->whip_url, url)) {
      *name = g_strdup (ctl->name);
      *whep_url = g_strdup (ctl->whep_url);
      return TRUE;
    }
  }
  return FALSE;
}

DrtcStreamController *
drtc_stream_controller_new (DrtcServe * serve, const gchar * name,
    const gchar * pipeline_cache)
{
  DrtcStreamController *ctl = g_new0 (DrtcStreamController, 1);

  ctl->serve = serve;
  ctl->name = g_strdup (name);
  ctl->pipeline_cache = g_strdup (pipeline_cache);
  ctl->src = gst_element_factory_make ("framebridgesrc", NULL);
  if (!ctl->src) {
    g_critical ("framebridgesrc missing: the daydreamrtc plugin is not "
        "installed or not on GST_PLUGIN_PATH");
    g_free (ctl->pipeline_cache);
    g_free (ctl->name);
    g_free (ctl);
    return NULL;
  }
  gst_object_ref_sink (ctl->src);
  ctl->run_queue_mode = serve->opts.queue_mode;
  gst_util_set_object_arg (G_OBJECT (ctl->src), "queue-mode",
      ctl->run_queue_mode);
  g_object_set (ctl->src, "max-frames", serve->opts.max_frames,
      "format", 2 /* I420, for the encoder */ , NULL);
  drtc_runtime_config_load (serve->opts.settings_dir, name, &ctl->config);
  ctl->settings = ctl->config;
  ctl->whep = drtc_whep_controller_new (serve, own_stream);
  set_string (&ctl->stream_id, NULL);
  set_string (&ctl->playback_id, NULL);
  set_state (ctl, "idle", "");
  set_string (&ctl->whip_url, NULL);
  set_string (&ctl->whep_url, NULL);
  return ctl;
}

/* ---- the publishing pipeline ---- */

static gpointer
stop_pipeline (gpointer data)
{
  GstElement *pipeline = data;

  /* whipsink DELETEs its WHIP session here: bounded by its timeout */
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  return NULL;
}

/* Off the main loop; the frame source stays ours for the next start. */
static void
teardown_pipeline (DrtcStreamController * ctl)
{
  if (ctl->bus_watch) {
    g_source_destroy (ctl->bus_watch);
    g_clear_pointer (&ctl->bus_watch, g_source_unref);
  }
  if (!ctl->pipeline)
    return;
  if (ctl->stopper)
    g_thread_join (ctl->stopper);
  ctl->stopper = g_thread_new ("drtc-stop", stop_pipeline,
      g_steal_pointer (&ctl->pipeline));
}

static void
ensure_src_free (DrtcStreamController * ctl)
{
  GstObject *parent;

  /* the previous pipeline must have released the frame source */
  if (ctl->stopper) {
    g_thread_join (ctl->stopper);
    ctl->stopper = NULL;
  }
  parent = gst_object_get_parent (GST_OBJECT (ctl->src));
  if (parent) {
    gst_bin_remove (GST_BIN (parent), ctl->src);
    gst_object_unref (parent);
  }
}

gboolean
drtc_stream_controller_wait_stopped (DrtcStreamController * ctl)
{
  if (ctl->stopper) {
    g_thread_join (ctl->stopper);
    ctl->stopper = NULL;
  }
  return TRUE;
}

static void
on_whip_state (DrtcStreamController * ctl, const GstStructure * s)
{
  const gchar *state = gst_structure_get_string (s, "state");
  const gchar *detail = gst_structure_get_string (s, "detail");

  if (g_str_equal (state, "connecting")) {
    set_state (ctl, "waiting", "Waiting for the Daydream gateway (WHIP offer)");
    set_phase (ctl, "WHIP_OFFER", "Sending SDP offer to Daydream gateway",
        NULL, NULL);
  } else if (g_str_equal (state, "connected")) {
    set_state (ctl, "streaming", "WHIP session established");
    set_phase (ctl, "WHIP_ESTABLISHED", "WHIP session established", NULL, NULL);
  } else if (g_str_equal (state, "reconnecting")) {
    ctl->reconnects++;
    set_state (ctl, "reconnecting", detail);
    set_phase (ctl, "RECONNECTING", detail, NULL, NULL);
  } else if (g_str_equal (state, "failed")) {
    set_state (ctl, "failed", detail);
    set_phase (ctl, "ERROR", detail, NULL, NULL);
  }
}

static gboolean
on_bus (GstBus * bus, GstMessage * msg, gpointer data)
{
  DrtcStreamController *ctl = data;
  const GstStructure *s;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:
      s = gst_message_get_structure (msg);
      if (s && gst_structure_has_name (s, "whip-state"))
        on_whip_state (ctl, s);
      break;
    case GST_MESSAGE_ERROR:{
      g_autoptr (GError) err = NULL;
      g_autofree gchar *detail = NULL;

      gst_message_parse_error (msg, &err, NULL);
      detail = g_strdup_printf ("WHIP publishing failed: %s", err->message);
      /* not "running" any more: the reference tool hid this (weakness 3) */
      ctl->running = FALSE;
      if (ctl->session)
        drtc_daydream_session_stop_polling (ctl->session);
      set_state (ctl, "failed", detail);
      set_phase (ctl, "ERROR", detail, NULL, NULL);
      teardown_pipeline (ctl);
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* whipsink read Livepeer-Playback-URL: the WHEP URL, sooner than a poll.
 * Notified on whipsink's thread: the session takes it to its context. */
static void
on_playback_url (GObject * sink, GParamSpec * pspec, gpointer data)
{
  g_autofree gchar *url = NULL;

  g_object_get (sink, "playback-url", &url, NULL);
  if (url && *url)
    drtc_daydream_session_offer_whep_url (data, url);
}

static void
unref_session (gpointer data, GClosure * closure)
{
  drtc_daydream_session_unref (data);
}

static gboolean
build_pipeline (DrtcStreamController * ctl, GError ** error)
{
  GstElement *sink;
  g_autoptr (GstBus) bus = NULL;
  g_autofree gchar *local = NULL;
  g_autofree gchar *token = NULL;

  ensure_src_free (ctl);
  ctl->pipeline = gst_pipeline_new (ctl->name);
  sink = gst_element_factory_make ("whipsink", "publish");
  if (!sink) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "whipsink missing");
    gst_clear_object (&ctl->pipeline);
    return FALSE;
  }
  g_object_set (ctl->src, "framerate", ctl->settings.frame_rate, 1,
      "width", ctl->settings.frame_width, "height",
      ctl->settings.frame_height, NULL);
  gst_util_set_object_arg (G_OBJECT (ctl->src), "queue-mode",
      ctl->run_queue_mode);
  g_object_set (sink, "whip-endpoint", ctl->whip_url, NULL);
  /* the API key, only for a WHIP URL on the API's origin (a keyed local
   * gateway requires it there); never for Daydream's WHIP hosts */
  token = ctl->session ? drtc_daydream_session_media_token (ctl->session,
      ctl->whip_url) : NULL;
  if (token) {
    g_object_set (sink, "auth-token", token, NULL);
    memset (token, 0, strlen (token));
  }
  if (ctl->serve->opts.ice_local_addresses) {
    local = g_strjoinv (",", ctl->serve->opts.ice_local_addresses);
    g_object_set (sink, "ice-local-addresses", local, NULL);
  }
  /* this start's session, as long as its whipsink lives */
  g_signal_connect_data (sink, "notify::playback-url",
      G_CALLBACK (on_playback_url), drtc_daydream_session_ref (ctl->session),
      unref_session, 0);
  gst_bin_add_many (GST_BIN (ctl->pipeline), ctl->src, sink, NULL);
  if (!gst_element_link (ctl->src, sink)) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
        "could not link framebridgesrc to whipsink");
    teardown_pipeline (ctl);
    return FALSE;
  }
  bus = gst_element_get_bus (ctl->pipeline);
  ctl->bus_watch = gst_bus_create_watch (bus);
  g_source_set_callback (ctl->bus_watch,
      (GSourceFunc) (void (*)(void)) on_bus, ctl, NULL);
  g_source_attach (ctl->bus_watch, ctl->serve->context);
  if (gst_element_set_state (ctl->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE,
        "could not start publishing");
    teardown_pipeline (ctl);
    return FALSE;
  }
  return TRUE;
}

/* ---- calls that hold the controller ---- */

typedef struct
{
  DrtcStreamController *ctl;
  guint generation;
} Job;

/* GDestroyNotify of a Job (or of a struct that starts with one) */
static void
job_free (gpointer data)
{
  Job *job = data;

  job->ctl->jobs--;
  g_free (job);
}

static gboolean
job_current (Job * job)
{
  return job->generation == job->ctl->generation;
}

typedef struct _Pending
{
  Job job;
  DrtcReplyFunc reply;
  gpointer user_data;
} Pending;

static Pending *
pending_new (DrtcStreamController * ctl, DrtcReplyFunc reply,
    gpointer user_data)
{
  Pending *p = g_new0 (Pending, 1);

  p->job.ctl = ctl;
  p->job.generation = ctl->generation;
  ctl->jobs++;
  p->reply = reply;
  p->user_data = user_data;
  return p;
}

static void
reply_detail (DrtcReplyFunc reply, gpointer data, guint status,
    const gchar * message)
{
  g_autoptr (JsonNode) body = drtc_http_detail_body (message);

  reply (status, body, data);
}

/* The /start waiting on the create gets its answer, once. */
static void
answer_start (DrtcStreamController * ctl, guint status, JsonNode * body,
    const gchar * detail)
{
  Pending *p = g_steal_pointer (&ctl->pending_start);

  if (!p)
    return;
  if (body)
    p->reply (status, body, p->user_data);
  else
    reply_detail (p->reply, p->user_data, status, detail);
  job_free (p);
}

/* ---- the Daydream session's callbacks (main context) ---- */

static void
on_session_created (DrtcDaydreamSession * session,
    const DrtcDaydreamStream * s, gpointer data)
{
  DrtcStreamController *ctl = data;
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) status = NULL;

  set_string (&ctl->stream_id, s->id);
  set_string (&ctl->playback_id, s->playback_id);
  set_string (&ctl->whip_url, s->whip_url);
  set_string (&ctl->whep_url, s->whep_url);
  ctl->running = TRUE;
  ctl->started_at = drtc_now ();
  ctl->reconnects = 0;
  set_phase (ctl, "STREAM_CREATED", "Daydream stream created", "stream_id",
      s->id);
  if (!s->whip_url || !build_pipeline (ctl, &err)) {
    ctl->running = FALSE;
    drtc_daydream_session_stop_polling (session);
    set_state (ctl, "failed", err ? err->message : "no whip_url");
    set_phase (ctl, "ERROR", err ? err->message : "no whip_url", NULL, NULL);
    answer_start (ctl, SOUP_STATUS_BAD_GATEWAY, NULL,
        err ? err->message : "Daydream returned no whip_url");
    return;
  }
  {
    g_autoptr (GstStructure) stats = drtc_stream_report_src_stats (ctl);

    gst_structure_get_uint64 (stats, "output", &ctl->output_at_start);
  }
  if (g_str_equal (ctl->state, "starting"))
    set_state (ctl, "waiting", "Waiting for the Daydream gateway");
  drtc_stream_report_start_rates (ctl);
  status = drtc_stream_controller_status (ctl);
  answer_start (ctl, SOUP_STATUS_OK, status, NULL);
}

static void
on_session_whep_url (DrtcDaydreamSession * session, const gchar * url,
    gpointer data)
{
  DrtcStreamController *ctl = data;

  if (!*ctl->whep_url)
    set_string (&ctl->whep_url, url);
}

static void
on_session_polled (DrtcDaydreamSession * session,
    const DrtcDaydreamStatus * st, gpointer data)
{
  DrtcStreamController *ctl = data;
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "phase");
  json_builder_add_string_value (b, "REMOTE_STATUS");
  json_builder_set_member_name (b, "http_status");
  json_builder_add_int_value (b, st->http_status);
  json_builder_set_member_name (b, "body");
  json_builder_add_value (b, json_node_copy (st->body));
  json_builder_end_object (b);
  g_clear_pointer (&ctl->remote_status, json_node_unref);
  ctl->remote_status = json_builder_get_root (b);
}

static void
on_session_problem (DrtcDaydreamSession * session,
    DrtcDaydreamSessionProblem problem, const GError * error, gpointer data)
{
  DrtcStreamController *ctl = data;

  switch (problem) {
    case DRTC_DAYDREAM_SESSION_PROBLEM_CREATE:
      /* upstream failures are 502 with the upstream status in the text */
      set_state (ctl, "failed", error->message);
      answer_start (ctl, SOUP_STATUS_BAD_GATEWAY, NULL, error->message);
      break;
    case DRTC_DAYDREAM_SESSION_PROBLEM_POLL:
      g_message ("stream '%s': status poll failed: %s", ctl->name,
          error->message);
      break;
    case DRTC_DAYDREAM_SESSION_PROBLEM_NEVER_READY:
      g_message ("stream '%s': the Daydream stream is %s", ctl->name,
          error->message);
      break;
  }
}

static const DrtcDaydreamSessionCallbacks session_callbacks = {
  .created = on_session_created,
  .whep_url = on_session_whep_url,
  .polled = on_session_polled,
  .problem = on_session_problem,
};

/* ---- start, stop, update ---- */

/* The pipeline config to send: the request's (non-empty), else the cached
 * one, else --pipeline-config, else the built-in default. */
static JsonNode *
choose_config (DrtcStreamController * ctl, JsonNode * requested,
    GError ** error)
{
  if (requested && JSON_NODE_HOLDS_OBJECT (requested)
      && json_object_get_size (json_node_get_object (requested)) > 0)
    return json_node_copy (requested);
  if (g_file_test (ctl->pipeline_cache, G_FILE_TEST_EXISTS))
    return drtc_pipeline_config_load (ctl->pipeline_cache, error);
  if (ctl->serve->opts.pipeline_config)
    return drtc_pipeline_config_load (ctl->serve->opts.pipeline_config, error);
  return drtc_daydream_default_config ();
}

static void
apply_overrides (DrtcStreamController * ctl, DrtcStartRequest * req)
{
  ctl->settings = ctl->config;
  if (req->frame_rate > 0)
    ctl->settings.frame_rate = req->frame_rate;
  if (req->frame_width > 0)
    ctl->settings.frame_width = req->frame_width;
  if (req->frame_height > 0)
    ctl->settings.frame_height = req->frame_height;
  ctl->settings_float = TRUE;
  ctl->run_queue_mode = req->queue_mode ? req->queue_mode :
      drtc_stream_controller_queue_mode (ctl);
}

/* A Daydream stream the stop left behind, ended in the background (the
 * server waits for these before it exits); a /start that waited on its
 * create is told 409 once the create has answered. */
typedef struct
{
  DrtcServe *serve;
  DrtcReplyFunc reply;          /* NULL: no /start waited */
  gpointer user_data;
} Ending;

static void
on_ended (DrtcDaydreamSession * session, const GError * error, gpointer data)
{
  Ending *e = data;

  e->serve->pending_deletes--;
  if (error)
    g_message ("could not end the Daydream stream: %s", error->message);
  if (e->reply)
    reply_detail (e->reply, e->user_data, SOUP_STATUS_CONFLICT,
        "another start or stop came first");
  g_free (e);
}

/* No session callback after this. */
static void
end_session (DrtcStreamController * ctl)
{
  Pending *p = g_steal_pointer (&ctl->pending_start);
  Ending *e;

  if (!ctl->session)
    return;
  e = g_new0 (Ending, 1);
  e->serve = ctl->serve;
  if (p) {
    /* the reply holds nothing of ours: the controller may go first */
    e->reply = p->reply;
    e->user_data = p->user_data;
    job_free (p);
  }
  ctl->serve->pending_deletes++;
  drtc_daydream_session_stop (ctl->session, ctl->serve->opts.delete_on_stop,
      on_ended, e);
  g_clear_pointer (&ctl->session, drtc_daydream_session_unref);
}

/* @config split into @pipeline and its params and checked, as start and
 * update send them; on NULL, 422 answered with @err's message (@err may
 * already hold why @config is NULL). */
static JsonObject *
checked_params (JsonNode * config, GError * err, gchar ** pipeline,
    DrtcReplyFunc reply, gpointer user_data)
{
  g_autoptr (GError) error = err;
  g_autoptr (JsonObject) params = NULL;

  if (config)
    params = drtc_pipeline_config_split (config, pipeline, &error);
  if (!params || !drtc_pipeline_config_validate (*pipeline, params, &error)) {
    reply_detail (reply, user_data, SOUP_STATUS_UNPROCESSABLE_ENTITY,
        error ? error->message : "unreadable pipeline config");
    return NULL;
  }
  return g_steal_pointer (&params);
}

/* The config to send, checked; 422 (or 500 without a key) answered. */
static JsonObject *
start_params (DrtcStreamController * ctl, DrtcStartRequest * req,
    gchar ** pipeline, DrtcReplyFunc reply, gpointer user_data)
{
  GError *err = NULL;
  g_autoptr (JsonNode) config = choose_config (ctl, req->pipeline_config, &err);

  return checked_params (config, err, pipeline, reply, user_data);
}

/**
 * drtc_stream_controller_start:
 *
 * Replaces a running stream, as the reference tool does. @reply gets the
 * status (200), 422 for an invalid pipeline config, 500 without a key, 502
 * when Daydream refuses.
 */
void
drtc_stream_controller_start (DrtcStreamController * ctl,
    DrtcStartRequest * req, DrtcReplyFunc reply, gpointer user_data)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonObject) params = NULL;
  g_autofree gchar *pipeline = NULL;
  g_autofree gchar *key = NULL;
  g_autofree gchar *name = NULL;

  if (ctl->running || ctl->pipeline)
    drtc_stream_controller_stop (ctl, "Restarting stream");
  end_session (ctl);
  ctl->generation++;
  apply_overrides (ctl, req);
  ctl->frame_loop_ready = TRUE;
  key = drtc_daydream_resolve_key (ctl->serve->opts.api_key_file, &err);
  if (!key) {
    reply_detail (reply, user_data, SOUP_STATUS_INTERNAL_SERVER_ERROR,
        err->message);
    return;
  }
  params = start_params (ctl, req, &pipeline, reply, user_data);
  if (!params)
    return;
  ctl->session = drtc_daydream_session_new (ctl->serve->http,
      ctl->serve->opts.api_url ? ctl->serve->opts.api_url :
      g_getenv ("DAYDREAM_API_URL"), key, &session_callbacks, ctl);
  memset (key, 0, strlen (key));
  name = req->stream_name && *req->stream_name ?
      g_strdup (req->stream_name) : g_strdup_printf ("comfyui-stream-%"
      G_GINT64_FORMAT, g_get_real_time () / G_USEC_PER_SEC);
  ctl->pending_start = pending_new (ctl, reply, user_data);
  set_state (ctl, "starting", "Creating the Daydream stream");
  drtc_daydream_session_start (ctl->session, pipeline, params, name);
}

/**
 * drtc_stream_controller_stop:
 *
 * Returns at once: the pipeline stops (and whipsink DELETEs its session) on
 * a worker; the Daydream stream is ended when --delete-on-stop says so.
 */
void
drtc_stream_controller_stop (DrtcStreamController * ctl, const gchar * detail)
{
  ctl->generation++;
  drtc_stream_report_stop_rates (ctl);
  teardown_pipeline (ctl);
  end_session (ctl);
  ctl->running = FALSE;
  ctl->started_at = 0.0;
  set_string (&ctl->stream_id, NULL);
  set_string (&ctl->playback_id, NULL);
  set_string (&ctl->whip_url, NULL);
  set_string (&ctl->whep_url, NULL);
  set_state (ctl, "idle", detail ? detail : "Stream stopped");
  set_phase (ctl, "STOPPED", detail ? detail : "Stream stopped", NULL, NULL);
}

static JsonNode *
updated_body (DrtcStreamController * ctl, JsonNode * answer)
{
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (answer) ?
      json_node_get_object (answer) : NULL;
  const gchar *pipeline = o ? drtc_json_get_string (o, "pipeline") : NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "updated");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "stream_id");
  json_builder_add_string_value (b, ctl->stream_id);
  json_builder_set_member_name (b, "pipeline");
  json_builder_add_string_value (b, pipeline ? pipeline : "");
  json_builder_set_member_name (b, "params");
  if (o && json_object_has_member (o, "params")
      && JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "params")))
    json_builder_add_value (b, json_node_copy (json_object_get_member (o,
                "params")));
  else {
    json_builder_begin_object (b);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
on_updated (DrtcDaydreamSession * session, JsonNode * answer,
    const GError * error, gpointer data)
{
  Pending *p = data;
  DrtcStreamController *ctl = p->job.ctl;
  const gchar *hint = drtc_daydream_session_update_hint (error);
  g_autoptr (JsonNode) body = NULL;

  if (!answer) {
    if (hint)
      g_message ("stream '%s': %s", ctl->name, hint);
    reply_detail (p->reply, p->user_data, SOUP_STATUS_BAD_GATEWAY,
        error->message);
    return;
  }
  body = updated_body (ctl, answer);
  if (job_current (&p->job))
    set_phase (ctl, "PIPELINE_UPDATED", "Pipeline parameters updated",
        "stream_id", ctl->stream_id);
  p->reply (SOUP_STATUS_OK, body, p->user_data);
}

/**
 * drtc_stream_controller_update:
 *
 * PATCH the running stream: 409 without one, 422 for invalid params, 502
 * when Daydream refuses (the reference tool answered 500).
 */
void
drtc_stream_controller_update (DrtcStreamController * ctl,
    JsonNode * pipeline_config, DrtcReplyFunc reply, gpointer user_data)
{
  g_autoptr (JsonObject) params = NULL;
  g_autofree gchar *pipeline = NULL;

  if (!ctl->running || !ctl->session || !*ctl->stream_id) {
    reply_detail (reply, user_data, SOUP_STATUS_CONFLICT,
        "No active stream to update");
    return;
  }
  params = checked_params (pipeline_config, NULL, &pipeline, reply, user_data);
  if (!params)
    return;
  drtc_daydream_session_update (ctl->session, pipeline, params, on_updated,
      pending_new (ctl, reply, user_data), job_free);
}

const DrtcRuntimeConfig *
drtc_stream_controller_config (DrtcStreamController * ctl)
{
  return &ctl->config;
}

/* Persisted first: on a write error nothing changes. */
gboolean
drtc_stream_controller_set_config (DrtcStreamController * ctl,
    const DrtcRuntimeConfig * config, GError ** error)
{
  if (!drtc_runtime_config_save (ctl->serve->opts.settings_dir, ctl->name,
          config, error))
    return FALSE;
  ctl->config = *config;
  if (!ctl->running)
    ctl->settings = *config;
  return TRUE;
}

/* @mode: one of drtc_serve_queue_modes (static), kept for this process */
void
drtc_stream_controller_set_queue_mode (DrtcStreamController * ctl,
    const gchar * mode)
{
  ctl->queue_mode = mode;
}

/* (transfer none): push frames here, from any thread */
GstElement *
drtc_stream_controller_frame_source (DrtcStreamController * ctl)
{
  return ctl->src;
}

DrtcWhepController *
drtc_stream_controller_whep (DrtcStreamController * ctl)
{
  return ctl->whep;
}

void
drtc_stream_controller_free (DrtcStreamController * ctl)
{
  if (!ctl)
    return;
  if (ctl->running || ctl->pipeline)
    drtc_stream_controller_stop (ctl, "Server stopping");
  drtc_stream_controller_wait_stopped (ctl);
  ensure_src_free (ctl);
  gst_element_set_state (ctl->src, GST_STATE_NULL);
  gst_object_unref (ctl->src);
  g_clear_pointer (&ctl->whep, drtc_whep_controller_free);
  end_session (ctl);
  g_clear_pointer (&ctl->remote_status, json_node_unref);
  g_free (ctl->stream_id);
  g_free (ctl->playback_id);
  g_free (ctl->whip_url);
  g_free (ctl->whep_url);
  g_free (ctl->state_detail);
  g_free (ctl->pipeline_cache);
  g_free (ctl->name);
  g_free (ctl);
}
