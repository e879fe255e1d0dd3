/* daydream-rtc: whepsrc sessions: one webrtcbin, the offer path, its loss
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An attempt: create-offer (recvonly video, maybe audio) -> gathering
 * complete (bounded: Daydream does not trickle) -> POST -> 201: answer
 * applied, connected when the peer connection says so. A lost connection
 * (peer connection failed, no media for media-timeout, a webrtcbin error)
 * ends the session, DELETEs it when it has a Location, and starts again.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whepsrc-conn.h"

#include <string.h>

#define GST_CAT_DEFAULT gst_daydream_whep_src_debug

/* ---- sessions ---- */

typedef struct
{
  WhepJob *job;
  GstWebRTCPeerConnectionState state;
} StateCall;

static void
state_call_free (gpointer data)
{
  StateCall *call = data;

  whep_job_free (call->job);
  g_free (call);
}

static void
connected (WhepConn * conn)
{
  g_autoptr (GstDaydreamWhepSrc) self = whep_conn_self (conn);
  gint64 now = g_get_monotonic_time ();

  conn->connected_us = now;
  conn->failures = conn->busy = 0;
  conn->deadline_us = 0;
  conn->was_connected = TRUE;
  if (self) {
    __atomic_store_n (&self->last_in_us, now, __ATOMIC_RELAXED);
    __atomic_store_n (&self->last_out_us, now, __ATOMIC_RELAXED);
  }
  GST_INFO ("%s: connected after %u attempt(s)", conn->host, conn->attempt);
  whep_conn_post_state (conn, WHEP_STATE_CONNECTED, conn->last_status, 0,
      "peer connection established");
  conn->attempt = 0;
}

static gboolean
handle_connection_state (gpointer data)
{
  StateCall *call = data;
  WhepConn *conn = call->job->conn;

  if (!whep_job_live (call->job))
    return G_SOURCE_REMOVE;
  GST_DEBUG ("%s: peer connection %s", conn->host,
      drtc_webrtc_state_name (call->state));
  switch (call->state) {
    case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED:
      if (!conn->connected_us)
        connected (conn);
      break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_FAILED:
      whep_session_lost (conn, "the peer connection failed");
      break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED:
      whep_session_lost (conn, "the peer connection closed");
      break;
    default:
      /* disconnected may come back; media-timeout decides */
      break;
  }
  return G_SOURCE_REMOVE;
}

/* webrtcbin's thread */
static void
on_connection_state (GstElement * webrtc, GParamSpec * pspec, gpointer data)
{
  WhepJob *job = data;
  StateCall *call = g_new0 (StateCall, 1);

  g_object_get (webrtc, "connection-state", &call->state, NULL);
  call->job = g_new0 (WhepJob, 1);
  call->job->conn = whep_conn_ref (job->conn);
  call->job->gen = job->gen;
  g_main_context_invoke_full (job->conn->context, G_PRIORITY_DEFAULT,
      handle_connection_state, call, state_call_free);
}

void
whep_apply_ice_server (GstElement * webrtc, const gchar * url)
{
  gboolean ok = FALSE;

  if (g_str_has_prefix (url, "stun"))
    g_object_set (webrtc, "stun-server", url, NULL);
  else
    g_signal_emit_by_name (webrtc, "add-turn-server", url, &ok);
}

/* Receiver reports every second or so, as browsers send them (rtpsession's
 * default is 5 s): servers use them for congestion control and, lacking a
 * DELETE, to notice that a viewer left. */
static void
on_deep_element_added (GstBin * bin, GstBin * sub, GstElement * element,
    gpointer data)
{
  GstElementFactory *factory = gst_element_get_factory (element);

  if (factory && g_str_equal (GST_OBJECT_NAME (factory), "rtpsession"))
    g_object_set (element, "rtcp-min-interval", (guint64) RTCP_INTERVAL_NS,
        NULL);
}

