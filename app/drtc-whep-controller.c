/* daydream-rtc serve: the WHEP subscription of a stream (the output)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `whepsrc ! videoconvert ! RGB ! appsink`, keeping the latest frame (the
 * reference tool's latest-frame slot). whepsrc retries while the output is
 * not ready and reconnects on its own; its `whep-state` messages become the
 * reference tool's WHEP status fields. Disconnecting never waits on the main
 * loop (the reference tool could deadlock there: weakness 17).
 *
 * An attempt that has not connected within --whep-timeout (or that whepsrc
 * gives up) fails visibly: `last_error` says why, `connection_state` is
 * "error", and a new attempt follows after a backoff (1 s, doubling to
 * 30 s). Given the WHIP URL of one of serve's own streams (the original
 * node pack's status fallback), it subscribes to that stream's WHEP URL
 * instead, as soon as the stream knows it: a WHEP offer POSTed to a WHIP
 * endpoint would only be refused.
 */
#include "drtc-serve-private.h"
#include "drtc-daydream.h"

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <string.h>

#define RESOLVE_INTERVAL_MS 250
#define WATCH_INTERVAL_MS 500
#define FIRST_RETRY_MS 1000
#define MAX_RETRY_MS 30000

struct _DrtcWhepController
{
  DrtcServe *serve;
  DrtcOwnStreamFunc own_stream;
  GstElement *pipeline;
  GSource *bus_watch;
  GSource *timer;               /* resolve, watchdog or retry */
  guint generation;             /* bumped whenever the pipeline goes */
  GMutex stop_lock;
  GCond stop_cond;
  guint stopping;               /* old pipelines still going to NULL */

  gchar *requested;             /* what /whep/connect was given */
  gchar *stream_name;           /* the own stream @requested is the WHIP
                                 * URL of, or NULL */
  gchar *url;                   /* what whepsrc subscribes to */
  gchar *note;
  gchar *attempt_reason;        /* whepsrc's last word on this attempt */
  gboolean active;              /* connect()ed, not disconnected */
  gboolean connected, connecting;
  gchar *connection_state, *ice_state, *last_error;
  gdouble connected_at;
  guint attempts, failures;
  gint64 attempt_us;            /* not connected since */
  gint64 retry_us;              /* next attempt, 0 if none is due */

  GMutex lock;                  /* the slot: written by appsink's thread */
  GstSample *latest;
  guint64 frames;               /* since connect */
  guint64 slot_frames;          /* into the slot, reset on teardown */
  gdouble latest_at;
  gint width, height;           /* of the last frame ever (1280x720 first) */
};

static void
set_str (gchar ** field, const gchar * value)
{
  g_free (*field);
  *field = g_strdup (value);
}

DrtcWhepController *
drtc_whep_controller_new (DrtcServe * serve, DrtcOwnStreamFunc own_stream)
{
  DrtcWhepController *whep = g_new0 (DrtcWhepController, 1);

  whep->serve = serve;
  whep->own_stream = own_stream;
  g_mutex_init (&whep->stop_lock);
  g_cond_init (&whep->stop_cond);
  g_mutex_init (&whep->lock);
  whep->requested = g_strdup ("");
  whep->url = g_strdup ("");
  whep->note = g_strdup ("");
  whep->connection_state = g_strdup ("idle");
  whep->ice_state = g_strdup ("new");
  whep->last_error = g_strdup ("");
  whep->width = 1280;
  whep->height = 720;
  return whep;
}

static GstFlowReturn
on_sample (GstAppSink * sink, gpointer data)
{
  DrtcWhepController *whep = data;
  GstSample *sample = gst_app_sink_pull_sample (sink);
  GstVideoInfo info;

  if (!sample)
    return GST_FLOW_EOS;
  g_mutex_lock (&whep->lock);
  if (gst_video_info_from_caps (&info, gst_sample_get_caps (sample))) {
    whep->width = GST_VIDEO_INFO_WIDTH (&info);
    whep->height = GST_VIDEO_INFO_HEIGHT (&info);
  }
  g_clear_pointer (&whep->latest, gst_sample_unref);
  whep->latest = sample;
  whep->frames++;
  whep->slot_frames++;
  whep->latest_at = drtc_now ();
  g_mutex_unlock (&whep->lock);
  return GST_FLOW_OK;
}

typedef struct
{
  DrtcWhepController *whep;
  GstElement *pipeline;
} Stopper;

