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
#include "drtc-serve-private.h"
#include "drtc-daydream.h"
#include "drtc-http-util.h"
#include "drtc-json.h"
#include "drtc-pipeline-config.h"

#include <string.h>

#define POLL_FAST_MS 2000
#define POLL_SLOW_MS 5000

struct _DrtcStreamController
{
  DrtcServe *serve;
  gchar *name;
  GstElement *src;              /* framebridgesrc, kept across starts */
  GstElement *pipeline;
  GSource *bus_watch;
  DrtcDaydreamClient *client;
  GPtrArray *retired;           /* earlier clients, calls may be in flight */
  DrtcWhepController *whep;
  guint generation;             /* bumped by every start and stop */
  guint jobs;                   /* Daydream calls in flight that hold us */

  /* what /status reports */
  gboolean running;
  gboolean frame_loop_ready;
  gchar *stream_id, *playback_id, *whip_url, *whep_url;
  gdouble started_at;
  JsonNode *remote_status;      /* the last phase or remote poll */
  DrtcRuntimeConfig config;     /* this stream's persisted runtime config */
  DrtcRuntimeConfig settings;   /* runtime config + this start's overrides */
  gboolean settings_float;      /* frame_rate shown as 30.0 after a start */
  const gchar *queue_mode;      /* set by /config; NULL: --queue-mode */
  const gchar *run_queue_mode;  /* this start's (a /start field may say) */
  guint64 output_at_start;
  guint reconnects;
  const gchar *state;           /* idle starting waiting streaming
                                 * reconnecting failed */
  gchar *state_detail;
  gdouble fps, bitrate;         /* sent, over the last second */
  guint64 bytes_sent;
  guint64 last_frames, last_bytes;
  gint64 last_sample_us;

  GSource *poll;
  GSource *rate;                /* 1 s: fps and bitrate */
  GThread *stopper;             /* pipeline going to NULL */
};

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

