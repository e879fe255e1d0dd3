/* daydream-rtc: whipsink: what every part of it shares: state, settings, sessions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The bottom of whipsink: reporting the state, reading settings under the
 * lock, the SessionRef that tells a callback of an old session from one of
 * the current one, and timer sources.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whipsink-private.h"

#define GST_CAT_DEFAULT gst_daydream_whip_sink_debug

const gchar *const whip_state_names[] = {
  "idle", "connecting", "connected", "reconnecting", "failed", "closed"
};

/* ---- state reporting ---- */

void
whip_set_state (GstDaydreamWhipSink * self, WhipState state,
    const gchar * detail)
{
  guint reconnects;

  g_mutex_lock (&self->lock);
  self->state = state;
  reconnects = self->reconnects;
  g_mutex_unlock (&self->lock);
  GST_INFO_OBJECT (self, "%s: %s", whip_state_names[state], detail);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("whip-state", "state", G_TYPE_STRING,
              whip_state_names[state], "detail", G_TYPE_STRING, detail,
              "reconnects", G_TYPE_UINT, reconnects, NULL)));
}

void
whip_set_string (GstDaydreamWhipSink * self, gchar ** field, gchar * value,
    const gchar * property)
{
  g_mutex_lock (&self->lock);
  g_free (*field);
  *field = value;
  g_mutex_unlock (&self->lock);
  if (property)                 /* NULL: a field with no property */
    g_object_notify (G_OBJECT (self), property);
}

gchar *
whip_dup_locked (GstDaydreamWhipSink * self, gchar ** field)
{
  gchar *v;

  g_mutex_lock (&self->lock);
  v = g_strdup (*field);
  g_mutex_unlock (&self->lock);
  return v;
}

GstElement *
whip_current_webrtc (GstDaydreamWhipSink * self)
{
  GstElement *webrtc;

  g_mutex_lock (&self->lock);
  webrtc = self->webrtc ? gst_object_ref (self->webrtc) : NULL;
  g_mutex_unlock (&self->lock);
  return webrtc;
}

SessionRef *
whip_session_ref_new (GstDaydreamWhipSink * self)
{
  SessionRef *ref = g_new0 (SessionRef, 1);

  g_weak_ref_init (&ref->self, self);
  ref->gen = self->gen;
  return ref;
}

/* Which session a webrtcbin belongs to, for the callbacks it emits. */
#define SESSION_GEN_KEY "drtc-gen"

void
whip_webrtc_tag_session (GstElement * webrtc, guint gen)
{
  g_object_set_data (G_OBJECT (webrtc), SESSION_GEN_KEY,
      GUINT_TO_POINTER (gen));
}

/* A reference to the session @webrtc was made for (not the current one:
 * a late callback from a replaced webrtcbin must find its session gone). */
SessionRef *
whip_session_ref_for_webrtc (GstDaydreamWhipSink * self, GstElement * webrtc)
{
  SessionRef *ref = whip_session_ref_new (self);

  ref->gen = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (webrtc),
          SESSION_GEN_KEY));
  return ref;
}

void
whip_session_ref_free (gpointer data)
{
  SessionRef *ref = data;

  g_weak_ref_clear (&ref->self);
  g_free (ref);
}

/* The element, if @ref's session is still the current one (HTTP thread). */
GstDaydreamWhipSink *
whip_session_get (SessionRef * ref)
{
  GstDaydreamWhipSink *self = g_weak_ref_get (&ref->self);

  if (self && (ref->gen != self->gen || self->stopping)) {
    gst_object_unref (self);
    return NULL;
  }
  return self;
}

GWeakRef *
whip_weak_ref_new (GstDaydreamWhipSink * self)
{
  GWeakRef *ref = g_new0 (GWeakRef, 1);

  g_weak_ref_init (ref, self);
  return ref;
}

void
whip_weak_ref_free (gpointer data)
{
  g_weak_ref_clear (data);
  g_free (data);
}

void
whip_weak_ref_closure_free (gpointer data, GClosure * closure)
{
  whip_weak_ref_free (data);
}

void
whip_clear_source (GSource ** source)
{
  if (*source) {
    g_source_destroy (*source);
    g_source_unref (*source);
    *source = NULL;
  }
}

void
whip_fail (GstDaydreamWhipSink * self, const gchar * detail)
{
  whip_set_state (self, WHIP_STATE_FAILED, detail);
}