/* The appsink points at @whep until its pipeline is in NULL: free()
 * waits for every stopper. */
static gpointer
stop_pipeline (gpointer data)
{
  Stopper *stop = data;
  DrtcWhepController *whep = stop->whep;

  gst_element_set_state (stop->pipeline, GST_STATE_NULL);
  gst_object_unref (stop->pipeline);
  g_free (stop);
  g_mutex_lock (&whep->stop_lock);
  whep->stopping--;
  g_cond_broadcast (&whep->stop_cond);
  g_mutex_unlock (&whep->stop_lock);
  return NULL;
}

static void
clear_timer (DrtcWhepController * whep)
{
  if (whep->timer) {
    g_source_destroy (whep->timer);
    g_clear_pointer (&whep->timer, g_source_unref);
  }
}

static void
set_timer (DrtcWhepController * whep, guint ms, GSourceFunc func)
{
  clear_timer (whep);
  whep->timer = g_timeout_source_new (ms);
  g_source_set_callback (whep->timer, func, whep, NULL);
  g_source_attach (whep->timer, whep->serve->context);
}

/* The pipeline goes; the slot forgets its frame but keeps its size (the
 * black placeholder keeps the last size, as the reference). */
static void
drop_pipeline (DrtcWhepController * whep)
{
  whep->generation++;
  if (whep->bus_watch) {
    g_source_destroy (whep->bus_watch);
    g_clear_pointer (&whep->bus_watch, g_source_unref);
  }
  if (whep->pipeline) {
    Stopper *stop = g_new0 (Stopper, 1);

    stop->whep = whep;
    stop->pipeline = g_steal_pointer (&whep->pipeline);
    g_mutex_lock (&whep->stop_lock);
    whep->stopping++;
    g_mutex_unlock (&whep->stop_lock);
    g_thread_unref (g_thread_new ("drtc-whep-stop", stop_pipeline, stop));
  }
  whep->connected = FALSE;
  whep->connecting = FALSE;
  whep->connected_at = 0.0;
  g_mutex_lock (&whep->lock);
  g_clear_pointer (&whep->latest, gst_sample_unref);
  whep->frames = 0;
  whep->slot_frames = 0;
  whep->latest_at = 0.0;
  g_mutex_unlock (&whep->lock);
}

/* The subscription ends for good (until the next connect). */
static void
teardown (DrtcWhepController * whep, const gchar * reason)
{
  clear_timer (whep);
  drop_pipeline (whep);
  whep->active = FALSE;
  whep->retry_us = 0;
  set_str (&whep->connection_state, "idle");
  set_str (&whep->ice_state, "new");
  if (reason)
    set_str (&whep->last_error, reason);
}

static gboolean on_retry (gpointer data);

/* This attempt failed: say so, and try again after a backoff. */
static void
fail_attempt (DrtcWhepController * whep, const gchar * reason)
{
  guint delay = FIRST_RETRY_MS << MIN (whep->failures, 5);

  delay = MIN (delay, MAX_RETRY_MS);
  whep->failures++;
  drop_pipeline (whep);
  set_str (&whep->connection_state, "error");
  set_str (&whep->ice_state, "failed");
  set_str (&whep->last_error, reason);
  whep->retry_us = g_get_monotonic_time () + delay * (gint64) 1000;
  set_timer (whep, delay, on_retry);
  g_message ("WHEP subscription failed (%s); next attempt in %u ms", reason,
      delay);
}

static void
on_whep_state (DrtcWhepController * whep, const GstStructure * s)
{
  const gchar *state = gst_structure_get_string (s, "state");
  const gchar *reason = gst_structure_get_string (s, "reason");

  if (reason && !*reason)
    reason = NULL;
  if (g_str_equal (state, "connected")) {
    whep->connected = TRUE;
    whep->connecting = FALSE;
    whep->connected_at = drtc_now ();
    whep->failures = 0;
    set_str (&whep->connection_state, "connected");
    set_str (&whep->ice_state, "completed");
    set_str (&whep->last_error, "");
  } else if (g_str_equal (state, "failed")) {
    fail_attempt (whep, reason ? reason : "WHEP subscription failed");
  } else {
    /* waiting (404: output not ready), connecting, reconnecting */
    if (whep->connected)
      whep->attempt_us = g_get_monotonic_time ();       /* lost: count again */
    whep->connected = FALSE;
    whep->connecting = TRUE;
    set_str (&whep->connection_state, "connecting");
    set_str (&whep->ice_state, g_str_equal (state, "connecting") ?
        "checking" : "new");
    if (reason) {
      set_str (&whep->attempt_reason, reason);
      set_str (&whep->last_error, reason);
    }
  }
}

