/* daydream-rtc: daydreamcontrol, a Daydream stream driven from a pipeline
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-daydreamcontrol
 * @title: daydreamcontrol
 *
 * Creates a Daydream stream when the pipeline starts, gives its WHIP URL to
 * the whipsink and its WHEP URL (the processed output) to the whepsrc of the
 * same bin, sends parameter changes while playing (debounced, 100 ms), and
 * ends the stream when the pipeline stops. It has no pads.
 *
 * The API key comes from #GstDaydreamControl:api-key or DAYDREAM_API_KEY;
 * the service from #GstDaydreamControl:api-url or DAYDREAM_API_URL
 * (default https://api.daydream.live; point it at `daydream-rtc gateway` to
 * work offline). The pipeline config is the default one (data/
 * pipeline-config.json) unless #GstDaydreamControl:pipeline-config or
 * #GstDaydreamControl:pipeline-config-location give another, with the
 * shortcut properties (prompt, seed, ...) applied on top. It is checked
 * against the service's rules before any request is made.
 *
 * Element messages `daydream-state`: `state` (creating, created, ready,
 * updated, update-failed, stopped, failed), `detail`, `stream-id`.
 *
 * ## Example launch lines
 * |[
 * DAYDREAM_API_URL=http://127.0.0.1:8896 DAYDREAM_API_KEY=... \
 * gst-launch-1.0 daydreamcontrol prompt="oil painting" \
 *     videotestsrc is-live=true ! \
 *     video/x-raw,width=512,height=512,framerate=30/1 ! whipsink \
 *     whepsrc ! videoconvert ! autovideosink
 * ]| Publish a test pattern through a Daydream stream and show the output.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "daydreamcontrol-private.h"

#include <string.h>

#include "daydreamcontrol-targets.h"
#include "drtc-props.h"

GST_DEBUG_CATEGORY (gst_daydream_control_debug);
#define GST_CAT_DEFAULT gst_daydream_control_debug

GParamSpec *control_props[N_PROPS];

#define gst_daydream_control_parent_class parent_class
G_DEFINE_TYPE (GstDaydreamControl, gst_daydream_control, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (daydreamcontrol, "daydreamcontrol",
    GST_RANK_NONE, GST_TYPE_DAYDREAM_CONTROL,
    GST_DEBUG_CATEGORY_INIT (gst_daydream_control_debug, "daydreamcontrol", 0,
        "Daydream stream control"));

/* ---- the elements we drive ---- */

/**
 * gst_daydream_control_is_managing:
 * @element: a whipsink or whepsrc
 *
 * Whether a daydreamcontrol sits in one of @element's bins, and so will set
 * its endpoint once the Daydream stream exists: such an element may start
 * without one. Called from the element's own state change, where no bin
 * lock is held.
 */
gboolean
gst_daydream_control_is_managing (GstElement * element)
{
  GstObject *bin = gst_object_get_parent (GST_OBJECT (element));
  gboolean found = FALSE;

  while (bin && !found) {
    GstIterator *it = gst_bin_iterate_elements (GST_BIN (bin));
    GValue item = G_VALUE_INIT;
    GstObject *up;

    while (!found && gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
      found = GST_IS_DAYDREAM_CONTROL (g_value_get_object (&item));
      g_value_reset (&item);
    }
    g_value_unset (&item);
    gst_iterator_free (it);
    up = gst_object_get_parent (bin);
    gst_object_unref (bin);
    bin = up;
  }
  gst_clear_object (&bin);
  return found;
}

/* ---- the pipeline config ---- */

/* Returns FALSE after posting an error. */
static gboolean
build_config (GstDaydreamControl * self)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *pipeline = NULL;
  JsonObject *params;

  g_mutex_lock (&self->lock);
  params = control_config_build (&self->config, &pipeline, &err);
  if (params) {
    g_clear_pointer (&self->params, json_object_unref);
    self->params = params;
    g_free (self->pipeline);
    self->pipeline = g_steal_pointer (&pipeline);
  }
  g_mutex_unlock (&self->lock);
  if (!params)
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid pipeline config: %s", err->message), (NULL));
  return params != NULL;
}

/* ---- state changes ---- */

