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

#include "gstdaydreamcontrol.h"

#include <string.h>

#include "drtc-daydream.h"
#include "drtc-http.h"
#include "drtc-json.h"
#include "drtc-pipeline-config.h"

GST_DEBUG_CATEGORY_STATIC (gst_daydream_control_debug);
#define GST_CAT_DEFAULT gst_daydream_control_debug

#define DEFAULT_READY_TIMEOUT 60
#define DEFAULT_DELETE_ON_STOP TRUE
#define PATCH_DEBOUNCE_MS 100
#define STOP_TIMEOUT_S 10

struct _GstDaydreamControl
{
  GstElement parent;

  GMutex lock;                  /* guards what follows, down to "HTTP" */
  gchar *api_url, *api_key, *config_json, *config_location, *stream_name;
  gchar *prompt, *negative_prompt, *model_id;
  gint64 seed;                  /* -1: as the config says */
  gdouble delta;                /* < 0: as the config says */
  gchar *whip_sink_name, *whep_src_name;
  gboolean delete_on_stop;
  guint ready_timeout;
  gchar *stream_id, *playback_id, *whip_url, *whep_url, *status;
  gchar *pipeline;
  JsonObject *params;           /* the stream's params as last sent */
  gboolean dirty;               /* params changed, PATCH pending */

  /* HTTP thread (and state changes) */
  DrtcHttp *http;
  DrtcDaydreamClient *client;
  GSource *poll, *patch;
  gint64 created_us;
  gboolean ready_warned, stopping;
  GWeakRef whip, whep;
};

enum
{
  PROP_0,
  PROP_API_URL,
  PROP_API_KEY,
  PROP_PIPELINE_CONFIG,
  PROP_PIPELINE_CONFIG_LOCATION,
  PROP_PROMPT,
  PROP_NEGATIVE_PROMPT,
  PROP_SEED,
  PROP_MODEL_ID,
  PROP_DELTA,
  PROP_STREAM_NAME,
  PROP_WHIP_SINK,
  PROP_WHEP_SRC,
  PROP_DELETE_ON_STOP,
  PROP_READY_TIMEOUT,
  PROP_STREAM_ID,
  PROP_PLAYBACK_ID,
  PROP_WHIP_URL,
  PROP_WHEP_URL,
  PROP_STATUS,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

#define gst_daydream_control_parent_class parent_class
G_DEFINE_TYPE (GstDaydreamControl, gst_daydream_control, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (daydreamcontrol, "daydreamcontrol",
    GST_RANK_NONE, GST_TYPE_DAYDREAM_CONTROL,
    GST_DEBUG_CATEGORY_INIT (gst_daydream_control_debug, "daydreamcontrol", 0,
        "Daydream stream control"));

/* ---- reporting ---- */

static void
post_state (GstDaydreamControl * self, const gchar * state,
    const gchar * detail)
{
  g_autofree gchar *id = NULL;

  g_mutex_lock (&self->lock);
  g_free (self->status);
  self->status = g_strdup (state);
  id = g_strdup (self->stream_id);
  g_mutex_unlock (&self->lock);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATUS]);
  GST_INFO_OBJECT (self, "%s: %s", state, detail);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("daydream-state", "state", G_TYPE_STRING, state,
              "detail", G_TYPE_STRING, detail, "stream-id", G_TYPE_STRING,
              id ? id : "", NULL)));
}

static void
set_field (GstDaydreamControl * self, gchar ** field, const gchar * value,
    guint prop)
{
  gboolean changed;

  g_mutex_lock (&self->lock);
  changed = g_strcmp0 (*field, value) != 0;
  if (changed) {
    g_free (*field);
    *field = g_strdup (value);
  }
  g_mutex_unlock (&self->lock);
  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), props[prop]);
}

/* ---- the elements we drive ---- */

static gboolean
is_factory (GstElement * element, const gchar * name)
{
  GstElementFactory *f = gst_element_get_factory (element);

  return f && g_str_equal (GST_OBJECT_NAME (f), name);
}

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

