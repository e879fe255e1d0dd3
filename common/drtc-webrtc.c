/* daydream-rtc: webrtcbin set-up and signalling helpers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * webrtcbin calls back from its own threads; everything here hands results
 * over to a GMainContext of the caller's choosing, so that signalling state
 * is only ever touched from one thread.
 */
#include "drtc-webrtc.h"

static void
configure_ice (GstElement * webrtc, const DrtcWebrtcConfig * cfg)
{
  GObject *ice = NULL;
  GObject *agent = NULL;

  g_object_get (webrtc, "ice-agent", &ice, NULL);
  if (!ice)
    return;
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (ice), "agent"))
    g_object_get (ice, "agent", &agent, NULL);
  /* libnice announces UPnP on every gathering (SSDP multicast off this
   * machine) unless told not to; webrtcbin 1.22 never tells it */
  if (agent && g_object_class_find_property (G_OBJECT_GET_CLASS (agent),
          "upnp"))
    g_object_set (agent, "upnp", cfg->upnp, NULL);
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (ice), "ice-tcp"))
    g_object_set (ice, "ice-tcp", cfg->ice_tcp, NULL);
  for (guint i = 0; cfg->local_addresses && cfg->local_addresses[i]; i++) {
    gboolean ok = FALSE;

    g_signal_emit_by_name (ice, "add-local-ip-address",
        cfg->local_addresses[i], &ok);
    if (!ok)
      g_warning ("ICE: could not use local address '%s'",
          cfg->local_addresses[i]);
  }
  g_clear_object (&agent);
  g_object_unref (ice);
}

/**
 * drtc_webrtc_new:
 * @name: (nullable): element name
 * @cfg: settings
 *
 * A webrtcbin with max-bundle, the given latency and ICE servers, UPnP off
 * and, unless asked for, no TCP candidates.
 *
 * Returns: (transfer floating): the element, or %NULL if webrtcbin is missing
 */
GstElement *
drtc_webrtc_new (const gchar * name, const DrtcWebrtcConfig * cfg)
{
  GstElement *webrtc = gst_element_factory_make ("webrtcbin", name);

  if (!webrtc)
    return NULL;
  g_object_set (webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE,
      "latency", cfg->latency_ms, NULL);
  if (cfg->stun_server)
    g_object_set (webrtc, "stun-server", cfg->stun_server, NULL);
  for (guint i = 0; cfg->turn_servers && cfg->turn_servers[i]; i++) {
    gboolean ok = FALSE;

    g_signal_emit_by_name (webrtc, "add-turn-server", cfg->turn_servers[i],
        &ok);
  }
  configure_ice (webrtc, cfg);
  return webrtc;
}

typedef struct
{
  GMainContext *context;
  DrtcPromiseFunc func;
  gpointer user_data;
  GDestroyNotify notify;
} PromiseJob;

typedef struct
{
  PromiseJob *job;
  GstPromise *promise;
} PromiseCall;

static gboolean
promise_dispatch (gpointer data)
{
  PromiseCall *call = data;

  call->job->func (call->promise, call->job->user_data);
  return G_SOURCE_REMOVE;
}

static void
promise_call_free (gpointer data)
{
  PromiseCall *call = data;

  gst_promise_unref (call->promise);
  g_free (call);
}

static void
promise_job_free (gpointer data)
{
  PromiseJob *job = data;

  if (job->notify)
    job->notify (job->user_data);
  g_main_context_unref (job->context);
  g_free (job);
}

static void
on_promise_changed (GstPromise * promise, gpointer data)
{
  PromiseJob *job = data;
  PromiseCall *call = g_new0 (PromiseCall, 1);

  call->job = job;
  call->promise = gst_promise_ref (promise);
  g_main_context_invoke_full (job->context, G_PRIORITY_DEFAULT,
      promise_dispatch, call, promise_call_free);
}

/**
 * drtc_promise_new:
 * @context: where @func runs
 *
 * A promise whose reply is handed to @func on @context. @notify frees
 * @user_data when the promise is gone.
 *
 * Returns: (transfer full): the promise
 */
