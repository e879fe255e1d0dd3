/* daydream-rtc serve: the WHEP subscription of a stream (the output)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `whepsrc ! videoconvert ! RGB ! appsink`, keeping the latest frame (the
 * reference tool's latest-frame slot). whepsrc retries while the output is
 * not ready and reconnects on its own; its `whep-state` messages become the
 * reference tool's WHEP status fields. Disconnecting never waits on the main
 * loop (the reference tool could deadlock there: weakness 17).
 */
#include "drtc-serve-private.h"

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <string.h>

struct _DrtcWhepController
{
  DrtcServe *serve;
  GstElement *pipeline;
  GSource *bus_watch;
  guint generation;
  GPtrArray *stoppers;          /* threads taking old pipelines down */

  gchar *url;
  gboolean connected, connecting;
  gchar *connection_state, *ice_state, *last_error;
  gdouble connected_at;

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
drtc_whep_controller_new (DrtcServe * serve)
{
  DrtcWhepController *whep = g_new0 (DrtcWhepController, 1);

  whep->serve = serve;
  whep->stoppers = g_ptr_array_new ();
  g_mutex_init (&whep->lock);
  whep->url = g_strdup ("");
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

static gpointer
stop_pipeline (gpointer data)
{
  gst_element_set_state (data, GST_STATE_NULL);
  gst_object_unref (data);
  return NULL;
}

/* The subscription goes away; the slot forgets its frame but keeps its
 * size (the black placeholder keeps the last size, as the reference). */
static void
teardown (DrtcWhepController * whep, const gchar * reason)
{
  whep->generation++;
  if (whep->bus_watch) {
    g_source_destroy (whep->bus_watch);
    g_clear_pointer (&whep->bus_watch, g_source_unref);
  }
  if (whep->pipeline)
    g_ptr_array_add (whep->stoppers, g_thread_new ("drtc-whep-stop",
            stop_pipeline, g_steal_pointer (&whep->pipeline)));
  whep->connected = FALSE;
  whep->connecting = FALSE;
  whep->connected_at = 0.0;
  set_str (&whep->connection_state, "idle");
  set_str (&whep->ice_state, "new");
  if (reason)
    set_str (&whep->last_error, reason);
  g_mutex_lock (&whep->lock);
  g_clear_pointer (&whep->latest, gst_sample_unref);
  whep->frames = 0;
  whep->slot_frames = 0;
  whep->latest_at = 0.0;
  g_mutex_unlock (&whep->lock);
}

static void
on_whep_state (DrtcWhepController * whep, const GstStructure * s)
{
  const gchar *state = gst_structure_get_string (s, "state");
  const gchar *detail = gst_structure_get_string (s, "detail");

  if (g_str_equal (state, "connected")) {
    whep->connected = TRUE;
    whep->connecting = FALSE;
    whep->connected_at = drtc_now ();
    set_str (&whep->connection_state, "connected");
    set_str (&whep->ice_state, "completed");
  } else if (g_str_equal (state, "failed")) {
    teardown (whep, detail ? detail : "WHEP subscription failed");
  } else {
    /* waiting (404: output not ready), connecting, reconnecting */
    whep->connected = FALSE;
    whep->connecting = TRUE;
    set_str (&whep->connection_state, "connecting");
    set_str (&whep->ice_state, g_str_equal (state, "connecting") ?
        "checking" : "new");
    if (detail && !g_str_equal (state, "connecting"))
      set_str (&whep->last_error, detail);
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
    teardown (whep, err->message);
  }
  return G_SOURCE_CONTINUE;
}

/**
 * drtc_whep_controller_connect:
 * @url: an http(s) WHEP URL (checked by the caller)
 *
 * The same URL while connected or connecting changes nothing (as the
 * reference); another replaces the subscription.
 */
void
drtc_whep_controller_connect (DrtcWhepController * whep, const gchar * url)
{
  GstElement *src, *convert, *filter, *sink;
  g_autoptr (GstCaps) rgb = gst_caps_from_string ("video/x-raw,format=RGB");
  GstAppSinkCallbacks callbacks = { NULL, NULL, on_sample };
  g_autoptr (GstBus) bus = NULL;
  BusData *bd;

  if (g_str_equal (whep->url, url) && (whep->connected || whep->connecting))
    return;
  teardown (whep, NULL);
  set_str (&whep->url, url);
  set_str (&whep->last_error, "");
  whep->connecting = TRUE;
  set_str (&whep->connection_state, "connecting");
  whep->pipeline = gst_pipeline_new ("whep");
  src = gst_element_factory_make ("whepsrc", NULL);
  convert = gst_element_factory_make ("videoconvert", NULL);
  filter = gst_element_factory_make ("capsfilter", NULL);
  sink = gst_element_factory_make ("appsink", NULL);
  if (!src || !convert || !filter || !sink) {
    teardown (whep, "whepsrc, videoconvert or appsink is missing");
    return;
  }
  g_object_set (src, "whep-endpoint", url, NULL);
  if (whep->serve->opts.ice_local_addresses) {
    g_autofree gchar *local =
        g_strjoinv (",", whep->serve->opts.ice_local_addresses);
    g_object_set (src, "ice-local-addresses", local, NULL);
  }
  g_object_set (filter, "caps", rgb, NULL);
  g_object_set (sink, "sync", FALSE, "max-buffers", 1, "drop", TRUE,
      "enable-last-sample", FALSE, NULL);
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks, whep, NULL);
  gst_bin_add_many (GST_BIN (whep->pipeline), src, convert, filter, sink, NULL);
  gst_element_link_many (src, convert, filter, sink, NULL);
  bus = gst_element_get_bus (whep->pipeline);
  bd = g_new0 (BusData, 1);
  bd->whep = whep;
  bd->generation = whep->generation;
  whep->bus_watch = gst_bus_create_watch (bus);
  g_source_set_callback (whep->bus_watch,
      (GSourceFunc) (void (*)(void)) on_bus, bd, g_free);
  g_source_attach (whep->bus_watch, whep->serve->context);
  if (gst_element_set_state (whep->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE)
    teardown (whep, "could not start the WHEP subscription");
}

void
drtc_whep_controller_disconnect (DrtcWhepController * whep,
    const gchar * reason)
{
  teardown (whep, reason);
}

/**
 * drtc_whep_controller_status:
 *
 * Returns: (transfer full): the reference tool's WHEP status (and
 *   bridge_stats when asked)
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
  json_builder_set_member_name (b, "whep_url");
  json_builder_add_string_value (b, whep->url);
  json_builder_set_member_name (b, "connected");
  json_builder_add_boolean_value (b, whep->connected);
  json_builder_set_member_name (b, "connecting");
  json_builder_add_boolean_value (b, whep->connecting);
  json_builder_set_member_name (b, "connection_state");
  json_builder_add_string_value (b, whep->connection_state);
  json_builder_set_member_name (b, "ice_state");
  json_builder_add_string_value (b, whep->ice_state);
  json_builder_set_member_name (b, "connected_at");
  json_builder_add_double_value (b, whep->connected_at);
  json_builder_set_member_name (b, "frames_received");
  json_builder_add_int_value (b, frames);
  json_builder_set_member_name (b, "last_error");
  json_builder_add_string_value (b, whep->last_error);
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
  for (guint i = 0; i < whep->stoppers->len; i++)
    g_thread_join (g_ptr_array_index (whep->stoppers, i));
  g_ptr_array_unref (whep->stoppers);
  g_free (whep->url);
  g_free (whep->connection_state);
  g_free (whep->ice_state);
  g_free (whep->last_error);
  g_mutex_clear (&whep->lock);
  g_free (whep);
}