/* A webrtcbin in the bin, ready to negotiate; NULL when it is missing. */
GstElement *
whep_session_new (WhepConn * conn, GstDaydreamWhepSrc * self)
{
  DrtcWebrtcConfig wc = { 0 };
  g_autoptr (GPtrArray) turns = g_ptr_array_new ();
  g_autofree gchar *name = NULL;
  GstElement *webrtc;
  guint gen;

  if (conn->cfg->turn_server)
    g_ptr_array_add (turns, conn->cfg->turn_server);
  g_ptr_array_add (turns, NULL);
  wc.stun_server = conn->cfg->stun_server;
  wc.turn_servers = (const gchar * const *) turns->pdata;
  wc.local_addresses = (const gchar * const *) conn->cfg->local_addresses;
  wc.latency_ms = conn->cfg->latency_ms;
  gen = (guint) g_atomic_int_add (&conn->gen, 1) + 1;
  name = g_strdup_printf ("webrtcbin%u", gen);
  webrtc = drtc_webrtc_new (name, &wc);
  if (!webrtc)
    return NULL;
  /* servers from Link headers override the properties (use-link-headers) */
  for (guint i = 0; conn->link_servers && i < conn->link_servers->len; i++)
    whep_apply_ice_server (webrtc, g_ptr_array_index (conn->link_servers, i));
  g_object_set (webrtc, "ice-transport-policy",
      conn->cfg->ice_transport_policy, NULL);
  g_object_set_data (G_OBJECT (webrtc), WHEP_GEN_KEY, GUINT_TO_POINTER (gen));
  g_signal_connect (webrtc, "deep-element-added",
      G_CALLBACK (on_deep_element_added), NULL);
  g_signal_connect (webrtc, "pad-added",
      G_CALLBACK (whep_chain_on_pad_added), self);
  g_signal_connect_data (webrtc, "notify::connection-state",
      G_CALLBACK (on_connection_state), whep_job_new (conn),
      whep_job_closure_free, 0);
  whep_chain_attach (self, webrtc);
  conn->webrtc = gst_object_ref_sink (webrtc);
  gst_bin_add (GST_BIN (self), webrtc);
  gst_element_sync_state_with_parent (webrtc);
  return webrtc;
}

static void
on_deleted (DrtcHttpResponse * response, const GError * error, gpointer data)
{
  gchar *host = data;

  if (response)
    GST_DEBUG ("%s: DELETE answered %u", host, response->status);
  else
    GST_DEBUG ("%s: DELETE failed: %s", host, error->message);
}

static void
send_delete (WhepConn * conn)
{
  DrtcHttpRequest req = { 0 };

  req.method = "DELETE";
  req.url = conn->location;
  req.bearer = conn->cfg->auth_token;
  req.timeout_s = conn->cfg->timeout_s;
  req.max_redirects = MAX_REDIRECTS;
  drtc_http_send (conn->http, &req, on_deleted, g_strdup (conn->host), g_free);
}

/* Ends the current session: its callbacks go stale, its webrtcbin and
 * chains leave the bin, its resource is deleted when asked. */
void
whep_session_end (WhepConn * conn, gboolean delete_resource)
{
  g_autoptr (GstDaydreamWhepSrc) self = whep_conn_self (conn);

  g_atomic_int_inc (&conn->gen);
  whep_destroy_source (&conn->retry);
  if (delete_resource && conn->location)
    send_delete (conn);
  g_clear_pointer (&conn->location, g_free);
  g_clear_pointer (&conn->etag, g_free);
  g_clear_pointer (&conn->offer_sdp, g_free);
  conn->answered_us = conn->connected_us = 0;
  if (!conn->webrtc)
    return;
  g_signal_handlers_disconnect_matched (conn->webrtc, G_SIGNAL_MATCH_FUNC,
      0, 0, NULL, whep_chain_on_pad_added, NULL);
  g_signal_handlers_disconnect_matched (conn->webrtc, G_SIGNAL_MATCH_FUNC,
      0, 0, NULL, on_connection_state, NULL);
  whep_conn_interrupt_promises (conn);
  if (self)
    whep_chain_dispose (self, conn->webrtc);
  else
    gst_element_set_state (conn->webrtc, GST_STATE_NULL);
  gst_clear_object (&conn->webrtc);
}