GstPromise *
drtc_promise_new (GMainContext * context, DrtcPromiseFunc func,
    gpointer user_data, GDestroyNotify notify)
{
  PromiseJob *job = g_new0 (PromiseJob, 1);

  job->context = g_main_context_ref (context);
  job->func = func;
  job->user_data = user_data;
  job->notify = notify;
  return gst_promise_new_with_change_func (on_promise_changed, job,
      promise_job_free);
}

/**
 * drtc_promise_reply:
 * @reply: (out) (optional) (transfer none) (nullable): the reply, if any
 *
 * webrtcbin replies with an "error" field when an operation failed, and
 * not at all when it was interrupted (shutting down).
 *
 * Returns: %TRUE when @promise was replied to without an error
 */
gboolean
drtc_promise_reply (GstPromise * promise, const GstStructure ** reply,
    GError ** error)
{
  const GstStructure *s;
  GError *err = NULL;

  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED) {
    g_set_error_literal (error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
        "webrtcbin did not answer");
    return FALSE;
  }
  s = gst_promise_get_reply (promise);
  if (s && gst_structure_has_field (s, "error")) {
    gst_structure_get (s, "error", G_TYPE_ERROR, &err, NULL);
    g_propagate_error (error, err ? err : g_error_new_literal
        (GST_CORE_ERROR, GST_CORE_ERROR_FAILED, "webrtcbin error"));
    return FALSE;
  }
  if (reply)
    *reply = s;
  return TRUE;
}

/**
 * drtc_promise_description:
 * @field: "offer" or "answer"
 *
 * The description in the reply to create-offer or create-answer.
 *
 * Returns: (transfer full) (nullable): it, or %NULL with @error set
 */
GstWebRTCSessionDescription *
drtc_promise_description (GstPromise * promise, const gchar * field,
    GError ** error)
{
  const GstStructure *reply = NULL;
  GstWebRTCSessionDescription *desc = NULL;

  if (!drtc_promise_reply (promise, &reply, error))
    return NULL;
  if (!reply || !gst_structure_get (reply, field,
          GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, NULL)) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
        "webrtcbin replied without an %s", field);
    return NULL;
  }
  return desc;
}

/* Refcounted (g_atomic_rc_box): the caller's pending job, the signal
 * handler, the timeout and each dispatch in flight hold a reference. */
typedef struct
{
  GstElement *webrtc;
  GMainContext *context;
  DrtcGatheredFunc func;
  gpointer user_data;
  GDestroyNotify notify;
  gulong handler;
  GSource *timeout;
  gboolean done;                /* context thread only */
} GatherJob;

static void
gather_job_clear (gpointer data)
{
  GatherJob *job = data;

  gst_object_unref (job->webrtc);
  g_main_context_unref (job->context);
}

static void
gather_job_release (gpointer data)
{
  g_atomic_rc_box_release_full (data, gather_job_clear);
}

static void
gather_job_closure_notify (gpointer data, GClosure * closure)
{
  gather_job_release (data);
}

static void
gather_finish (GatherJob * job, gboolean complete)
{
  if (job->done)
    return;
  job->done = TRUE;
  g_signal_handler_disconnect (job->webrtc, job->handler);
  if (job->timeout) {
    g_source_destroy (job->timeout);
    g_source_unref (job->timeout);
    job->timeout = NULL;
  }
  job->func (job->webrtc, complete, job->user_data);
  if (job->notify)
    job->notify (job->user_data);
  gather_job_release (job);     /* the pending job's own reference */
}

static gboolean
gather_on_complete (gpointer data)
{
  gather_finish (data, TRUE);
  return G_SOURCE_REMOVE;
}

static gboolean
gather_on_timeout (gpointer data)
{
  gather_finish (data, FALSE);
  return G_SOURCE_REMOVE;
}

static gboolean
gathering_complete (GstElement * webrtc)
{
  GstWebRTCICEGatheringState state = GST_WEBRTC_ICE_GATHERING_STATE_NEW;

  g_object_get (webrtc, "ice-gathering-state", &state, NULL);
  return state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE;
}

