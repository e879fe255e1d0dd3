/* daydream-rtc: daydreamcontrol's Daydream session
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The lifecycle is common/drtc-daydream-session.c's; here its callbacks
 * become the element's properties, `daydream-state` messages and the
 * endpoints of the whipsink and whepsrc it drives, and parameter changes
 * become a debounced PATCH. Everything here but the stop's wait runs on
 * the element's HTTP thread.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "daydreamcontrol-private.h"

#include <string.h>

#include "drtc-pipeline-config.h"
#include "daydreamcontrol-targets.h"

#define GST_CAT_DEFAULT gst_daydream_control_debug

/* ---- reporting ---- */

void
control_post_state (GstDaydreamControl * self, const gchar * state,
    const gchar * detail)
{
  g_autofree gchar *id = NULL;

  g_mutex_lock (&self->lock);
  g_free (self->status);
  self->status = g_strdup (state);
  id = g_strdup (self->stream_id);
  g_mutex_unlock (&self->lock);
  g_object_notify_by_pspec (G_OBJECT (self), control_props[PROP_STATUS]);
  GST_INFO_OBJECT (self, "%s: %s", state, detail);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("daydream-state", "state", G_TYPE_STRING, state,
              "detail", G_TYPE_STRING, detail, "stream-id", G_TYPE_STRING,
              id ? id : "", NULL)));
}

void
control_set_field (GstDaydreamControl * self, gchar ** field,
    const gchar * value, guint prop)
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
    g_object_notify_by_pspec (G_OBJECT (self), control_props[prop]);
}

/* ---- the Daydream session's callbacks (HTTP thread) ---- */

static void
on_session_state (DrtcDaydreamSession * session,
    DrtcDaydreamSessionState state, const gchar * detail, gpointer data)
{
  GstDaydreamControl *self = data;

  switch (state) {
    case DRTC_DAYDREAM_SESSION_CREATING:
    case DRTC_DAYDREAM_SESSION_CREATED:
    case DRTC_DAYDREAM_SESSION_READY:
    case DRTC_DAYDREAM_SESSION_FAILED:
      control_post_state (self, drtc_daydream_session_state_nick (state),
          detail);
      break;
    default:
      break;
  }
}

static void
on_whep_url (DrtcDaydreamSession * session, const gchar * url, gpointer data)
{
  GstDaydreamControl *self = data;
  g_autofree gchar *token = drtc_daydream_session_media_token (session, url);

  control_set_field (self, &self->whep_url, url, PROP_WHEP_URL);
  control_give_endpoint (&self->whep, "whep-endpoint", url, token);
  if (token)
    memset (token, 0, strlen (token));
}

/* whipsink learnt the WHEP URL from the WHIP answer (Livepeer-Playback-URL):
 * no need to wait for the status to say it. On whipsink's thread: the
 * session takes it to its own. */
static void
on_playback_url (GObject * whip, GParamSpec * pspec, gpointer data)
{
  GstDaydreamControl *self = data;
  g_autoptr (DrtcDaydreamSession) session = NULL;
  g_autofree gchar *url = NULL;

  g_object_get (whip, "playback-url", &url, NULL);
  g_mutex_lock (&self->lock);
  if (self->session)
    session = drtc_daydream_session_ref (self->session);
  g_mutex_unlock (&self->lock);
  if (session && url)
    drtc_daydream_session_offer_whep_url (session, url);
}

static void
on_created (DrtcDaydreamSession * session, const DrtcDaydreamStream * s,
    gpointer data)
{
  GstDaydreamControl *self = data;
  g_autoptr (GstElement) whip = NULL;
  g_autofree gchar *token = NULL;

  control_set_field (self, &self->stream_id, s->id, PROP_STREAM_ID);
  control_set_field (self, &self->playback_id, s->playback_id,
      PROP_PLAYBACK_ID);
  control_set_field (self, &self->whip_url, s->whip_url, PROP_WHIP_URL);
  whip = g_weak_ref_get (&self->whip);
  if (whip) {
    /* once per whipsink, however often the pipeline restarts */
    if (!g_signal_handler_find (whip, G_SIGNAL_MATCH_FUNC |
            G_SIGNAL_MATCH_DATA, 0, 0, NULL, on_playback_url, self))
      g_signal_connect_object (whip, "notify::playback-url",
          G_CALLBACK (on_playback_url), self, 0);
  }
  token = drtc_daydream_session_media_token (session, s->whip_url);
  control_give_endpoint (&self->whip, "whip-endpoint", s->whip_url, token);
  if (token)
    memset (token, 0, strlen (token));
}

static void
on_problem (DrtcDaydreamSession * session, DrtcDaydreamSessionProblem problem,
    const GError * error, gpointer data)
{
  GstDaydreamControl *self = data;

  switch (problem) {
    case DRTC_DAYDREAM_SESSION_PROBLEM_CREATE:
      GST_ELEMENT_ERROR_WITH_DETAILS (self, RESOURCE, OPEN_WRITE,
          ("Could not create the Daydream stream"), ("%s", error->message),
          ("http-status-code", G_TYPE_UINT, error->code >= 100 ?
              (guint) error->code : 0u, NULL));
      break;
    case DRTC_DAYDREAM_SESSION_PROBLEM_NEVER_READY:
      GST_ELEMENT_WARNING (self, RESOURCE, BUSY,
          ("The Daydream stream is not ready after %u s",
              self->ready_timeout), ("%s", error->message));
      break;
    case DRTC_DAYDREAM_SESSION_PROBLEM_POLL:
      GST_WARNING_OBJECT (self, "status poll failed: %s", error->message);
      break;
  }
}

