/* daydream-rtc: whepsrc sessions: one webrtcbin, its state, its end
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A session is one webrtcbin in the bin, with its receive chains. A lost
 * connection (peer connection failed, no media for media-timeout, a
 * webrtcbin error) ends the session, DELETEs it when it has a Location, and
 * tries again after the backoff; a fatal error ends it for good.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whepsrc-conn.h"
#include "drtc-negotiate.h"

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
  WHEP_CONN_INFO (conn, "%s: connected after %u attempt(s)", conn->host,
      conn->attempt);
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
  WHEP_CONN_DEBUG (conn, "%s: peer connection %s", conn->host,
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
  WhepConn *conn = data;

  if (response)
    WHEP_CONN_DEBUG (conn, "%s: DELETE answered %u", conn->host,
        response->status);
  else
    WHEP_CONN_DEBUG (conn, "%s: DELETE failed: %s", conn->host, error->message);
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
  drtc_http_send (conn->http, &req, on_deleted, whep_conn_ref (conn),
      (GDestroyNotify) whep_conn_unref);
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
  drtc_negotiate_interrupt (conn->webrtc);
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

  WHEP_CONN_WARNING (conn, "%s: %s; reconnecting", conn->host, reason);
  whep_session_end (conn, TRUE);
  if (self && conn->was_connected)
    whep_src_count (self, FALSE, TRUE);
  if (!conn->deadline_us && conn->cfg->connect_timeout_s)
    conn->deadline_us = g_get_monotonic_time () +
        conn->cfg->connect_timeout_s * G_USEC_PER_SEC;
  whep_conn_retry_later (conn, 0, -1, FALSE, reason);
}

/* ---- giving up ---- */

void
whep_session_fail (WhepConn * conn, GQuark domain, gint code, guint status,
    const gchar * text, const gchar * debug)
{
  g_autoptr (GstDaydreamWhepSrc) self = NULL;
  GstStructure *details = NULL;

  if (conn->failed || conn->stopped)
    return;
  conn->failed = TRUE;
  whep_destroy_source (&conn->retry);
  whep_destroy_source (&conn->watch);
  whep_session_end (conn, TRUE);
  self = whep_conn_self (conn);
  if (!self)
    return;
  GST_WARNING_OBJECT (self, "giving up: %s (%s)", text, GST_STR_NULL (debug));
  whep_src_post_state (self, WHEP_STATE_FAILED, conn->attempt, status, 0, text);
  if (status)
    details = gst_make_element_message_details ("http-status-code",
        G_TYPE_UINT, status, NULL);
  gst_element_message_full_with_details (GST_ELEMENT (self),
      GST_MESSAGE_ERROR, domain, code, g_strdup (text), g_strdup (debug),
      __FILE__, GST_FUNCTION, __LINE__, details);
}

void
whep_session_fail_answer (WhepConn * conn, guint status, const gchar * why,
    GBytes * body)
{
  g_autofree gchar *excerpt = drtc_http_body_excerpt (body, 160);
  g_autofree gchar *debug = g_strdup_printf ("%s (from %s, HTTP %u): '%s'",
      why, conn->host, status, excerpt);

  whep_session_fail (conn, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, status,
      "WHEP endpoint sent an unusable SDP answer", debug);
}

void
whep_session_fail_http (WhepConn * conn, const gchar * method,
    DrtcHttpResponse * r)
{
  g_autofree gchar *excerpt = drtc_http_body_excerpt (r->body, 200);
  g_autofree gchar *text = g_strdup_printf ("WHEP endpoint refused the "
      "%s (HTTP %u)", method, r->status);
  g_autofree gchar *debug = g_strdup_printf ("%s to %s returned %u: '%s'",
      method, conn->host, r->status, excerpt);
  gint code = r->status == 401 || r->status == 403 ?
      GST_RESOURCE_ERROR_NOT_AUTHORIZED : GST_RESOURCE_ERROR_OPEN_READ;

  whep_session_fail (conn, GST_RESOURCE_ERROR, code, r->status, text, debug);
}

/* A local description could not be made (drtc_negotiate_local): fatal. */
void
whep_session_fail_negotiation (WhepConn * conn, const GError * error,
    const gchar * what)
{
  if (g_error_matches (error, DRTC_NEGOTIATE_ERROR,
          DRTC_NEGOTIATE_ERROR_NO_SDP))
    whep_session_fail (conn, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_FAILED, 0,
        "webrtcbin has no local description", NULL);
  else
    whep_session_fail (conn, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_FAILED, 0,
        what, error->message);
}

/**
 * whep_session_response:
 * @request: what the request was, for the reason ("" for the offer, " to
 *   the PATCH" ...)
 * @end_session: end the session before retrying when there is no answer
 *
 * The start of every WHEP response handler: whether @r is for a live job
 * and came at all. Without an answer (and not cancelled) the attempt is
 * retried later. Sets last_status from @r.
 *
 * Returns: %TRUE when the caller handles @r
 */
gboolean
whep_session_response (WhepJob * job, DrtcHttpResponse * r,
    const GError * error, const gchar * request, gboolean end_session)
{
  WhepConn *conn = job->conn;
  g_autofree gchar *reason = NULL;

  if (!whep_job_live (job))
    return FALSE;
  if (r) {
    conn->last_status = r->status;
    return TRUE;
  }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return FALSE;
  reason = g_strdup_printf ("no answer from %s%s: %s", conn->host, request,
      error->message);
  if (end_session)
    whep_session_end (conn, TRUE);
  whep_conn_retry_later (conn, 0, -1, FALSE, reason);
  return FALSE;
}