/* The element named @name, or the only one made by @factory, in our bin. */
static GstElement *
find_target (GstDaydreamControl * self, const gchar * name,
    const gchar * factory)
{
  g_autoptr (GstObject) bin = gst_object_get_parent (GST_OBJECT (self));
  GstElement *found = NULL;
  GstIterator *it;
  GValue item = G_VALUE_INIT;

  if (!bin || !GST_IS_BIN (bin))
    return NULL;
  if (name)
    return gst_bin_get_by_name (GST_BIN (bin), name);
  it = gst_bin_iterate_recurse (GST_BIN (bin));
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&item);

    if (is_factory (e, factory)) {
      if (found) {
        GST_ELEMENT_WARNING (self, CORE, FAILED,
            ("Several %s elements: name the one to drive", factory),
            ("set the %s property", g_str_equal (factory, "whipsink") ?
                "whip-sink" : "whep-src"));
        gst_object_unref (found);
        found = NULL;
        g_value_reset (&item);
        break;
      }
      found = gst_object_ref (e);
    }
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  return found;
}

/* The URL, and before it the API key as the element's auth-token when the
 * URL is on the API's own origin (a keyed daydream-rtc gateway requires it
 * there); Daydream's WHIP/WHEP hosts never get the account key. */
static void
give_endpoint (GstDaydreamControl * self, GWeakRef * ref,
    const gchar * property, const gchar * url)
{
  GstElement *target = g_weak_ref_get (ref);
  g_autofree gchar *token = NULL;

  if (!target)
    return;
  token = drtc_daydream_client_media_token (self->client, url);
  if (token) {
    g_object_set (target, "auth-token", token, NULL);
    memset (token, 0, strlen (token));
  }
  g_object_set (target, property, url, NULL);
  gst_object_unref (target);
}

/* ---- the pipeline config ---- */

/* Base config (file, JSON property or the default) + the shortcut
 * properties; checked. Returns FALSE after posting an error. */
static gboolean
build_config (GstDaydreamControl * self)
{
  g_autoptr (JsonNode) base = NULL;
  g_autoptr (JsonObject) split = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *pipeline = NULL;
  JsonObject *params;
  JsonObjectIter iter;
  const gchar *name;
  JsonNode *value;

  g_mutex_lock (&self->lock);
  if (self->config_location)
    base = drtc_pipeline_config_load (self->config_location, &err);
  else if (self->config_json)
    base = drtc_json_parse (self->config_json, -1, &err);
  else
    base = drtc_daydream_default_config ();
  if (base)
    split = drtc_pipeline_config_split (base, &pipeline, &err);
  if (!split) {
    g_mutex_unlock (&self->lock);
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid pipeline config: %s", err ? err->message : "unreadable"),
        (NULL));
    return FALSE;
  }
  params = json_object_new ();
  json_object_iter_init_ordered (&iter, split);
  while (json_object_iter_next_ordered (&iter, &name, &value))
    json_object_set_member (params, name, json_node_copy (value));
  if (self->prompt)
    json_object_set_string_member (params, "prompt", self->prompt);
  if (self->negative_prompt)
    json_object_set_string_member (params, "negative_prompt",
        self->negative_prompt);
  if (self->model_id)
    json_object_set_string_member (params, "model_id", self->model_id);
  if (self->seed >= 0)
    json_object_set_int_member (params, "seed", self->seed);
  if (self->delta >= 0)
    json_object_set_double_member (params, "delta", self->delta);
  g_clear_pointer (&self->params, json_object_unref);
  self->params = params;
  g_free (self->pipeline);
  self->pipeline = g_steal_pointer (&pipeline);
  if (!drtc_pipeline_config_validate (self->pipeline, params, &err)) {
    g_mutex_unlock (&self->lock);
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid pipeline config: %s", err->message), (NULL));
    return FALSE;
  }
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/* ---- status polling (HTTP thread) ---- */

static void schedule_poll (GstDaydreamControl * self, guint ms);

static void
use_whep_url (GstDaydreamControl * self, const gchar * url)
{
  gboolean first;

  g_mutex_lock (&self->lock);
  first = self->whep_url == NULL;
  g_mutex_unlock (&self->lock);
  if (!first || !url || !*url)
    return;
  set_field (self, &self->whep_url, url, PROP_WHEP_URL);
  give_endpoint (self, &self->whep, "whep-endpoint", url);
}