static void
on_gathering_state (GstElement * webrtc, GParamSpec * pspec, gpointer data)
{
  GatherJob *job = data;

  if (gathering_complete (webrtc))
    g_main_context_invoke_full (job->context, G_PRIORITY_DEFAULT,
        gather_on_complete, g_atomic_rc_box_acquire (job), gather_job_release);
}

/**
 * drtc_webrtc_when_gathered:
 *
 * Calls @func once on @context: when ICE gathering is complete, or after
 * @timeout_ms with what was gathered so far (@complete FALSE). @notify
 * frees @user_data right after.
 */
void
drtc_webrtc_when_gathered (GstElement * webrtc, GMainContext * context,
    guint timeout_ms, DrtcGatheredFunc func, gpointer user_data,
    GDestroyNotify notify)
{
  GatherJob *job = g_atomic_rc_box_new0 (GatherJob);

  job->webrtc = gst_object_ref (webrtc);
  job->context = g_main_context_ref (context);
  job->func = func;
  job->user_data = user_data;
  job->notify = notify;
  job->timeout = g_timeout_source_new (timeout_ms);
  g_source_set_callback (job->timeout, gather_on_timeout,
      g_atomic_rc_box_acquire (job), gather_job_release);
  g_source_attach (job->timeout, context);
  job->handler = g_signal_connect_data (webrtc, "notify::ice-gathering-state",
      G_CALLBACK (on_gathering_state), g_atomic_rc_box_acquire (job),
      gather_job_closure_notify, 0);
  if (gathering_complete (webrtc))
    g_main_context_invoke_full (context, G_PRIORITY_DEFAULT,
        gather_on_complete, g_atomic_rc_box_acquire (job), gather_job_release);
}

/**
 * drtc_webrtc_local_sdp:
 *
 * Returns: (transfer full) (nullable): the local description as SDP text
 */
gchar *
drtc_webrtc_local_sdp (GstElement * webrtc)
{
  GstWebRTCSessionDescription *desc = NULL;
  gchar *text;

  g_object_get (webrtc, "local-description", &desc, NULL);
  if (!desc)
    return NULL;
  text = gst_sdp_message_as_text (desc->sdp);
  gst_webrtc_session_description_free (desc);
  return text;
}

/**
 * drtc_webrtc_description_new:
 * @sdp: (transfer full): the SDP
 *
 * Returns: (transfer full): a session description
 */
GstWebRTCSessionDescription *
drtc_webrtc_description_new (GstWebRTCSDPType type, GstSDPMessage * sdp)
{
  return gst_webrtc_session_description_new (type, sdp);
}

const gchar *
drtc_webrtc_state_name (GstWebRTCPeerConnectionState state)
{
  switch (state) {
    case GST_WEBRTC_PEER_CONNECTION_STATE_NEW:
      return "new";
    case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTING:
      return "connecting";
    case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED:
      return "connected";
    case GST_WEBRTC_PEER_CONNECTION_STATE_DISCONNECTED:
      return "disconnected";
    case GST_WEBRTC_PEER_CONNECTION_STATE_FAILED:
      return "failed";
    case GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED:
      return "closed";
  }
  return "unknown";
}

const gchar *
drtc_webrtc_ice_state_name (GstWebRTCICEConnectionState state)
{
  switch (state) {
    case GST_WEBRTC_ICE_CONNECTION_STATE_NEW:
      return "new";
    case GST_WEBRTC_ICE_CONNECTION_STATE_CHECKING:
      return "checking";
    case GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED:
      return "connected";
    case GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED:
      return "completed";
    case GST_WEBRTC_ICE_CONNECTION_STATE_FAILED:
      return "failed";
    case GST_WEBRTC_ICE_CONNECTION_STATE_DISCONNECTED:
      return "disconnected";
    case GST_WEBRTC_ICE_CONNECTION_STATE_CLOSED:
      return "closed";
  }
  return "unknown";
}
