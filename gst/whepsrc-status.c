/* daydream-rtc: whepsrc status: whep-state messages and the stats property
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Called from any thread: the signalling thread posts states, streaming
 * threads count (atomics, in whepsrc-chain.c), applications read stats.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whepsrc-private.h"

#define GST_CAT_DEFAULT gst_daydream_whep_src_debug

static const gchar *const state_names[] = {
  "idle", "connecting", "waiting", "connected", "reconnecting", "failed",
};

/* ---- status (any thread) ---- */

/* The one place element messages are made: the app's view of progress. */
void
whep_src_post_state (GstDaydreamWhepSrc * self, WhepState state,
    guint attempt, guint http_status, guint retry_ms, const gchar * reason)
{
  GstStructure *s;

  g_mutex_lock (&self->lock);
  self->state = state;
  if (http_status)
    self->last_http_status = http_status;
  g_mutex_unlock (&self->lock);
  s = gst_structure_new ("whep-state",
      "state", G_TYPE_STRING, state_names[state],
      "attempt", G_TYPE_UINT, attempt,
      "http-status", G_TYPE_UINT, http_status,
      "retry-in-ms", G_TYPE_UINT, retry_ms,
      "reason", G_TYPE_STRING, reason ? reason : "", NULL);
  GST_DEBUG_OBJECT (self, "%" GST_PTR_FORMAT, s);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

void
whep_src_count (GstDaydreamWhepSrc * self, gboolean attempt, gboolean reconnect)
{
  g_mutex_lock (&self->lock);
  self->attempts += attempt ? 1 : 0;
  self->reconnects += reconnect ? 1 : 0;
  g_mutex_unlock (&self->lock);
}

/* @stats: (transfer full): webrtcbin's get-stats reply */
void
whep_src_set_rtc_stats (GstDaydreamWhepSrc * self, GstStructure * stats)
{
  g_mutex_lock (&self->lock);
  if (self->rtc_stats)
    gst_structure_free (self->rtc_stats);
  self->rtc_stats = stats;
  g_mutex_unlock (&self->lock);
}

typedef struct
{
  guint64 packets_received;
  gint64 packets_lost;
  gdouble jitter;
  gdouble rtt;
} RtcSummary;

static gboolean
summarise_one (GQuark field, const GValue * value, gpointer data)
{
  RtcSummary *sum = data;
  const GstStructure *s;
  GstWebRTCStatsType type;
  gdouble d;

  if (!GST_VALUE_HOLDS_STRUCTURE (value))
    return TRUE;
  s = gst_value_get_structure (value);
  if (!gst_structure_get (s, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, NULL))
    return TRUE;
  if (type == GST_WEBRTC_STATS_INBOUND_RTP) {
    guint64 received = 0;
    gint64 lost = 0;

    /* the video stream's, the larger if there are several */
    if (gst_structure_get_uint64 (s, "packets-received", &received)
        && received >= sum->packets_received) {
      GstStructure *src = NULL;
      gint lost32 = 0;

      sum->packets_received = received;
      if (gst_structure_get_int64 (s, "packets-lost", &lost))
        sum->packets_lost = lost;
      else if (gst_structure_get (s, "gst-rtpsource-stats",
              GST_TYPE_STRUCTURE, &src, NULL)
          && gst_structure_get_int (src, "packets-lost", &lost32))
        sum->packets_lost = MAX (lost32, 0);    /* < 0: duplicates */
      if (src)
        gst_structure_free (src);
      if (gst_structure_get_double (s, "jitter", &d))
        sum->jitter = d;
    }
  } else if (type == GST_WEBRTC_STATS_REMOTE_OUTBOUND_RTP
      || type == GST_WEBRTC_STATS_REMOTE_INBOUND_RTP) {
    if (gst_structure_get_double (s, "round-trip-time", &d) && d > 0)
      sum->rtt = d;
  }
  return TRUE;
}

GstStructure *
whep_src_make_stats (GstDaydreamWhepSrc * self)
{
  RtcSummary sum = { 0, 0, 0.0, -1.0 };
  guint64 frames = __atomic_load_n (&self->frames_out, __ATOMIC_RELAXED);
  GstStructure *s;

  g_mutex_lock (&self->lock);
  if (self->rtc_stats)
    gst_structure_foreach (self->rtc_stats, summarise_one, &sum);
  s = gst_structure_new ("application/x-whepsrc-stats",
      "state", G_TYPE_STRING, state_names[self->state],
      "codec", G_TYPE_STRING, self->codec ? self->codec : "",
      "frames-out", G_TYPE_UINT64, frames,
      "frames-decoded", G_TYPE_UINT64, self->settings.decode ? frames : 0,
      "bitrate", G_TYPE_UINT64,
      __atomic_load_n (&self->bitrate, __ATOMIC_RELAXED),
      "packets-received", G_TYPE_UINT64, sum.packets_received,
      "packets-lost", G_TYPE_INT64, sum.packets_lost,
      "jitter", G_TYPE_DOUBLE, sum.jitter,
      "rtt", G_TYPE_DOUBLE, sum.rtt,
      "keyframe-requests", G_TYPE_UINT64,
      __atomic_load_n (&self->keyframe_requests, __ATOMIC_RELAXED),
      "attempts", G_TYPE_UINT, self->attempts,
      "reconnects", G_TYPE_UINT, self->reconnects,
      "http-status", G_TYPE_UINT, self->last_http_status, NULL);
  g_mutex_unlock (&self->lock);
  return s;
}

void
whep_src_reset_status (GstDaydreamWhepSrc * self)
{
  g_mutex_lock (&self->lock);
  self->state = WHEP_STATE_IDLE;
  self->last_http_status = 0;
  self->attempts = self->reconnects = 0;
  g_clear_pointer (&self->codec, g_free);
  g_clear_pointer (&self->rtc_stats, gst_structure_free);
  g_mutex_unlock (&self->lock);
  __atomic_store_n (&self->frames_out, 0, __ATOMIC_RELAXED);
  __atomic_store_n (&self->bytes_in, 0, __ATOMIC_RELAXED);
  __atomic_store_n (&self->keyframe_requests, 0, __ATOMIC_RELAXED);
  __atomic_store_n (&self->bitrate, 0, __ATOMIC_RELAXED);
}