static void
on_status (gpointer result, const GError * error, gpointer data)
{
  GstDaydreamControl *self = data;
  DrtcDaydreamStatus *st = result;
  gboolean known;

  if (self->stopping)
    return;
  if (st) {
    use_whep_url (self, st->whep_url);
    if (st->ready && !g_str_equal (self->status, "ready"))
      post_state (self, "ready", st->state);
  } else {
    GST_WARNING_OBJECT (self, "status poll failed: %s", error->message);
  }
  if (!self->ready_warned && g_strcmp0 (self->status, "ready") != 0
      && g_get_monotonic_time () - self->created_us >
      (gint64) self->ready_timeout * G_USEC_PER_SEC) {
    self->ready_warned = TRUE;
    GST_ELEMENT_WARNING (self, RESOURCE, BUSY,
        ("The Daydream stream is not ready after %u s", self->ready_timeout),
        ("last state: %s", st && st->state ? st->state : "unknown"));
  }
  g_mutex_lock (&self->lock);
  known = self->whep_url != NULL;
  g_mutex_unlock (&self->lock);
  /* fast until the output is known and ready, then a heartbeat */
  schedule_poll (self, known && g_strcmp0 (self->status, "ready") == 0 ?
      5000 : 1000);
}

static gboolean
on_poll (gpointer data)
{
  GstDaydreamControl *self = data;
  g_autofree gchar *id = NULL;

  g_clear_pointer (&self->poll, g_source_unref);
  g_mutex_lock (&self->lock);
  id = g_strdup (self->stream_id);
  g_mutex_unlock (&self->lock);
  if (id && !self->stopping)
    drtc_daydream_get_status (self->client, id, on_status, self, NULL);
  return G_SOURCE_REMOVE;
}

static void
clear_source (GSource ** source)
{
  if (*source) {
    g_source_destroy (*source);
    g_source_unref (*source);
    *source = NULL;
  }
}

static void
schedule_poll (GstDaydreamControl * self, guint ms)
{
  clear_source (&self->poll);
  self->poll = g_timeout_source_new (ms);
  g_source_set_callback (self->poll, on_poll, self, NULL);
  g_source_attach (self->poll, drtc_http_get_context (self->http));
}

/* whipsink learnt the WHEP URL from the WHIP answer (Livepeer-Playback-URL):
 * no need to wait for the status to say it */
static void
on_playback_url (GObject * whip, GParamSpec * pspec, gpointer data)
{
  GstDaydreamControl *self = data;
  gchar *url = NULL;

  g_object_get (whip, "playback-url", &url, NULL);
  if (url && *url)
    use_whep_url (self, url);
  g_free (url);
}

/* ---- create, update, end (HTTP thread) ---- */

static void
on_created (gpointer result, const GError * error, gpointer data)
{
  GstDaydreamControl *self = data;
  DrtcDaydreamStream *s = result;
  g_autoptr (GstElement) whip = NULL;

  if (self->stopping)
    return;
  if (!s) {
    GST_ELEMENT_ERROR_WITH_DETAILS (self, RESOURCE, OPEN_WRITE,
        ("Could not create the Daydream stream"), ("%s", error->message),
        ("http-status-code", G_TYPE_UINT, error->code >= 100 ?
            (guint) error->code : 0u, NULL));
    post_state (self, "failed", error->message);
    return;
  }
  self->created_us = g_get_monotonic_time ();
  set_field (self, &self->stream_id, s->id, PROP_STREAM_ID);
  set_field (self, &self->playback_id, s->playback_id, PROP_PLAYBACK_ID);
  set_field (self, &self->whip_url, s->whip_url, PROP_WHIP_URL);
  post_state (self, "created", s->id);
  whip = g_weak_ref_get (&self->whip);
  if (whip)
    g_signal_connect_object (whip, "notify::playback-url",
        G_CALLBACK (on_playback_url), self, 0);
  give_endpoint (self, &self->whip, "whip-endpoint", s->whip_url);
  use_whep_url (self, s->whep_url);
  schedule_poll (self, 500);
}

static void
on_updated (gpointer result, const GError * error, gpointer data)
{
  GstDaydreamControl *self = data;

  if (self->stopping)
    return;
  if (error) {
    if (error->code == 405)
      GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
          ("This stream does not take live updates; restart it"),
          ("%s", error->message));
    else
      GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
          ("Could not update the Daydream stream"), ("%s", error->message));
    post_state (self, "update-failed", error->message);
    return;
  }
  post_state (self, "updated", "params sent");
}