static const DrtcDaydreamSessionCallbacks session_callbacks = {
  .state_changed = on_session_state,
  .created = on_created,
  .whep_url = on_whep_url,
  .problem = on_problem,
};

/* ---- create, update, end (HTTP thread) ---- */

static void
on_updated (DrtcDaydreamSession * session, JsonNode * answer,
    const GError * error, gpointer data)
{
  GstDaydreamControl *self = data;
  const gchar *hint = drtc_daydream_session_update_hint (error);

  if (self->stopping)
    return;
  if (error) {
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE, ("%s", hint ? hint :
            "Could not update the Daydream stream"), ("%s", error->message));
    control_post_state (self, "update-failed", error->message);
    return;
  }
  control_post_state (self, "updated", "params sent");
}

static gboolean
on_patch_due (gpointer data)
{
  GstDaydreamControl *self = data;
  g_autofree gchar *pipeline = NULL;
  g_autoptr (JsonObject) params = NULL;
  g_autoptr (GError) err = NULL;

  g_clear_pointer (&self->patch, g_source_unref);
  g_mutex_lock (&self->lock);
  pipeline = g_strdup (self->pipeline);
  params = self->params ? json_object_ref (self->params) : NULL;
  self->dirty = FALSE;
  g_mutex_unlock (&self->lock);
  if (!self->session || !params || self->stopping)
    return G_SOURCE_REMOVE;
  if (!drtc_pipeline_config_validate (pipeline, params, &err)) {
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("Parameter change not sent: %s", err->message), (NULL));
    return G_SOURCE_REMOVE;
  }
  drtc_daydream_session_update (self->session, pipeline, params, on_updated,
      self, NULL);
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

/* A parameter changed while a stream runs: PATCH soon (debounced). */
void
control_session_arm_patch (GstDaydreamControl * self)
{
  drtc_http_invoke (self->http, arm_patch, self, NULL);
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
  if (self->session)
    drtc_daydream_session_start (self->session, pipeline, params, name);
  return G_SOURCE_REMOVE;
}

/* State-change thread: a session per start (api-url and the key may
 * change in READY), created on the HTTP thread. */
void
control_session_start (GstDaydreamControl * self, const gchar * api_url,
    const gchar * api_key)
{
  DrtcDaydreamSession *session = drtc_daydream_session_new (self->http,
      api_url, api_key, &session_callbacks, self);

  drtc_daydream_session_set_ready_timeout (session, self->ready_timeout);
  self->stopping = FALSE;
  self->ended = FALSE;
  g_mutex_lock (&self->lock);
  self->session = session;
  g_mutex_unlock (&self->lock);
  drtc_http_invoke (self->http, start_create, self, NULL);
}

static void
on_ended (DrtcDaydreamSession * session, const GError * error, gpointer data)
{
  GstDaydreamControl *self = data;

  if (error)
    GST_WARNING_OBJECT (self, "could not end the Daydream stream: %s",
        error->message);
  g_mutex_lock (&self->stop_lock);
  self->ended = TRUE;
  g_cond_signal (&self->stop_cond);
  g_mutex_unlock (&self->stop_lock);
}

/* No callback after this; the stream is DELETEd (delete-on-stop), also one
 * whose create is still in flight. */
static gboolean
stop_session (gpointer data)
{
  GstDaydreamControl *self = data;
  DrtcDaydreamSession *session;
  gboolean delete;

  clear_source (&self->patch);
  g_mutex_lock (&self->lock);
  delete = self->delete_on_stop;
  session = self->session;
  self->session = NULL;
  g_mutex_unlock (&self->lock);
  if (session)
    drtc_daydream_session_stop (session, delete, on_ended, self);
  else
    on_ended (NULL, NULL, self);
  g_clear_pointer (&session, drtc_daydream_session_unref);
  return G_SOURCE_REMOVE;
}

void
control_session_stop (GstDaydreamControl * self)
{
  self->stopping = TRUE;
  drtc_http_invoke (self->http, stop_session, self, NULL);
}

/* State-change thread: waits at most STOP_TIMEOUT_S for the end. */
void
control_session_wait_ended (GstDaydreamControl * self)
{
  gint64 until = g_get_monotonic_time () + STOP_TIMEOUT_S * G_USEC_PER_SEC;

  g_mutex_lock (&self->stop_lock);
  while (!self->ended
      && g_cond_wait_until (&self->stop_cond, &self->stop_lock, until));
  if (!self->ended) {
    /* cancelled, the callback runs before we go on */
    drtc_http_cancel_all (self->http);
    while (!self->ended)
      g_cond_wait (&self->stop_cond, &self->stop_lock);
  }
  g_mutex_unlock (&self->stop_lock);
}