static GstStructure *
src_stats (DrtcStreamController * ctl)
{
  GstStructure *s = NULL;

  g_object_get (ctl->src, "stats", &s, NULL);
  return s;
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
drtc_stream_controller_new (DrtcServe * serve, const gchar * name)
{
  DrtcStreamController *ctl = g_new0 (DrtcStreamController, 1);

  ctl->serve = serve;
  ctl->name = g_strdup (name);
  ctl->src = gst_element_factory_make ("framebridgesrc", NULL);
  if (!ctl->src) {
    g_critical ("framebridgesrc missing: the daydreamrtc plugin is not "
        "installed or not on GST_PLUGIN_PATH");
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
  ctl->retired = g_ptr_array_new_with_free_func ((GDestroyNotify)
      drtc_daydream_client_free);
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

typedef struct
{
  DrtcStreamController *ctl;
  guint generation;
  gchar *url;
} UrlCall;

static void
url_call_free (gpointer data)
{
  UrlCall *call = data;

  g_free (call->url);
  g_free (call);
}

static gboolean
take_whep_url (gpointer data)
{
  UrlCall *call = data;

  if (call->generation == call->ctl->generation && !*call->ctl->whep_url)
    set_string (&call->ctl->whep_url, call->url);
  return G_SOURCE_REMOVE;
}

/* whipsink read Livepeer-Playback-URL: the WHEP URL, sooner than a poll.
 * Notified on whipsink's thread: handed to the main context. */
static void
on_playback_url (GObject * sink, GParamSpec * pspec, gpointer data)
{
  DrtcStreamController *ctl = data;
  UrlCall *call;
  gchar *url = NULL;

  g_object_get (sink, "playback-url", &url, NULL);
  if (!url || !*url) {
    g_free (url);
    return;
  }
  call = g_new0 (UrlCall, 1);
  call->ctl = ctl;
  call->generation = GPOINTER_TO_UINT (g_object_get_data (sink, "drtc-gen"));
  call->url = url;
  g_main_context_invoke_full (ctl->serve->context, G_PRIORITY_DEFAULT,
      take_whep_url, call, url_call_free);
}

/* ---- fps and bitrate, sampled from whipsink's stats every second ---- */

static gboolean
sample_rates (gpointer data)
{
  DrtcStreamController *ctl = data;
  g_autoptr (GstElement) sink = NULL;
  g_autoptr (GstStructure) stats = NULL;
  guint64 frames = 0, bytes = 0;
  gint64 now = g_get_monotonic_time ();
  gdouble dt;

  if (ctl->pipeline)
    sink = gst_bin_get_by_name (GST_BIN (ctl->pipeline), "publish");
  if (!sink)
    return G_SOURCE_CONTINUE;
  g_object_get (sink, "stats", &stats, NULL);
  gst_structure_get_uint64 (stats, "frames-sent", &frames);
  gst_structure_get_uint64 (stats, "bytes-sent", &bytes);
  dt = (now - ctl->last_sample_us) / 1e6;
  if (ctl->last_sample_us && dt > 0) {
    /* counters restart with a reconnection: no negative rates */
    ctl->fps = frames >= ctl->last_frames ?
        (frames - ctl->last_frames) / dt : 0.0;
    ctl->bitrate = bytes >= ctl->last_bytes ?
        (bytes - ctl->last_bytes) * 8 / dt : 0.0;
  }
  if (bytes >= ctl->last_bytes)
    ctl->bytes_sent += bytes - ctl->last_bytes;
  else
    ctl->bytes_sent += bytes;
  ctl->last_frames = frames;
  ctl->last_bytes = bytes;
  ctl->last_sample_us = now;
  return G_SOURCE_CONTINUE;
}

static void
stop_rates (DrtcStreamController * ctl)
{
  if (ctl->rate) {
    g_source_destroy (ctl->rate);
    g_clear_pointer (&ctl->rate, g_source_unref);
  }
  ctl->fps = ctl->bitrate = 0.0;
  ctl->last_frames = ctl->last_bytes = 0;
  ctl->last_sample_us = 0;
}

static void
start_rates (DrtcStreamController * ctl)
{
  stop_rates (ctl);
  ctl->rate = g_timeout_source_new_seconds (1);
  g_source_set_callback (ctl->rate, sample_rates, ctl, NULL);
  g_source_attach (ctl->rate, ctl->serve->context);
}

static gboolean
build_pipeline (DrtcStreamController * ctl, GError ** error)
{
  GstElement *sink;
  g_autoptr (GstBus) bus = NULL;
  g_autofree gchar *local = NULL;

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
  if (ctl->serve->opts.ice_local_addresses) {
    local = g_strjoinv (",", ctl->serve->opts.ice_local_addresses);
    g_object_set (sink, "ice-local-addresses", local, NULL);
  }
  g_object_set_data (G_OBJECT (sink), "drtc-gen",
      GUINT_TO_POINTER (ctl->generation));
  g_signal_connect (sink, "notify::playback-url",
      G_CALLBACK (on_playback_url), ctl);
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

/* ---- the Daydream status, in the background ---- */

typedef struct
{
  DrtcStreamController *ctl;
  guint generation;
} Job;

static Job *
job_new (DrtcStreamController * ctl)
{
  Job *job = g_new0 (Job, 1);

  job->ctl = ctl;
  job->generation = ctl->generation;
  ctl->jobs++;
  return job;
}

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

static void schedule_poll (DrtcStreamController * ctl, guint ms);

static void
on_polled (gpointer result, const GError * error, gpointer data)
{
  Job *job = data;
  DrtcStreamController *ctl = job->ctl;
  DrtcDaydreamStatus *st = result;

  if (!job_current (job))
    return;
  if (st) {
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
    if (st->whep_url && !*ctl->whep_url)
      set_string (&ctl->whep_url, st->whep_url);
  } else {
    g_message ("stream '%s': status poll failed: %s", ctl->name,
        error->message);
  }
  schedule_poll (ctl, *ctl->whep_url ? POLL_SLOW_MS : POLL_FAST_MS);
}

static gboolean
on_poll (gpointer data)
{
  DrtcStreamController *ctl = data;

  g_clear_pointer (&ctl->poll, g_source_unref);
  if (ctl->running && ctl->client && *ctl->stream_id)
    drtc_daydream_get_status (ctl->client, ctl->stream_id, on_polled,
        job_new (ctl), job_free);
  return G_SOURCE_REMOVE;
}

static void
schedule_poll (DrtcStreamController * ctl, guint ms)
{
  if (ctl->poll) {
    g_source_destroy (ctl->poll);
    g_source_unref (ctl->poll);
  }
  ctl->poll = g_timeout_source_new (ms);
  g_source_set_callback (ctl->poll, on_poll, ctl, NULL);
  g_source_attach (ctl->poll, ctl->serve->context);
}

/* ---- start, stop, update ---- */

typedef struct
{
  Job job;
  DrtcReplyFunc reply;
  gpointer user_data;
} Pending;

static void
reply_detail (DrtcReplyFunc reply, gpointer data, guint status,
    const gchar * message)
{
  g_autoptr (JsonNode) body = drtc_http_detail_body (message);

  reply (status, body, data);
}

static void on_deleted (gpointer result, const GError * error, gpointer data);

static void
on_created (gpointer result, const GError * error, gpointer data)
{
  Pending *p = data;
  DrtcStreamController *ctl = p->job.ctl;
  DrtcDaydreamStream *s = result;
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) status = NULL;

  if (!job_current (&p->job)) {
    /* a stop or another start came while Daydream created this one: end
     * it rather than leave it running unfed */
    if (s && ctl->client && ctl->serve->opts.delete_on_stop) {
      ctl->serve->pending_deletes++;
      drtc_daydream_delete_stream (ctl->client, s->id, on_deleted,
          ctl->serve, NULL);
    }
    reply_detail (p->reply, p->user_data, SOUP_STATUS_CONFLICT,
        "another start or stop came first");
    return;
  }
  if (!s) {
    /* upstream failures are 502 with the upstream status in the text */
    set_state (ctl, "failed", error->message);
    reply_detail (p->reply, p->user_data, SOUP_STATUS_BAD_GATEWAY,
        error->message);
    return;
  }
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
    set_state (ctl, "failed", err ? err->message : "no whip_url");
    set_phase (ctl, "ERROR", err ? err->message : "no whip_url", NULL, NULL);
    reply_detail (p->reply, p->user_data, SOUP_STATUS_BAD_GATEWAY,
        err ? err->message : "Daydream returned no whip_url");
    return;
  }
  {
    g_autoptr (GstStructure) stats = src_stats (ctl);

    gst_structure_get_uint64 (stats, "output", &ctl->output_at_start);
  }
  if (g_str_equal (ctl->state, "starting"))
    set_state (ctl, "waiting", "Waiting for the Daydream gateway");
  start_rates (ctl);
  schedule_poll (ctl, 500);
  status = drtc_stream_controller_status (ctl);
  p->reply (SOUP_STATUS_OK, status, p->user_data);
}

/* The pipeline config to send: the request's (non-empty), else the cached
 * one, else --pipeline-config, else the built-in default. */
static JsonNode *
choose_config (DrtcStreamController * ctl, JsonNode * requested,
    GError ** error)
{
  g_autofree gchar *cache = drtc_serve_pipeline_cache_path (ctl->serve);

  if (requested && JSON_NODE_HOLDS_OBJECT (requested)
      && json_object_get_size (json_node_get_object (requested)) > 0)
    return json_node_copy (requested);
  if (g_file_test (cache, G_FILE_TEST_EXISTS))
    return drtc_pipeline_config_load (cache, error);
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
  g_autoptr (JsonNode) config = NULL;
  g_autoptr (JsonObject) params = NULL;
  g_autofree gchar *pipeline = NULL;
  g_autofree gchar *key = NULL;
  g_autofree gchar *name = NULL;
  Pending *p;

  if (ctl->running || ctl->pipeline)
    drtc_stream_controller_stop (ctl, "Restarting stream");
  ctl->generation++;
  apply_overrides (ctl, req);
  ctl->frame_loop_ready = TRUE;
  key = drtc_daydream_resolve_key (ctl->serve->opts.api_key_file, &err);
  if (!key) {
    reply_detail (reply, user_data, SOUP_STATUS_INTERNAL_SERVER_ERROR,
        err->message);
    return;
  }
  config = choose_config (ctl, req->pipeline_config, &err);
  if (config)
    params = drtc_pipeline_config_split (config, &pipeline, &err);
  if (!params || !drtc_pipeline_config_validate (pipeline, params, &err)) {
    reply_detail (reply, user_data, SOUP_STATUS_UNPROCESSABLE_ENTITY,
        err ? err->message : "unreadable pipeline config");
    return;
  }
  if (ctl->client)
    g_ptr_array_add (ctl->retired, g_steal_pointer (&ctl->client));
  ctl->client = drtc_daydream_client_new (ctl->serve->http,
      ctl->serve->opts.api_url ? ctl->serve->opts.api_url :
      g_getenv ("DAYDREAM_API_URL"), key);
  memset (key, 0, strlen (key));
  name = req->stream_name && *req->stream_name ?
      g_strdup (req->stream_name) : g_strdup_printf ("comfyui-stream-%"
      G_GINT64_FORMAT, g_get_real_time () / G_USEC_PER_SEC);
  p = g_new0 (Pending, 1);
  p->job.ctl = ctl;
  p->job.generation = ctl->generation;
  ctl->jobs++;
  p->reply = reply;
  p->user_data = user_data;
  set_state (ctl, "starting", "Creating the Daydream stream");
  drtc_daydream_create_stream (ctl->client, pipeline, params, name,
      on_created, p, job_free);
}

/* A stream the stop left behind, ended in the background (the server
 * waits for these before it exits). */
static void
on_deleted (gpointer result, const GError * error, gpointer data)
{
  DrtcServe *serve = data;

  serve->pending_deletes--;
  if (error)
    g_message ("could not end the Daydream stream: %s", error->message);
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
  if (ctl->poll) {
    g_source_destroy (ctl->poll);
    g_clear_pointer (&ctl->poll, g_source_unref);
  }
  stop_rates (ctl);
  teardown_pipeline (ctl);
  if (ctl->running && ctl->client && *ctl->stream_id
      && ctl->serve->opts.delete_on_stop) {
    ctl->serve->pending_deletes++;
    drtc_daydream_delete_stream (ctl->client, ctl->stream_id, on_deleted,
        ctl->serve, NULL);
  }
  ctl->running = FALSE;
  ctl->started_at = 0.0;
  set_string (&ctl->stream_id, NULL);
  set_string (&ctl->playback_id, NULL);
  set_string (&ctl->whip_url, NULL);
  set_string (&ctl->whep_url, NULL);
  set_state (ctl, "idle", detail ? detail : "Stream stopped");
  set_phase (ctl, "STOPPED", detail ? detail : "Stream stopped", NULL, NULL);
}

static void
on_updated (gpointer result, const GError * error, gpointer data)
{
  Pending *p = data;
  DrtcStreamController *ctl = p->job.ctl;
  JsonNode *answer = result;
  JsonObject *o;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) body = NULL;
  const gchar *pipeline;

  if (!answer) {
    reply_detail (p->reply, p->user_data, SOUP_STATUS_BAD_GATEWAY,
        error->message);
    return;
  }
  o = JSON_NODE_HOLDS_OBJECT (answer) ? json_node_get_object (answer) : NULL;
  pipeline = o ? drtc_json_get_string (o, "pipeline") : NULL;
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
  body = json_builder_get_root (b);
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
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonObject) params = NULL;
  g_autofree gchar *pipeline = NULL;
  Pending *p;

  if (!ctl->running || !ctl->client || !*ctl->stream_id) {
    reply_detail (reply, user_data, SOUP_STATUS_CONFLICT,
        "No active stream to update");
    return;
  }
  params = drtc_pipeline_config_split (pipeline_config, &pipeline, &err);
  if (!params || !drtc_pipeline_config_validate (pipeline, params, &err)) {
    reply_detail (reply, user_data, SOUP_STATUS_UNPROCESSABLE_ENTITY,
        err->message);
    return;
  }
  p = g_new0 (Pending, 1);
  p->job.ctl = ctl;
  p->job.generation = ctl->generation;
  ctl->jobs++;
  p->reply = reply;
  p->user_data = user_data;
  drtc_daydream_update_stream (ctl->client, ctl->stream_id, pipeline, params,
      on_updated, p, job_free);
}