static gboolean
on_patch_due (gpointer data)
{
  GstDaydreamControl *self = data;
  g_autofree gchar *id = NULL;
  g_autofree gchar *pipeline = NULL;
  g_autoptr (JsonObject) params = NULL;
  g_autoptr (GError) err = NULL;

  g_clear_pointer (&self->patch, g_source_unref);
  g_mutex_lock (&self->lock);
  id = g_strdup (self->stream_id);
  pipeline = g_strdup (self->pipeline);
  params = self->params ? json_object_ref (self->params) : NULL;
  self->dirty = FALSE;
  g_mutex_unlock (&self->lock);
  if (!id || !params || self->stopping)
    return G_SOURCE_REMOVE;
  if (!drtc_pipeline_config_validate (pipeline, params, &err)) {
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("Parameter change not sent: %s", err->message), (NULL));
    return G_SOURCE_REMOVE;
  }
  drtc_daydream_update_stream (self->client, id, pipeline, params,
      on_updated, self, NULL);
  return G_SOURCE_REMOVE;
}

static gboolean
arm_patch (gpointer data)
{
  GstDaydreamControl *self = data;

  clear_source (&self->patch);
  self->patch = g_timeout_source_new (PATCH_DEBOUNCE_MS);
  g_source_set_callback (self->patch, on_patch_due, self, NULL);
  g_source_attach (self->patch, drtc_http_get_context (self->http));
  return G_SOURCE_REMOVE;
}

static gboolean
start_create (gpointer data)
{
  GstDaydreamControl *self = data;
  g_autofree gchar *pipeline = NULL;
  g_autofree gchar *name = NULL;
  g_autoptr (JsonObject) params = NULL;

  g_mutex_lock (&self->lock);
  pipeline = g_strdup (self->pipeline);
  params = json_object_ref (self->params);
  name = self->stream_name ? g_strdup (self->stream_name) :
      g_strdup_printf ("gstreamer-%" G_GINT64_FORMAT,
      g_get_real_time () / G_USEC_PER_SEC);
  g_mutex_unlock (&self->lock);
  post_state (self, "creating", drtc_daydream_client_get_base (self->client));
  drtc_daydream_create_stream (self->client, pipeline, params, name,
      on_created, self, NULL);
  return G_SOURCE_REMOVE;
}

typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean done;
} Waiter;

static void
on_deleted (gpointer result, const GError * error, gpointer data)
{
  Waiter *w = data;

  if (error)
    GST_WARNING ("could not end the Daydream stream: %s", error->message);
  g_mutex_lock (&w->lock);
  w->done = TRUE;
  g_cond_signal (&w->cond);
  g_mutex_unlock (&w->lock);
}

typedef struct
{
  GstDaydreamControl *self;
  gchar *id;
  Waiter *waiter;
} DeleteJob;

static gboolean
start_delete (gpointer data)
{
  DeleteJob *job = data;

  drtc_daydream_delete_stream (job->self->client, job->id, on_deleted,
      job->waiter, NULL);
  g_free (job->id);
  g_free (job);
  return G_SOURCE_REMOVE;
}

static gboolean
stop_timers (gpointer data)
{
  GstDaydreamControl *self = data;

  clear_source (&self->poll);
  clear_source (&self->patch);
  return G_SOURCE_REMOVE;
}

/* State-change thread: ends the stream, waiting at most STOP_TIMEOUT_S. */
static void
end_stream (GstDaydreamControl * self)
{
  g_autofree gchar *id = NULL;
  gboolean delete;
  Waiter w = { 0 };
  DeleteJob *job;
  gint64 until;

  g_mutex_lock (&self->lock);
  id = g_strdup (self->stream_id);
  delete = self->delete_on_stop;
  g_mutex_unlock (&self->lock);
  if (!id || !delete)
    return;
  g_mutex_init (&w.lock);
  g_cond_init (&w.cond);
  job = g_new0 (DeleteJob, 1);
  job->self = self;
  job->id = g_strdup (id);
  job->waiter = &w;
  drtc_http_invoke (self->http, start_delete, job, NULL);
  until = g_get_monotonic_time () + STOP_TIMEOUT_S * G_USEC_PER_SEC;
  g_mutex_lock (&w.lock);
  while (!w.done && g_cond_wait_until (&w.cond, &w.lock, until));
  g_mutex_unlock (&w.lock);
  if (!w.done) {
    /* cancel, so the callback has run before w goes away */
    drtc_http_cancel_all (self->http);
    g_mutex_lock (&w.lock);
    while (!w.done)
      g_cond_wait (&w.cond, &w.lock);
    g_mutex_unlock (&w.lock);
  }
  g_mutex_clear (&w.lock);
  g_cond_clear (&w.cond);
}

