/* daydream-rtc: whepsrc's watchdog (on the DrtcHttp thread)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every 100 ms: connect-timeout; ICE/DTLS not up within timeout after an
 * answer; once connected and PLAYING, a keyframe request (PLI) when no
 * frame came out for stall-timeout, a new session when no media came in
 * for media-timeout; once a second, the bitrate and webrtcbin's stats.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whepsrc-conn.h"

#define GST_CAT_DEFAULT gst_daydream_whep_src_debug

/* ---- the watchdog: connect-timeout, stalls, media-timeout, stats ---- */

static void
on_stats (GstPromise * promise, gpointer data)
{
  WhepJob *job = data;
  g_autoptr (GstDaydreamWhepSrc) self = NULL;
  const GstStructure *reply;

  if (!whep_job_live (job)
      || gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED)
    return;
  reply = gst_promise_get_reply (promise);
  self = whep_conn_self (job->conn);
  if (self && reply)
    whep_src_set_rtc_stats (self, gst_structure_copy (reply));
}

static void
poll_stats (WhepConn * conn, GstDaydreamWhepSrc * self, gint64 now)
{
  guint64 bytes = __atomic_load_n (&self->bytes_in, __ATOMIC_RELAXED);
  GstPromise *promise;

  if (conn->last_poll_us) {
    guint64 rate = (bytes - conn->last_bytes) * 8 * G_USEC_PER_SEC /
        MAX (now - conn->last_poll_us, 1);

    __atomic_store_n (&self->bitrate, rate, __ATOMIC_RELAXED);
  }
  conn->last_bytes = bytes;
  conn->last_poll_us = now;
  promise = whep_conn_promise (conn, on_stats);
  g_signal_emit_by_name (conn->webrtc, "get-stats", NULL, promise);
  gst_promise_unref (promise);
}

static void
watch_media (WhepConn * conn, GstDaydreamWhepSrc * self, gint64 now)
{
  gint64 in = __atomic_load_n (&self->last_in_us, __ATOMIC_RELAXED);
  gint64 out = __atomic_load_n (&self->last_out_us, __ATOMIC_RELAXED);
  gint64 stall = (gint64) conn->cfg->stall_timeout_ms * 1000;
  gint64 media = (gint64) conn->cfg->media_timeout_ms * 1000;

  if (media && now - in > media) {
    g_autofree gchar *reason = g_strdup_printf ("no media for %u ms",
        conn->cfg->media_timeout_ms);

    whep_session_lost (conn, reason);
  } else if (stall && now - out > stall && now - conn->last_pli_us > stall) {
    conn->last_pli_us = now;
    whep_chain_request_keyframe (self);
  }
}

gboolean
whep_watch_tick (gpointer data)
{
  WhepConn *conn = data;
  g_autoptr (GstDaydreamWhepSrc) self = whep_conn_self (conn);
  gint64 now = g_get_monotonic_time ();

  if (!self || conn->stopped || conn->failed)
    return G_SOURCE_CONTINUE;
  if (!conn->connected_us && conn->deadline_us && now >= conn->deadline_us) {
    g_autofree gchar *text = g_strdup_printf ("Could not connect to the "
        "WHEP endpoint within %u s", conn->cfg->connect_timeout_s);
    g_autofree gchar *debug = g_strdup_printf ("%s: %s", conn->host,
        conn->last_reason ? conn->last_reason : "no answer yet");

    whep_session_fail (conn, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
        conn->last_status, text, debug);
    return G_SOURCE_CONTINUE;
  }
  if (conn->answered_us && !conn->connected_us
      && now - conn->answered_us > conn->cfg->timeout_s * G_USEC_PER_SEC) {
    g_autofree gchar *reason = g_strdup_printf ("ICE/DTLS did not connect "
        "within %u s", conn->cfg->timeout_s);

    whep_session_lost (conn, reason);
    return G_SOURCE_CONTINUE;
  }
  if (!conn->connected_us)
    return G_SOURCE_CONTINUE;
  if (GST_STATE (self) == GST_STATE_PLAYING)
    watch_media (conn, self, now);
  if (conn->webrtc && now - conn->last_poll_us >= STATS_INTERVAL_US)
    poll_stats (conn, self, now);
  return G_SOURCE_CONTINUE;
}