void
whep_session_lost (WhepConn * conn, const gchar * reason)
{
  g_autoptr (GstDaydreamWhepSrc) self = whep_conn_self (conn);

  GST_WARNING ("%s: %s; reconnecting", conn->host, reason);
  whep_session_end (conn, TRUE);
  if (self && conn->was_connected)
    whep_src_count (self, FALSE, TRUE);
  if (!conn->deadline_us && conn->cfg->connect_timeout_s)
    conn->deadline_us = g_get_monotonic_time () +
        conn->cfg->connect_timeout_s * G_USEC_PER_SEC;
  whep_conn_retry_later (conn, 0, -1, FALSE, reason);
}

/* ---- the offer path ---- */

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

    whep_conn_fail_answer (job->conn, job->conn->last_status, text, NULL);
    return;
  }
  GST_DEBUG ("%s: answer applied, connecting", job->conn->host);
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
    whep_conn_fail_answer (conn, r->status, err->message, r->body);
    return;
  }
  codec = whep_sdp_video_codec (sdp, conn->video_rtp);
  if (!codec) {
    gst_sdp_message_free (sdp);
    whep_conn_fail_answer (conn, r->status,
        "the answer accepts no video codec that " "was offered", r->body);
    return;
  }
  GST_INFO ("%s: answered (HTTP %u), video %s", conn->host, r->status, codec);
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

  if (!whep_job_live (job))
    return;
  if (!r) {
    g_autofree gchar *reason = NULL;

    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      return;
    reason = g_strdup_printf ("no answer from %s: %s", conn->host,
        error->message);
    whep_conn_retry_later (conn, 0, -1, FALSE, reason);
    return;
  }
  conn->last_status = r->status;
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
    whep_conn_fail_http (conn, "offer", r);
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
  GST_DEBUG ("%s: POST offer (attempt %u)", conn->host, conn->attempt);
  drtc_http_send (conn->http, &req, on_post_response, whep_job_new (conn),
      whep_job_free);
}

static void
on_offer_gathered (GstElement * webrtc, gboolean complete, gpointer data)
{
  WhepJob *job = data;
  WhepConn *conn = job->conn;

  if (!whep_job_live (job))
    return;
  if (!complete)
    GST_WARNING ("ICE gathering still running after %u ms: offering the "
        "candidates found so far", GATHER_TIMEOUT_MS);
  conn->offer_sdp = drtc_webrtc_local_sdp (webrtc);
  if (!conn->offer_sdp) {
    whep_conn_fail (conn, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_FAILED, 0,
        "webrtcbin has no local description", NULL);
    return;
  }
  post_offer (conn);
}

static void
on_offer_created (GstPromise * promise, gpointer data)
{
  WhepJob *job = data;
  WhepConn *conn = job->conn;
  g_autoptr (GError) err = NULL;
  GstWebRTCSessionDescription *offer;

  if (!whep_job_live (job))
    return;
  if (!(offer = drtc_promise_description (promise, "offer", &err))) {
    whep_conn_fail (conn, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_FAILED, 0,
        "webrtcbin could not create an offer", err->message);
    return;
  }
  g_signal_emit_by_name (conn->webrtc, "set-local-description", offer, NULL);
  gst_webrtc_session_description_free (offer);
  /* Daydream does not trickle: the offer carries every candidate */
  drtc_webrtc_when_gathered (conn->webrtc, conn->context, GATHER_TIMEOUT_MS,
      on_offer_gathered, whep_job_new (conn), whep_job_free);
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
whep_session_attempt (WhepConn * conn)
{
  g_autoptr (GstDaydreamWhepSrc) self = whep_conn_self (conn);
  GstPromise *promise;

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
    whep_conn_fail (conn, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN, 0,
        "webrtcbin is missing", "install gstreamer1.0-plugins-bad");
    return;
  }
  if (!add_transceiver (conn->webrtc, conn->video_rtp, TRUE)
      || (conn->audio_rtp && !gst_caps_is_empty (conn->audio_rtp)
          && !add_transceiver (conn->webrtc, conn->audio_rtp, FALSE))) {
    whep_conn_fail (conn, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_FAILED, 0,
        "webrtcbin refused the receive-only transceivers", NULL);
    return;
  }
  promise = whep_conn_promise (conn, on_offer_created);
  g_signal_emit_by_name (conn->webrtc, "create-offer", NULL, promise);
  gst_promise_unref (promise);
}