/* api-key, else DAYDREAM_API_KEY; NULL after posting an error */
static gchar *
resolve_key (GstDaydreamControl * self)
{
  gchar *key;

  g_mutex_lock (&self->lock);
  key = g_strdup (self->api_key);
  g_mutex_unlock (&self->lock);
  if (!key && !(key = drtc_daydream_resolve_key (NULL, NULL)))
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_AUTHORIZED,
        ("No Daydream API key: set api-key or DAYDREAM_API_KEY"), (NULL));
  return key;
}

static void
clear_key (gchar * key)
{
  memset (key, 0, strlen (key));
  g_free (key);
}

static gboolean
prepare (GstDaydreamControl * self)
{
  gchar *key;

  if (!build_config (self) || !(key = resolve_key (self)))
    return FALSE;
  clear_key (key);
  self->http = drtc_http_new ("daydreamcontrol-http");
  return TRUE;
}

static void find_targets (GstDaydreamControl * self);

/* A session per start: api-url and the key may change in READY. */
static gboolean
start (GstDaydreamControl * self)
{
  gchar *key = resolve_key (self);
  g_autofree gchar *url = NULL;

  if (!key)
    return FALSE;
  find_targets (self);
  g_mutex_lock (&self->lock);
  url = g_strdup (self->api_url ? self->api_url :
      g_getenv ("DAYDREAM_API_URL"));
  g_mutex_unlock (&self->lock);
  control_session_start (self, url, key);
  clear_key (key);
  return TRUE;
}

static void
find_targets (GstDaydreamControl * self)
{
  g_autofree gchar *whip_name = NULL;
  g_autofree gchar *whep_name = NULL;
  g_autoptr (GstElement) whip = NULL;
  g_autoptr (GstElement) whep = NULL;

  g_mutex_lock (&self->lock);
  whip_name = g_strdup (self->whip_sink_name);
  whep_name = g_strdup (self->whep_src_name);
  g_mutex_unlock (&self->lock);
  whip = control_find_target (GST_ELEMENT (self), whip_name, "whipsink");
  whep = control_find_target (GST_ELEMENT (self), whep_name, "whepsrc");
  if (!whip)
    GST_ELEMENT_WARNING (self, CORE, FAILED,
        ("No whipsink to drive: the stream gets no input from here"), (NULL));
  g_weak_ref_set (&self->whip, whip);
  g_weak_ref_set (&self->whep, whep);
}

static void
clear_stream (GstDaydreamControl * self)
{
  control_set_field (self, &self->stream_id, NULL, PROP_STREAM_ID);
  control_set_field (self, &self->playback_id, NULL, PROP_PLAYBACK_ID);
  control_set_field (self, &self->whip_url, NULL, PROP_WHIP_URL);
  control_set_field (self, &self->whep_url, NULL, PROP_WHEP_URL);
}