/* ---- state changes ---- */

static gboolean
prepare (GstDaydreamControl * self)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *key = NULL;
  g_autofree gchar *url = NULL;

  if (!build_config (self))
    return FALSE;
  g_mutex_lock (&self->lock);
  key = g_strdup (self->api_key);
  url = g_strdup (self->api_url ? self->api_url :
      g_getenv ("DAYDREAM_API_URL"));
  g_mutex_unlock (&self->lock);
  if (!key && !(key = drtc_daydream_resolve_key (NULL, &err))) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_AUTHORIZED,
        ("No Daydream API key: set api-key or DAYDREAM_API_KEY"), (NULL));
    return FALSE;
  }
  self->http = drtc_http_new ("daydreamcontrol-http");
  self->client = drtc_daydream_client_new (self->http, url, key);
  memset (key, 0, strlen (key));
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
  whip = find_target (self, whip_name, "whipsink");
  whep = find_target (self, whep_name, "whepsrc");
  if (!whip)
    GST_ELEMENT_WARNING (self, CORE, FAILED,
        ("No whipsink to drive: the stream gets no input from here"), (NULL));
  g_weak_ref_set (&self->whip, whip);
  g_weak_ref_set (&self->whep, whep);
}

static void
clear_stream (GstDaydreamControl * self)
{
  set_field (self, &self->stream_id, NULL, PROP_STREAM_ID);
  set_field (self, &self->playback_id, NULL, PROP_PLAYBACK_ID);
  set_field (self, &self->whip_url, NULL, PROP_WHIP_URL);
  set_field (self, &self->whep_url, NULL, PROP_WHEP_URL);
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
      find_targets (self);
      self->stopping = FALSE;
      self->ready_warned = FALSE;
      drtc_http_invoke (self->http, start_create, self, NULL);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      self->stopping = TRUE;
      drtc_http_invoke (self->http, stop_timers, self, NULL);
      drtc_http_cancel_all (self->http);
      break;
    default:
      break;
  }
  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      end_stream (self);
      clear_stream (self);
      post_state (self, "stopped", "pipeline stopped");
      break;
    case GST_STATE_CHANGE_READY_TO_NULL:
      g_clear_pointer (&self->http, drtc_http_free);
      g_clear_pointer (&self->client, drtc_daydream_client_free);
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
  if (self->params) {
    if (G_VALUE_HOLDS_STRING (value) && g_value_get_string (value))
      json_object_set_string_member (self->params, member,
          g_value_get_string (value));
    else if (G_VALUE_HOLDS_INT64 (value) && g_value_get_int64 (value) >= 0)
      json_object_set_int_member (self->params, member,
          g_value_get_int64 (value));
    else if (G_VALUE_HOLDS_DOUBLE (value) && g_value_get_double (value) >= 0)
      json_object_set_double_member (self->params, member,
          g_value_get_double (value));
  }
  send = self->stream_id != NULL && self->http != NULL;
  self->dirty = self->dirty || send;
  g_mutex_unlock (&self->lock);
  if (send)
    drtc_http_invoke (self->http, arm_patch, self, NULL);
}