/* ---- what /status and /metrics report ---- */

static void
add_queue_stats (DrtcStreamController * ctl, JsonBuilder * b, guint * depth)
{
  g_autoptr (GstStructure) s = src_stats (ctl);
  guint d = 0;
  guint64 dropped = 0, before = 0;

  gst_structure_get_uint (s, "queue-depth", &d);
  gst_structure_get_uint64 (s, "dropped", &dropped);
  gst_structure_get_uint64 (s, "dropped-before-start", &before);
  *depth = d;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "queued");
  json_builder_add_int_value (b, ctl->running ? d : 0);
  json_builder_set_member_name (b, "buffered");
  json_builder_add_int_value (b, ctl->running ? 0 : d);
  json_builder_set_member_name (b, "depth");
  json_builder_add_int_value (b, d);
  json_builder_set_member_name (b, "dropped_before_loop");
  json_builder_add_int_value (b, before);
  json_builder_set_member_name (b, "dropped");
  json_builder_add_int_value (b, dropped);
  json_builder_end_object (b);
}

/**
 * drtc_stream_controller_status:
 *
 * Returns: (transfer full): the reference tool's status object (from
 *   memory, never waiting on Daydream) plus "whep_url", "name" and
 *   "reconnects"
 */
JsonNode *
drtc_stream_controller_status (DrtcStreamController * ctl)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GstStructure) stats = src_stats (ctl);
  guint64 output = 0;
  guint depth = 0;

  gst_structure_get_uint64 (stats, "output", &output);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "running");
  json_builder_add_boolean_value (b, ctl->running);
  json_builder_set_member_name (b, "frames_sent");
  json_builder_add_int_value (b, ctl->running ?
      (gint64) (output - ctl->output_at_start) : 0);
  json_builder_set_member_name (b, "stream_id");
  json_builder_add_string_value (b, ctl->stream_id);
  json_builder_set_member_name (b, "playback_id");
  json_builder_add_string_value (b, ctl->playback_id);
  json_builder_set_member_name (b, "whip_url");
  json_builder_add_string_value (b, ctl->whip_url);
  json_builder_set_member_name (b, "whep_url");
  json_builder_add_string_value (b, ctl->whep_url);
  json_builder_set_member_name (b, "started_at");
  json_builder_add_double_value (b, ctl->started_at);
  json_builder_set_member_name (b, "remote_status");
  if (ctl->remote_status)
    json_builder_add_value (b, json_node_copy (ctl->remote_status));
  else {
    json_builder_begin_object (b);
    json_builder_end_object (b);
  }
  json_builder_set_member_name (b, "queue_stats");
  add_queue_stats (ctl, b, &depth);
  json_builder_set_member_name (b, "queue_depth");
  json_builder_add_int_value (b, depth);
  json_builder_set_member_name (b, "stream_settings");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "frame_rate");
  if (ctl->settings_float)
    json_builder_add_double_value (b, ctl->settings.frame_rate);
  else
    json_builder_add_int_value (b, ctl->settings.frame_rate);
  json_builder_set_member_name (b, "frame_width");
  json_builder_add_int_value (b, ctl->settings.frame_width);
  json_builder_set_member_name (b, "frame_height");
  json_builder_add_int_value (b, ctl->settings.frame_height);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, ctl->name);
  json_builder_set_member_name (b, "queue_mode");
  json_builder_add_string_value (b, ctl->running ? ctl->run_queue_mode :
      drtc_stream_controller_queue_mode (ctl));
  json_builder_set_member_name (b, "reconnects");
  json_builder_add_int_value (b, ctl->reconnects);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, ctl->state);
  json_builder_set_member_name (b, "state_detail");
  json_builder_add_string_value (b, ctl->state_detail);
  json_builder_set_member_name (b, "fps");
  json_builder_add_double_value (b, ctl->fps);
  json_builder_set_member_name (b, "bitrate");
  json_builder_add_double_value (b, ctl->bitrate);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* Stopped, and no Daydream call in flight holds it: it may be freed. */
