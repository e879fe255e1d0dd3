/* daydream-rtc: whepsrc: the offer path
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An attempt: create-offer (recvonly video, maybe audio) -> gathering
 * complete (bounded: Daydream does not trickle) -> POST -> 201: answer
 * applied, connected when the peer connection says so (whepsrc-session.c).
 * A 406 with the server's own offer goes to whepsrc-counter-offer.c.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whepsrc-conn.h"
#include "drtc-negotiate.h"

#include <string.h>

#define GST_CAT_DEFAULT gst_daydream_whep_src_debug

static void
on_answer_set (GstPromise * promise, gpointer data)
{
  WhepJob *job = data;
  g_autoptr (GError) err = NULL;

  if (!whep_job_live (job))
    return;
  if (!drtc_promise_reply (promise, NULL, &err)) {
    g_autofree gchar *text = g_strdup_printf ("webrtcbin refused it: %s",
        err->message);

    whep_session_fail_answer (job->conn, job->conn->last_status, text, NULL);
    return;
  }
  WHEP_CONN_DEBUG (job->conn, "%s: answer applied, connecting",
      job->conn->host);
}

static void
take_answer (WhepConn * conn, DrtcHttpResponse * r)
{
  g_autofree gchar *text = whep_body_text (r->body);
  g_autoptr (GError) err = NULL;
  g_autofree gchar *codec = NULL;
  GstSDPMessage *sdp = drtc_sdp_parse (text, &err);
  GstWebRTCSessionDescription *desc;
  GstPromise *promise;

  if (!sdp) {
    whep_session_fail_answer (conn, r->status, err->message, r->body);
    return;
  }
  codec = whep_sdp_video_codec (sdp, conn->video_rtp);
  if (!codec) {
    gst_sdp_message_free (sdp);
    whep_session_fail_answer (conn, r->status,
        "the answer accepts no video codec that " "was offered", r->body);
    return;
  }
  WHEP_CONN_INFO (conn, "%s: answered (HTTP %u), video %s", conn->host,
      r->status, codec);
  whep_conn_keep_resource (conn, r);
  g_clear_pointer (&conn->offer_sdp, g_free);
  conn->answered_us = g_get_monotonic_time ();
  desc = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  promise = whep_conn_promise (conn, on_answer_set);
  g_signal_emit_by_name (conn->webrtc, "set-remote-description", desc, promise);
  gst_promise_unref (promise);
  gst_webrtc_session_description_free (desc);
}

static void
on_post_response (DrtcHttpResponse * r, const GError * error, gpointer data)
{
  WhepJob *job = data;
  WhepConn *conn = job->conn;

  if (!whep_session_response (job, r, error, "", FALSE))
    return;
  if (r->status >= 200 && r->status < 300) {
    take_answer (conn, r);
  } else if (r->status == 406 && whep_is_sdp (r)) {
    whep_counter_offer_take (conn, r);
  } else if (r->status == 429 || whep_retryable (r->status)) {
    g_autofree gchar *excerpt = drtc_http_body_excerpt (r->body, 80);
    g_autofree gchar *reason = g_strdup_printf ("HTTP %u%s%s", r->status,
        *excerpt ? ": " : "", excerpt);

    whep_conn_retry_later (conn, r->status, whep_retry_after_ms (r->headers),
        r->status == 429, reason);
  } else {
    whep_session_fail_http (conn, "offer", r);
  }
}

static void
post_offer (WhepConn * conn)
{
  DrtcHttpRequest req = { 0 };
  g_autoptr (GBytes) body = g_bytes_new (conn->offer_sdp,
      strlen (conn->offer_sdp));

  req.method = "POST";
  req.url = conn->cfg->endpoint;
  req.bearer = conn->cfg->auth_token;
  req.content_type = "application/sdp";
  req.body = body;
  req.timeout_s = conn->cfg->timeout_s;
  req.max_redirects = MAX_REDIRECTS;
  WHEP_CONN_DEBUG (conn, "%s: POST offer (attempt %u)", conn->host,
      conn->attempt);
  drtc_http_send (conn->http, &req, on_post_response, whep_job_new (conn),
      whep_job_free);
}

/* The offer is set and gathered (Daydream does not trickle: it carries
 * every candidate): POST it. */
static void
on_offer_ready (GstElement * webrtc, const gchar * sdp, gboolean complete,
    const GError * error, gpointer data)
{
  WhepJob *job = data;
  WhepConn *conn = job->conn;

  if (!whep_job_live (job))
    return;
  if (error) {
    whep_session_fail_negotiation (conn, error,
        "webrtcbin could not create an offer");
    return;
  }
  if (!complete)
    WHEP_CONN_WARNING (conn, "ICE gathering still running after %u ms: "
        "offering the " "candidates found so far", GATHER_TIMEOUT_MS);
  conn->offer_sdp = g_strdup (sdp);
  post_offer (conn);
}

static gboolean
add_transceiver (GstElement * webrtc, GstCaps * caps, gboolean nack)
{
  GstWebRTCRTPTransceiver *t = NULL;

  g_signal_emit_by_name (webrtc, "add-transceiver",
      GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &t);
  if (!t)
    return FALSE;
  /* NACK lets the jitterbuffer ask for a lost packet within its latency */
  g_object_set (t, "do-nack", nack, NULL);
  gst_object_unref (t);
  return TRUE;
}

void
whep_offer_attempt (WhepConn * conn)
{
  g_autoptr (GstDaydreamWhepSrc) self = whep_conn_self (conn);
  DrtcNegotiateOptions opts = { GST_WEBRTC_SDP_TYPE_OFFER };

  if (!self || conn->stopped || conn->failed)
    return;
  conn->attempt++;
  whep_src_count (self, TRUE, FALSE);
  whep_conn_post_state (conn, WHEP_STATE_CONNECTING, 0, 0, conn->last_reason);
  if (conn->webrtc && conn->offer_sdp) {
    /* the endpoint was not ready: it keeps nothing, the offer is valid */
    post_offer (conn);
    return;
  }
  whep_session_end (conn, FALSE);
  if (!whep_session_new (conn, self)) {
    whep_session_fail (conn, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN, 0,
        "webrtcbin is missing", "install gstreamer1.0-plugins-bad");
    return;
  }
  if (!add_transceiver (conn->webrtc, conn->video_rtp, TRUE)
      || (conn->audio_rtp && !gst_caps_is_empty (conn->audio_rtp)
          && !add_transceiver (conn->webrtc, conn->audio_rtp, FALSE))) {
    whep_session_fail (conn, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_FAILED, 0,
        "webrtcbin refused the receive-only transceivers", NULL);
    return;
  }
  opts.context = conn->context;
  opts.gather_timeout_ms = GATHER_TIMEOUT_MS;
  drtc_negotiate_local (conn->webrtc, &opts, on_offer_ready,
      whep_job_new (conn), whep_job_free);
}