static void
gst_daydream_control_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstDaydreamControl *self = GST_DAYDREAM_CONTROL (object);

  if ((pspec->flags & GST_PARAM_MUTABLE_READY)
      && GST_STATE (self) > GST_STATE_READY) {
    GST_WARNING_OBJECT (self, "'%s' can only change in the NULL or READY "
        "state", pspec->name);
    return;
  }
  g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_API_URL:
      g_free (self->api_url);
      self->api_url = g_value_dup_string (value);
      break;
    case PROP_API_KEY:
      g_free (self->api_key);
      self->api_key = g_value_dup_string (value);
      break;
    case PROP_PIPELINE_CONFIG:
      g_free (self->config_json);
      self->config_json = g_value_dup_string (value);
      break;
    case PROP_PIPELINE_CONFIG_LOCATION:
      g_free (self->config_location);
      self->config_location = g_value_dup_string (value);
      break;
    case PROP_PROMPT:
      g_free (self->prompt);
      self->prompt = g_value_dup_string (value);
      break;
    case PROP_NEGATIVE_PROMPT:
      g_free (self->negative_prompt);
      self->negative_prompt = g_value_dup_string (value);
      break;
    case PROP_SEED:
      self->seed = g_value_get_int64 (value);
      break;
    case PROP_MODEL_ID:
      g_free (self->model_id);
      self->model_id = g_value_dup_string (value);
      break;
    case PROP_DELTA:
      self->delta = g_value_get_double (value);
      break;
    case PROP_STREAM_NAME:
      g_free (self->stream_name);
      self->stream_name = g_value_dup_string (value);
      break;
    case PROP_WHIP_SINK:
      g_free (self->whip_sink_name);
      self->whip_sink_name = g_value_dup_string (value);
      break;
    case PROP_WHEP_SRC:
      g_free (self->whep_src_name);
      self->whep_src_name = g_value_dup_string (value);
      break;
    case PROP_DELETE_ON_STOP:
      self->delete_on_stop = g_value_get_boolean (value);
      break;
    case PROP_READY_TIMEOUT:
      self->ready_timeout = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&self->lock);
  switch (prop_id) {
    case PROP_PROMPT:
      param_changed (self, "prompt", value);
      break;
    case PROP_NEGATIVE_PROMPT:
      param_changed (self, "negative_prompt", value);
      break;
    case PROP_SEED:
      param_changed (self, "seed", value);
      break;
    case PROP_MODEL_ID:
      param_changed (self, "model_id", value);
      break;
    case PROP_DELTA:
      param_changed (self, "delta", value);
      break;
    default:
      break;
  }
}

static void
gst_daydream_control_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstDaydreamControl *self = GST_DAYDREAM_CONTROL (object);

  g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_API_URL:
      g_value_set_string (value, self->api_url);
      break;
    case PROP_PIPELINE_CONFIG:
      g_value_set_string (value, self->config_json);
      break;
    case PROP_PIPELINE_CONFIG_LOCATION:
      g_value_set_string (value, self->config_location);
      break;
    case PROP_PROMPT:
      g_value_set_string (value, self->prompt);
      break;
    case PROP_NEGATIVE_PROMPT:
      g_value_set_string (value, self->negative_prompt);
      break;
    case PROP_SEED:
      g_value_set_int64 (value, self->seed);
      break;
    case PROP_MODEL_ID:
      g_value_set_string (value, self->model_id);
      break;
    case PROP_DELTA:
      g_value_set_double (value, self->delta);
      break;
    case PROP_STREAM_NAME:
      g_value_set_string (value, self->stream_name);
      break;
    case PROP_WHIP_SINK:
      g_value_set_string (value, self->whip_sink_name);
      break;
    case PROP_WHEP_SRC:
      g_value_set_string (value, self->whep_src_name);
      break;
    case PROP_DELETE_ON_STOP:
      g_value_set_boolean (value, self->delete_on_stop);
      break;
    case PROP_READY_TIMEOUT:
      g_value_set_uint (value, self->ready_timeout);
      break;
    case PROP_STREAM_ID:
      g_value_set_string (value, self->stream_id);
      break;
    case PROP_PLAYBACK_ID:
      g_value_set_string (value, self->playback_id);
      break;
    case PROP_WHIP_URL:
      g_value_set_string (value, self->whip_url);
      break;
    case PROP_WHEP_URL:
      g_value_set_string (value, self->whep_url);
      break;
    case PROP_STATUS:
      g_value_set_string (value, self->status);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&self->lock);
}

static void
gst_daydream_control_init (GstDaydreamControl * self)
{
  g_mutex_init (&self->lock);
  g_weak_ref_init (&self->whip, NULL);
  g_weak_ref_init (&self->whep, NULL);
  self->seed = -1;
  self->delta = -1.0;
  self->delete_on_stop = DEFAULT_DELETE_ON_STOP;
  self->ready_timeout = DEFAULT_READY_TIMEOUT;
  self->status = g_strdup ("idle");
}