static GstStateChangeReturn
gst_daydream_control_change_state (GstElement * element,
    GstStateChange transition)
{
  GstDaydreamControl *self = GST_DAYDREAM_CONTROL (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      if (!prepare (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!start (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      control_session_stop (self);
      break;
    default:
      break;
  }
  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      control_session_wait_ended (self);
      clear_stream (self);
      control_post_state (self, "stopped", "pipeline stopped");
      break;
    case GST_STATE_CHANGE_READY_TO_NULL:
      g_clear_pointer (&self->http, drtc_http_free);
      break;
    default:
      break;
  }
  return ret;
}

/* ---- properties ---- */

/* A parameter shortcut changed: into the params, and to the service soon
 * when a stream runs. */
static void
param_changed (GstDaydreamControl * self, const gchar * member,
    const GValue * value)
{
  gboolean send;

  g_mutex_lock (&self->lock);
  if (self->params)
    control_config_apply (self->params, member, value);
  send = self->stream_id != NULL && self->http != NULL;
  self->dirty = self->dirty || send;
  g_mutex_unlock (&self->lock);
  if (send)
    control_session_arm_patch (self);
}

/* every property is a field; the parameter shortcuts also go to the
 * stream (see param_changed) */
#define FIELD(prop, member) DRTC_PROP_FIELD (prop, GstDaydreamControl, member)
static const DrtcPropField fields[] = {
  FIELD (PROP_API_URL, api_url),
  FIELD (PROP_API_KEY, api_key),
  FIELD (PROP_PIPELINE_CONFIG, config.json),
  FIELD (PROP_PIPELINE_CONFIG_LOCATION, config.location),
  FIELD (PROP_PROMPT, config.prompt),
  FIELD (PROP_NEGATIVE_PROMPT, config.negative_prompt),
  FIELD (PROP_SEED, config.seed),
  FIELD (PROP_MODEL_ID, config.model_id),
  FIELD (PROP_DELTA, config.delta),
  FIELD (PROP_STREAM_NAME, stream_name),
  FIELD (PROP_WHIP_SINK, whip_sink_name),
  FIELD (PROP_WHEP_SRC, whep_src_name),
  FIELD (PROP_DELETE_ON_STOP, delete_on_stop),
  FIELD (PROP_READY_TIMEOUT, ready_timeout),
  FIELD (PROP_STREAM_ID, stream_id),
  FIELD (PROP_PLAYBACK_ID, playback_id),
  FIELD (PROP_WHIP_URL, whip_url),
  FIELD (PROP_WHEP_URL, whep_url),
  FIELD (PROP_STATUS, status),
};

#undef FIELD

/* the params member a shortcut property sets, or NULL */
static const gchar *
param_member (guint prop_id)
{
  switch (prop_id) {
    case PROP_PROMPT:
      return "prompt";
    case PROP_NEGATIVE_PROMPT:
      return "negative_prompt";
    case PROP_SEED:
      return "seed";
    case PROP_MODEL_ID:
      return "model_id";
    case PROP_DELTA:
      return "delta";
    default:
      return NULL;
  }
}

static void
gst_daydream_control_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstDaydreamControl *self = GST_DAYDREAM_CONTROL (object);
  const gchar *member = param_member (prop_id);

  if (!drtc_props_settable (GST_ELEMENT (self), pspec, GST_CAT_DEFAULT))
    return;
  drtc_props_set_locked (object, &self->lock, fields, G_N_ELEMENTS (fields),
      prop_id, value, pspec);
  if (member)
    param_changed (self, member, value);
}

static void
gst_daydream_control_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstDaydreamControl *self = GST_DAYDREAM_CONTROL (object);

  drtc_props_get_locked (object, &self->lock, fields, G_N_ELEMENTS (fields),
      prop_id, value, pspec);
}

static void
gst_daydream_control_init (GstDaydreamControl * self)
{
  g_mutex_init (&self->lock);
  g_mutex_init (&self->stop_lock);
  g_cond_init (&self->stop_cond);
  g_weak_ref_init (&self->whip, NULL);
  g_weak_ref_init (&self->whep, NULL);
  control_config_init (&self->config);
  self->delete_on_stop = DEFAULT_DELETE_ON_STOP;
  self->ready_timeout = DEFAULT_READY_TIMEOUT;
  self->status = g_strdup ("idle");
}