gboolean
drtc_stream_controller_idle (DrtcStreamController * ctl)
{
  return !ctl->running && !ctl->pipeline && ctl->jobs == 0;
}

gboolean
drtc_stream_controller_running (DrtcStreamController * ctl)
{
  return ctl->running;
}

gboolean
drtc_stream_controller_frame_loop_ready (DrtcStreamController * ctl)
{
  return ctl->frame_loop_ready;
}

guint
drtc_stream_controller_queue_depth (DrtcStreamController * ctl)
{
  g_autoptr (GstStructure) s = src_stats (ctl);
  guint d = 0;

  gst_structure_get_uint (s, "queue-depth", &d);
  return d;
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

/**
 * drtc_stream_controller_queue_mode:
 *
 * Returns: the queue mode the next start uses unless its body names one:
 * the one /config set, else --queue-mode.
 */
const gchar *
drtc_stream_controller_queue_mode (DrtcStreamController * ctl)
{
  return ctl->queue_mode ? ctl->queue_mode : ctl->serve->opts.queue_mode;
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

/* The Prometheus families of a stream: from framebridgesrc's stats where
 * @stat is set, else the controller's own numbers (stream_value ()). */
static const struct
{
  const gchar *name, *type, *help, *stat;
} stream_families[] = {
  {"frames_in_total", "counter", "Frames accepted by POST /frames", "pushed"},
  {"frames_dropped_total", "counter",
        "Accepted frames dropped after start (full queue or missed ticks)",
      "dropped"},
  {"frames_dropped_before_start_total", "counter",
        "Frames dropped because they came before the stream started",
      "dropped-before-start"},
  {"frames_rejected_total", "counter",
      "Frames rejected as invalid (format, size)", "rejected"},
  {"frames_refused_total", "counter",
      "Frames refused by a full queue (backpressure mode)", "refused"},
  {"frames_out_total", "counter", "Frames sent into the stream's pipeline",
      "output"},
  {"frames_repeated_total", "counter",
      "Frames sent again because no new one was due", "repeated"},
  {"frames_fallback_total", "counter",
      "Fallback frames sent before the first frame came", "fallback"},
  {"queue_depth", "gauge", "Frames waiting in the stream's queue", NULL},
  {"running", "gauge", "1 while the stream runs, else 0", NULL},
  {"reconnects_total", "counter", "WHIP reconnections of the stream", NULL},
  {"fps", "gauge", "Frames per second published over WHIP, last second",
      NULL},
  {"bitrate_bps", "gauge", "Bits per second published over WHIP, last second",
      NULL},
  {"bytes_sent_total", "counter", "Bytes published over WHIP", NULL},
};

static gdouble
stream_value (DrtcStreamController * ctl, const GstStructure * stats,
    guint family)
{
  const gchar *name = stream_families[family].name;
  guint64 v = 0;

  if (stream_families[family].stat) {
    gst_structure_get_uint64 (stats, stream_families[family].stat, &v);
    return v;
  }
  if (g_str_equal (name, "queue_depth")) {
    guint d = 0;

    /* from the same snapshot as the counters, so that output = live +
     * repeated + fallback and pushed = live + dropped + depth hold */
    gst_structure_get_uint (stats, "queue-depth", &d);
    return d;
  }
  if (g_str_equal (name, "running"))
    return ctl->running;
  if (g_str_equal (name, "reconnects_total"))
    return ctl->reconnects;
  if (g_str_equal (name, "fps"))
    return ctl->fps;
  if (g_str_equal (name, "bitrate_bps"))
    return ctl->bitrate;
  return ctl->bytes_sent;
}

/**
 * drtc_stream_controller_metrics:
 * @ctls: (element-type DrtcStreamController): the streams, in output order
 *
 * Appends the streams' Prometheus families to @out, each one whole (HELP,
 * TYPE, then one sample per stream), as the text format requires.
 */
void
drtc_stream_controller_metrics (GPtrArray * ctls, GString * out)
{
  g_autoptr (GPtrArray) stats =
      g_ptr_array_new_with_free_func ((GDestroyNotify) gst_structure_free);
  gchar num[G_ASCII_DTOSTR_BUF_SIZE];

  for (guint i = 0; i < ctls->len; i++)
    g_ptr_array_add (stats, src_stats (ctls->pdata[i]));
  for (guint f = 0; f < G_N_ELEMENTS (stream_families); f++) {
    g_string_append_printf (out, "# HELP daydream_rtc_%s %s\n"
        "# TYPE daydream_rtc_%s %s\n", stream_families[f].name,
        stream_families[f].help, stream_families[f].name,
        stream_families[f].type);
    for (guint i = 0; i < ctls->len; i++) {
      DrtcStreamController *ctl = ctls->pdata[i];

      /* "C" formatting whatever the locale; names are [A-Za-z0-9_-] */
      g_ascii_formatd (num, sizeof num, "%.15g",
          stream_value (ctl, stats->pdata[i], f));
      g_string_append_printf (out, "daydream_rtc_%s{stream=\"%s\"} %s\n",
          stream_families[f].name, ctl->name, num);
    }
  }
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
  /* the HTTP client is gone by now: nothing of theirs is in flight */
  g_clear_pointer (&ctl->client, drtc_daydream_client_free);
  g_ptr_array_unref (ctl->retired);
  g_clear_pointer (&ctl->remote_status, json_node_unref);
  g_free (ctl->stream_id);
  g_free (ctl->playback_id);
  g_free (ctl->whip_url);
  g_free (ctl->whep_url);
  g_free (ctl->state_detail);
  g_free (ctl->name);
  g_free (ctl);
}
