/* daydream-rtc: whepsrc and the WHEP counter-offer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A server that cannot take our offer may answer 406 with an offer of its
 * own (application/sdp) and a Location (WHEP draft): a fresh webrtcbin
 * answers it, keeping one codec of video-caps, and the answer is PATCHed
 * to the Location (If-Match with the ETag).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whepsrc-conn.h"
#include "drtc-negotiate.h"

#include <string.h>

#define GST_CAT_DEFAULT gst_daydream_whep_src_debug

/* ---- the counter-offer path (406 + the server's offer; PATCH answer) ---- */

static void
on_patch_response (DrtcHttpResponse * r, const GError * error, gpointer data)
{
  WhepJob *job = data;
  WhepConn *conn = job->conn;

  if (!whep_session_response (job, r, error, " to the PATCH", TRUE))
    return;
  if (r->status >= 200 && r->status < 300) {
    WHEP_CONN_INFO (conn, "%s: counter-offer answered (HTTP %u)", conn->host,
        r->status);
    conn->answered_us = g_get_monotonic_time ();
  } else if (r->status == 429 || whep_retryable (r->status)) {
    g_autofree gchar *reason = g_strdup_printf ("PATCH answered HTTP %u",
        r->status);

    whep_session_end (conn, TRUE);
    whep_conn_retry_later (conn, r->status, whep_retry_after_ms (r->headers),
        r->status == 429, reason);
  } else {
    whep_session_fail_http (conn, "answer (PATCH)", r);
  }
}

/* Our answer is set and gathered: PATCH it to the Location. */
static void
on_counter_answer_ready (GstElement * webrtc, const gchar * sdp,
    gboolean complete, const GError * error, gpointer data)
{
  WhepJob *job = data;
  WhepConn *conn = job->conn;
  DrtcHttpRequest req = { 0 };
  g_autoptr (GBytes) body = NULL;

  if (!whep_job_live (job))
    return;
  if (error) {
    whep_session_fail_negotiation (conn, error,
        "webrtcbin could not answer the counter-offer");
    return;
  }
  body = g_bytes_new (sdp, strlen (sdp));
  req.method = "PATCH";
  req.url = conn->location;
  req.bearer = conn->cfg->auth_token;
  req.content_type = "application/sdp";
  req.body = body;
  req.if_match = conn->etag;
  req.timeout_s = conn->cfg->timeout_s;
  req.max_redirects = MAX_REDIRECTS;
  WHEP_CONN_DEBUG (conn, "%s: PATCH answer to the counter-offer", conn->host);
  drtc_http_send (conn->http, &req, on_patch_response, whep_job_new (conn),
      whep_job_free);
}

static void
on_counter_offer_set (GstPromise * promise, gpointer data)
{
  WhepJob *job = data;
  WhepConn *conn = job->conn;
  g_autoptr (GError) err = NULL;
  DrtcNegotiateOptions opts = { GST_WEBRTC_SDP_TYPE_ANSWER };

  if (!whep_job_live (job))
    return;
  if (!drtc_promise_reply (promise, NULL, &err)) {
    g_autofree gchar *text = g_strdup_printf ("webrtcbin refused the "
        "counter-offer: %s", err->message);

    whep_session_fail_answer (conn, 406, text, NULL);
    return;
  }
  opts.context = conn->context;
  opts.gather_timeout_ms = GATHER_TIMEOUT_MS;
  drtc_negotiate_local (conn->webrtc, &opts, on_counter_answer_ready,
      whep_job_new (conn), whep_job_free);
}

/* The server turned our offer down with its own: answer it instead. */
void
whep_counter_offer_take (WhepConn * conn, DrtcHttpResponse * r)
{
  g_autoptr (GstDaydreamWhepSrc) self = whep_conn_self (conn);
  g_autofree gchar *text = whep_body_text (r->body);
  g_autoptr (GError) err = NULL;
  g_autofree gchar *codec = NULL;
  g_autofree gchar *location = NULL, *etag = NULL;
  GstSDPMessage *offer = drtc_sdp_parse (text, &err);
  GstWebRTCSessionDescription *desc;
  GstPromise *promise;

  if (!self)
    return;
  if (!offer) {
    whep_session_fail_answer (conn, r->status, err->message, r->body);
    return;
  }
  codec = whep_sdp_video_codec (offer, conn->video_rtp);
  /* answer with one codec we asked for, none the server may prefer */
  if (!codec || !drtc_sdp_keep_codec (offer, codec, NULL, &err)) {
    gst_sdp_message_free (offer);
    whep_session_fail_answer (conn, r->status,
        "the counter-offer has no video codec of " "video-caps", r->body);
    return;
  }
  whep_conn_keep_resource (conn, r);
  if (!conn->location) {
    gst_sdp_message_free (offer);
    whep_session_fail_answer (conn, r->status,
        "a counter-offer needs a Location to " "PATCH the answer to", r->body);
    return;
  }
  GST_INFO_OBJECT (self, "%s: counter-offer (HTTP 406), video %s: answering it",
      conn->host, codec);
  location = g_steal_pointer (&conn->location);
  etag = g_steal_pointer (&conn->etag);
  whep_session_end (conn, FALSE);
  conn->location = g_steal_pointer (&location);
  conn->etag = g_steal_pointer (&etag);
  if (!whep_session_new (conn, self)) {
    gst_sdp_message_free (offer);
    whep_session_fail (conn, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN, 0,
        "webrtcbin is missing", NULL);
    return;
  }
  desc = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, offer);
  promise = whep_conn_promise (conn, on_counter_offer_set);
  g_signal_emit_by_name (conn->webrtc, "set-remote-description", desc, promise);
  gst_promise_unref (promise);
  gst_webrtc_session_description_free (desc);
}