static void
gst_daydream_control_finalize (GObject * object)
{
  GstDaydreamControl *self = GST_DAYDREAM_CONTROL (object);

  g_clear_pointer (&self->http, drtc_http_free);
  g_clear_pointer (&self->session, drtc_daydream_session_unref);
  g_weak_ref_clear (&self->whip);
  g_weak_ref_clear (&self->whep);
  if (self->api_key)
    memset (self->api_key, 0, strlen (self->api_key));
  g_free (self->api_key);
  g_free (self->api_url);
  control_config_clear (&self->config);
  g_free (self->stream_name);
  g_free (self->whip_sink_name);
  g_free (self->whep_src_name);
  g_free (self->stream_id);
  g_free (self->playback_id);
  g_free (self->whip_url);
  g_free (self->whep_url);
  g_free (self->status);
  g_free (self->pipeline);
  g_clear_pointer (&self->params, json_object_unref);
  g_mutex_clear (&self->lock);
  g_mutex_clear (&self->stop_lock);
  g_cond_clear (&self->stop_cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_daydream_control_class_init (GstDaydreamControlClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;
  const GParamFlags live = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  gobject_class->set_property = gst_daydream_control_set_property;
  gobject_class->get_property = gst_daydream_control_get_property;
  gobject_class->finalize = gst_daydream_control_finalize;

  control_props[PROP_API_URL] = g_param_spec_string ("api-url", "API URL",
      "Daydream API base URL (default: DAYDREAM_API_URL, else "
      DRTC_DAYDREAM_DEFAULT_API_URL ")", NULL, rw);
  control_props[PROP_API_KEY] = g_param_spec_string ("api-key", "API key",
      "Daydream API key (default: DAYDREAM_API_KEY); write-only, never "
      "logged", NULL, G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY);
  control_props[PROP_PIPELINE_CONFIG] = g_param_spec_string ("pipeline-config",
      "Pipeline config", "Pipeline config as JSON ({\"pipeline\": ..., "
      "\"params\": {...}} or the params alone); default: the built-in one",
      NULL, rw);
  control_props[PROP_PIPELINE_CONFIG_LOCATION] = g_param_spec_string
      ("pipeline-config-location", "Pipeline config file",
      "A JSON file with the pipeline config (wins over pipeline-config)",
      NULL, rw);
  control_props[PROP_PROMPT] = g_param_spec_string ("prompt", "Prompt",
      "params.prompt; a change while playing is sent to the stream", NULL,
      live);
  control_props[PROP_NEGATIVE_PROMPT] = g_param_spec_string ("negative-prompt",
      "Negative prompt", "params.negative_prompt; live like prompt", NULL,
      live);
  control_props[PROP_SEED] = g_param_spec_int64 ("seed", "Seed",
      "params.seed (-1: as the config says); live like prompt", -1,
      4294967295LL, -1, live);
  control_props[PROP_MODEL_ID] = g_param_spec_string ("model-id", "Model",
      "params.model_id; live like prompt", NULL, live);
  control_props[PROP_DELTA] = g_param_spec_double ("delta", "Delta",
      "params.delta, 0..1 (-1: as the config says); live like prompt", -1.0,
      1.0, -1.0, live);
  control_props[PROP_STREAM_NAME] = g_param_spec_string ("stream-name",
      "Stream name", "Name of the stream (default gstreamer-<unix time>)",
      NULL, rw);
  control_props[PROP_WHIP_SINK] = g_param_spec_string ("whip-sink", "whipsink",
      "Name of the whipsink to give the WHIP URL (default: the only one in "
      "the bin)", NULL, rw);
  control_props[PROP_WHEP_SRC] = g_param_spec_string ("whep-src", "whepsrc",
      "Name of the whepsrc to give the WHEP URL (default: the only one in "
      "the bin)", NULL, rw);
  control_props[PROP_DELETE_ON_STOP] = g_param_spec_boolean ("delete-on-stop",
      "Delete on stop", "End (DELETE) the stream when the pipeline stops",
      DEFAULT_DELETE_ON_STOP, rw);
  control_props[PROP_READY_TIMEOUT] = g_param_spec_uint ("ready-timeout",
      "Ready timeout", "Seconds before a warning when the stream does not "
      "become ready", 1, 3600, DEFAULT_READY_TIMEOUT, rw);
  control_props[PROP_STREAM_ID] = g_param_spec_string ("stream-id", "Stream id",
      "The Daydream stream's id", NULL, ro);
  control_props[PROP_PLAYBACK_ID] = g_param_spec_string ("playback-id",
      "Playback id", "The stream's output playback id", NULL, ro);
  control_props[PROP_WHIP_URL] = g_param_spec_string ("whip-url", "WHIP URL",
      "Where the input goes (holds the stream key: do not log it)", NULL, ro);
  control_props[PROP_WHEP_URL] = g_param_spec_string ("whep-url", "WHEP URL",
      "Where the processed output comes from", NULL, ro);
  control_props[PROP_STATUS] = g_param_spec_string ("status", "Status",
      "idle, creating, created, ready, updated, update-failed, stopped or "
      "failed", "idle", ro);
  g_object_class_install_properties (gobject_class, N_PROPS, control_props);

  gst_element_class_set_static_metadata (element_class,
      "Daydream stream control", "Generic/Network",
      "Creates, updates and ends a Daydream stream and gives its WHIP/WHEP "
      "URLs to whipsink/whepsrc", "daydream-rtc developers");
  gst_element_class_add_static_metadata (element_class, "example",
      "gst-launch-1.0 daydreamcontrol prompt=\"oil painting\" videotestsrc "
      "is-live=true ! video/x-raw,width=512,height=512,framerate=30/1 ! "
      "whipsink whepsrc ! videoconvert ! autovideosink");
  gst_element_class_add_static_metadata (element_class,
      GST_ELEMENT_METADATA_DOC_URI, "docs/elements/daydreamcontrol.md");
  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_daydream_control_change_state);
}