typedef struct
{
  DrtcWhepController *whep;
  guint generation;
} BusData;

static gboolean
on_bus (GstBus * bus, GstMessage * msg, gpointer data)
{
  BusData *bd = data;
  DrtcWhepController *whep = bd->whep;

  if (bd->generation != whep->generation)
    return G_SOURCE_REMOVE;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT) {
    const GstStructure *s = gst_message_get_structure (msg);

    if (s && gst_structure_has_name (s, "whep-state"))
      on_whep_state (whep, s);
  } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) err = NULL;

    gst_message_parse_error (msg, &err, NULL);
    fail_attempt (whep, err->message);
  }
  return G_SOURCE_CONTINUE;
}

/* Not connected within --whep-timeout: this attempt failed. */
static gboolean
on_watch (gpointer data)
{
  DrtcWhepController *whep = data;
  guint timeout_s = whep->serve->opts.whep_timeout_s;
  g_autofree gchar *reason = NULL;

  if (whep->connected || g_get_monotonic_time () - whep->attempt_us <
      timeout_s * G_USEC_PER_SEC)
    return G_SOURCE_CONTINUE;
  if (whep->attempt_reason)
    reason = g_strdup_printf ("not connected within %u s (last: %s)",
        timeout_s, whep->attempt_reason);
  else
    reason = g_strdup_printf ("not connected within %u s", timeout_s);
  fail_attempt (whep, reason);  /* replaces this timer */
  return G_SOURCE_CONTINUE;
}

/* The API key as whepsrc's token, only for a WHEP URL on the API's origin
 * (a keyed local gateway requires it there): never for another host. */
static void
set_token (DrtcWhepController * whep, GstElement * src, const gchar * url)
{
  const DrtcServeOptions *opts = &whep->serve->opts;
  g_autofree gchar *key = drtc_daydream_resolve_key (opts->api_key_file,
      NULL);
  g_autofree gchar *token = drtc_daydream_media_token (opts->api_url ?
      opts->api_url : g_getenv ("DAYDREAM_API_URL"), key, url);

  if (token) {
    g_object_set (src, "auth-token", token, NULL);
    memset (token, 0, strlen (token));
  }
  if (key)
    memset (key, 0, strlen (key));
}

static GstElement *
build_pipeline (DrtcWhepController * whep, const gchar * url)
{
  GstElement *pipeline, *src, *convert, *filter, *sink;
  g_autoptr (GstCaps) rgb = gst_caps_from_string ("video/x-raw,format=RGB");
  GstAppSinkCallbacks callbacks = { NULL, NULL, on_sample };

  src = gst_element_factory_make ("whepsrc", NULL);
  convert = gst_element_factory_make ("videoconvert", NULL);
  filter = gst_element_factory_make ("capsfilter", NULL);
  sink = gst_element_factory_make ("appsink", NULL);
  if (!src || !convert || !filter || !sink) {
    gst_clear_object (&src);
    gst_clear_object (&convert);
    gst_clear_object (&filter);
    gst_clear_object (&sink);
    return NULL;
  }
  pipeline = gst_pipeline_new ("whep");
  g_object_set (src, "whep-endpoint", url, NULL);
  set_token (whep, src, url);
  if (whep->serve->opts.ice_local_addresses) {
    g_autofree gchar *local =
        g_strjoinv (",", whep->serve->opts.ice_local_addresses);
    g_object_set (src, "ice-local-addresses", local, NULL);
  }
  g_object_set (filter, "caps", rgb, NULL);
  g_object_set (sink, "sync", FALSE, "max-buffers", 1, "drop", TRUE,
      "enable-last-sample", FALSE, NULL);
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks, whep, NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, convert, filter, sink, NULL);
  gst_element_link_many (src, convert, filter, sink, NULL);
  return pipeline;
}