static void
gst_daydream_control_finalize (GObject * object)
{
  GstDaydreamControl *self = GST_DAYDREAM_CONTROL (object);

  g_clear_pointer (&self->http, drtc_http_free);
  g_clear_pointer (&self->client, drtc_daydream_client_free);
  g_weak_ref_clear (&self->whip);
  g_weak_ref_clear (&self->whep);
  if (self->api_key)
    memset (self->api_key, 0, strlen (self->api_key));
  g_free (self->api_key);
  g_free (self->api_url);
  g_free (self->config_json);
  g_free (self->config_location);
  g_free (self->stream_name);
  g_free (self->prompt);
  g_free (self->negative_prompt);
  g_free (self->model_id);
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

  props[PROP_API_URL] = g_param_spec_string ("api-url", "API URL",
      "Daydream API base URL (default: DAYDREAM_API_URL, else "
      DRTC_DAYDREAM_DEFAULT_API_URL ")", NULL, rw);
  props[PROP_API_KEY] = g_param_spec_string ("api-key", "API key",
      "Daydream API key (default: DAYDREAM_API_KEY); write-only, never "
      "logged", NULL, G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY);
  props[PROP_PIPELINE_CONFIG] = g_param_spec_string ("pipeline-config",
      "Pipeline config", "Pipeline config as JSON ({\"pipeline\": ..., "
      "\"params\": {...}} or the params alone); default: the built-in one",
      NULL, rw);
  props[PROP_PIPELINE_CONFIG_LOCATION] = g_param_spec_string
      ("pipeline-config-location", "Pipeline config file",
      "A JSON file with the pipeline config (wins over pipeline-config)",
      NULL, rw);
  props[PROP_PROMPT] = g_param_spec_string ("prompt", "Prompt",
      "params.prompt; a change while playing is sent to the stream", NULL,
      live);
  props[PROP_NEGATIVE_PROMPT] = g_param_spec_string ("negative-prompt",
      "Negative prompt", "params.negative_prompt; live like prompt", NULL,
      live);
  props[PROP_SEED] = g_param_spec_int64 ("seed", "Seed",
      "params.seed (-1: as the config says); live like prompt", -1,
      4294967295LL, -1, live);
  props[PROP_MODEL_ID] = g_param_spec_string ("model-id", "Model",
      "params.model_id; live like prompt", NULL, live);
  props[PROP_DELTA] = g_param_spec_double ("delta", "Delta",
      "params.delta, 0..1 (-1: as the config says); live like prompt", -1.0,
      1.0, -1.0, live);
  props[PROP_STREAM_NAME] = g_param_spec_string ("stream-name",
      "Stream name", "Name of the stream (default gstreamer-<unix time>)",
      NULL, rw);
  props[PROP_WHIP_SINK] = g_param_spec_string ("whip-sink", "whipsink",
      "Name of the whipsink to give the WHIP URL (default: the only one in "
      "the bin)", NULL, rw);
  props[PROP_WHEP_SRC] = g_param_spec_string ("whep-src", "whepsrc",
      "Name of the whepsrc to give the WHEP URL (default: the only one in "
      "the bin)", NULL, rw);
  props[PROP_DELETE_ON_STOP] = g_param_spec_boolean ("delete-on-stop",
      "Delete on stop", "End (DELETE) the stream when the pipeline stops",
      DEFAULT_DELETE_ON_STOP, rw);
  props[PROP_READY_TIMEOUT] = g_param_spec_uint ("ready-timeout",
      "Ready timeout", "Seconds before a warning when the stream does not "
      "become ready", 1, 3600, DEFAULT_READY_TIMEOUT, rw);
  props[PROP_STREAM_ID] = g_param_spec_string ("stream-id", "Stream id",
      "The Daydream stream's id", NULL, ro);
  props[PROP_PLAYBACK_ID] = g_param_spec_string ("playback-id",
      "Playback id", "The stream's output playback id", NULL, ro);
  props[PROP_WHIP_URL] = g_param_spec_string ("whip-url", "WHIP URL",
      "Where the input goes (holds the stream key: do not log it)", NULL, ro);
  props[PROP_WHEP_URL] = g_param_spec_string ("whep-url", "WHEP URL",
      "Where the processed output comes from", NULL, ro);
  props[PROP_STATUS] = g_param_spec_string ("status", "Status",
      "idle, creating, created, ready, updated, update-failed, stopped or "
      "failed", "idle", ro);
  g_object_class_install_properties (gobject_class, N_PROPS, props);

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
