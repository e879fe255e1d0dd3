/* daydream-rtc: whipsink: the stats property
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Frames sent and what webrtcbin reports of the outbound RTP stream and
 * the receiver's reports.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whipsink-private.h"

#include <gst/webrtc/webrtc.h>

#define GST_CAT_DEFAULT gst_daydream_whip_sink_debug

static gboolean
copy_rtp_stats (GQuark field, const GValue * value, gpointer data)
{
  GstStructure *out = data;
  const GstStructure *s;
  GstWebRTCStatsType type;

  if (!GST_VALUE_HOLDS_STRUCTURE (value))
    return TRUE;
  s = gst_value_get_structure (value);
  if (!gst_structure_get (s, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, NULL))
    return TRUE;
  if (type == GST_WEBRTC_STATS_OUTBOUND_RTP) {
    guint64 packets = 0, bytes = 0;

    gst_structure_get_uint64 (s, "packets-sent", &packets);
    gst_structure_get_uint64 (s, "bytes-sent", &bytes);
    gst_structure_set (out, "packets-sent", G_TYPE_UINT64, packets,
        "bytes-sent", G_TYPE_UINT64, bytes, NULL);
  } else if (type == GST_WEBRTC_STATS_REMOTE_INBOUND_RTP) {
    gdouble rtt = 0, jitter = 0;
    gint64 lost = 0;

    gst_structure_get_double (s, "round-trip-time", &rtt);
    gst_structure_get_double (s, "jitter", &jitter);
    gst_structure_get_int64 (s, "packets-lost", &lost);
    gst_structure_set (out, "round-trip-time", G_TYPE_DOUBLE, rtt,
        "jitter", G_TYPE_DOUBLE, jitter, "packets-lost", G_TYPE_INT64, lost,
        NULL);
  }
  return TRUE;
}

GstStructure *
whip_make_stats (GstDaydreamWhipSink * self)
{
  g_autoptr (GstElement) webrtc = whip_current_webrtc (self);
  GstStructure *out;

  g_mutex_lock (&self->lock);
  out = gst_structure_new ("whipsink-stats",
      "state", G_TYPE_STRING, whip_state_names[self->state],
      "reconnects", G_TYPE_UINT, self->reconnects,
      "frames-sent", G_TYPE_UINT64, self->frames,
      "packets-sent", G_TYPE_UINT64, (guint64) 0,
      "bytes-sent", G_TYPE_UINT64, (guint64) 0,
      "round-trip-time", G_TYPE_DOUBLE, 0.0, NULL);
  g_mutex_unlock (&self->lock);
  if (webrtc && GST_STATE (webrtc) >= GST_STATE_READY) {
    GstPromise *promise = gst_promise_new ();

    g_signal_emit_by_name (webrtc, "get-stats", NULL, promise);
    if (gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED
        && gst_promise_get_reply (promise))
      gst_structure_foreach (gst_promise_get_reply (promise), copy_rtp_stats,
          out);
    gst_promise_unref (promise);
  }
  return out;
}