/* One attempt at @url, watched for --whep-timeout. */
static void
start_attempt (DrtcWhepController * whep, const gchar * url)
{
  g_autoptr (GstBus) bus = NULL;
  BusData *bd;

  drop_pipeline (whep);
  set_str (&whep->url, url);
  whep->attempts++;
  whep->retry_us = 0;
  g_clear_pointer (&whep->attempt_reason, g_free);
  whep->connecting = TRUE;
  whep->attempt_us = g_get_monotonic_time ();
  set_str (&whep->connection_state, "connecting");
  set_str (&whep->ice_state, "new");
  whep->pipeline = build_pipeline (whep, url);
  if (!whep->pipeline) {
    teardown (whep, "whepsrc, videoconvert or appsink is missing");
    return;
  }
  bus = gst_element_get_bus (whep->pipeline);
  bd = g_new0 (BusData, 1);
  bd->whep = whep;
  bd->generation = whep->generation;
  whep->bus_watch = gst_bus_create_watch (bus);
  g_source_set_callback (whep->bus_watch,
      (GSourceFunc) (void (*)(void)) on_bus, bd, g_free);
  g_source_attach (whep->bus_watch, whep->serve->context);
  set_timer (whep, WATCH_INTERVAL_MS, on_watch);
  if (gst_element_set_state (whep->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE)
    fail_attempt (whep, "could not start the WHEP subscription");
}

/* The WHEP URL of the own stream whose WHIP URL was given: %NULL (and the
 * subscription ended) once that stream is gone, "" while unknown. */
static gchar *
own_whep_url (DrtcWhepController * whep)
{
  g_autofree gchar *name = NULL;
  gchar *url = NULL;

  if (whep->own_stream (whep->serve, whep->requested, &name, &url))
    return url;
  teardown (whep, NULL);
  g_free (whep->last_error);
  whep->last_error = g_strdup_printf ("stream '%s' ended before its WHEP URL "
      "was known", whep->stream_name);
  return NULL;
}

static gboolean
on_resolve (gpointer data)
{
  DrtcWhepController *whep = data;
  guint timeout_s = whep->serve->opts.whep_timeout_s;
  g_autofree gchar *url = own_whep_url (whep);

  if (!url)
    return G_SOURCE_REMOVE;     /* teardown() dropped the timer */
  if (*url) {
    start_attempt (whep, url);  /* replaces this timer */
    return G_SOURCE_CONTINUE;
  }
  if (!*whep->last_error && g_get_monotonic_time () - whep->attempt_us >
      timeout_s * G_USEC_PER_SEC) {
    g_free (whep->last_error);
    whep->last_error = g_strdup_printf ("stream '%s' has no WHEP URL yet "
        "after %u s; still waiting for it", whep->stream_name, timeout_s);
  }
  return G_SOURCE_CONTINUE;
}

/* Waits for the own stream's WHEP URL, or starts at once when known. */
static void
subscribe_own (DrtcWhepController * whep, const gchar * whep_url)
{
  g_free (whep->note);
  whep->note = g_strdup_printf ("whep_url was the WHIP URL of stream '%s' "
      "(where its frames go in); subscribed to its WHEP URL (its output) "
      "instead%s", whep->stream_name, *whep_url ? "" :
      ", as soon as it is known");
  if (*whep_url) {
    start_attempt (whep, whep_url);
    return;
  }
  whep->connecting = TRUE;
  whep->attempt_us = g_get_monotonic_time ();
  set_str (&whep->connection_state, "connecting");
  set_timer (whep, RESOLVE_INTERVAL_MS, on_resolve);
}

static gboolean
on_retry (gpointer data)
{
  DrtcWhepController *whep = data;
  g_autofree gchar *url = NULL;

  whep->retry_us = 0;
  if (!whep->stream_name) {
    start_attempt (whep, whep->requested);      /* replaces this timer */
    return G_SOURCE_CONTINUE;
  }
  /* the stream may have a new WHEP URL by now */
  if (!(url = own_whep_url (whep)))
    return G_SOURCE_REMOVE;
  start_attempt (whep, *url ? url : whep->url);
  return G_SOURCE_CONTINUE;
}

/**
 * drtc_whep_controller_connect:
 * @url: an http(s) WHEP URL (checked by the caller)
 *
 * The same URL while connected, connecting or waiting to retry changes
 * nothing (as the reference); another replaces the subscription. The WHIP
 * URL of one of serve's streams subscribes to that stream's WHEP URL.
 */
void
drtc_whep_controller_connect (DrtcWhepController * whep, const gchar * url)
{
  g_autofree gchar *whep_url = NULL;

  if (whep->active && g_str_equal (whep->requested, url))
    return;
  teardown (whep, NULL);
  whep->active = TRUE;
  whep->attempts = whep->failures = 0;
  set_str (&whep->requested, url);
  set_str (&whep->url, url);
  set_str (&whep->note, "");
  set_str (&whep->last_error, "");
  g_clear_pointer (&whep->stream_name, g_free);
  if (whep->own_stream (whep->serve, url, &whep->stream_name, &whep_url))
    subscribe_own (whep, whep_url);
  else
    start_attempt (whep, url);
}

void
drtc_whep_controller_disconnect (DrtcWhepController * whep,
    const gchar * reason)
{
  teardown (whep, reason);
}

static void
add_str (JsonBuilder * b, const gchar * name, const gchar * value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

static void
add_attempts (DrtcWhepController * whep, JsonBuilder * b)
{
  gint64 left = whep->retry_us ? whep->retry_us - g_get_monotonic_time () : 0;

  add_str (b, "requested_url", whep->requested);
  add_str (b, "note", whep->note);
  json_builder_set_member_name (b, "attempts");
  json_builder_add_int_value (b, whep->attempts);
  json_builder_set_member_name (b, "retry_in_s");
  json_builder_add_double_value (b, MAX (left, 0) / 1e6);
}

/**
 * drtc_whep_controller_status:
 *
 * Returns: (transfer full): the reference tool's WHEP status, what this
 *   implementation adds, and bridge_stats when asked
 */
JsonNode *
drtc_whep_controller_status (DrtcWhepController * whep,
    gboolean with_bridge_stats)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  guint64 frames, slot_frames;
  gdouble at;
  gint w, h;

  g_mutex_lock (&whep->lock);
  frames = whep->frames;
  slot_frames = whep->slot_frames;
  at = whep->latest_at;
  w = whep->width;
  h = whep->height;
  g_mutex_unlock (&whep->lock);
  json_builder_begin_object (b);
  add_str (b, "whep_url", whep->url);
  json_builder_set_member_name (b, "connected");
  json_builder_add_boolean_value (b, whep->connected);
  json_builder_set_member_name (b, "connecting");
  json_builder_add_boolean_value (b, whep->connecting);
  add_str (b, "connection_state", whep->connection_state);
  add_str (b, "ice_state", whep->ice_state);
  json_builder_set_member_name (b, "connected_at");
  json_builder_add_double_value (b, whep->connected_at);
  json_builder_set_member_name (b, "frames_received");
  json_builder_add_int_value (b, frames);
  add_str (b, "last_error", whep->last_error);
  add_attempts (whep, b);
  if (with_bridge_stats) {
    json_builder_set_member_name (b, "bridge_stats");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "frames_received");
    json_builder_add_int_value (b, slot_frames);
    json_builder_set_member_name (b, "timestamp");
    json_builder_add_double_value (b, at);
    json_builder_set_member_name (b, "frame_width");
    json_builder_add_int_value (b, w);
    json_builder_set_member_name (b, "frame_height");
    json_builder_add_int_value (b, h);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/**
 * drtc_whep_controller_latest:
 *
 * Returns: (transfer full) (nullable): the latest RGB frame, any thread
 */
GstSample *
drtc_whep_controller_latest (DrtcWhepController * whep, gdouble * timestamp,
    gint * width, gint * height)
{
  GstSample *sample;

  g_mutex_lock (&whep->lock);
  sample = whep->latest ? gst_sample_ref (whep->latest) : NULL;
  *timestamp = whep->latest_at;
  *width = whep->width;
  *height = whep->height;
  g_mutex_unlock (&whep->lock);
  return sample;
}

void
drtc_whep_controller_free (DrtcWhepController * whep)
{
  if (!whep)
    return;
  teardown (whep, NULL);
  /* the old pipelines' appsinks point at us until they have stopped */
  g_mutex_lock (&whep->stop_lock);
  while (whep->stopping > 0)
    g_cond_wait (&whep->stop_cond, &whep->stop_lock);
  g_mutex_unlock (&whep->stop_lock);
  g_free (whep->requested);
  g_free (whep->stream_name);
  g_free (whep->url);
  g_free (whep->note);
  g_free (whep->attempt_reason);
  g_free (whep->connection_state);
  g_free (whep->ice_state);
  g_free (whep->last_error);
  g_mutex_clear (&whep->lock);
  g_mutex_clear (&whep->stop_lock);
  g_cond_clear (&whep->stop_cond);
  g_free (whep);
}
