/* daydream-rtc gateway: the WHEP viewers of a stream's output
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each viewer is a branch of the output's tee: queue ! rtph264pay !
 * capsfilter ! webrtcbin. It answers the viewer's offer, or (with
 * --whep-counter-offer) makes one. A viewer removed on its own stops on a
 * worker thread, out of the output's state changes; when the whole output
 * stops, the branches stop with it.
 */
#include "drtc-gateway-media-private.h"

#include <gst/video/video.h>

/* ---- viewers ---- */

static void
viewer_life_release (gpointer data)
{
  g_atomic_rc_box_release (data);
}

static void
viewer_life_closure_release (gpointer data, GClosure * closure)
{
  viewer_life_release (data);
}

static void
viewer_free (Viewer * v)
{
  g_free (v->id);
  gst_clear_object (&v->tee_pad);
  g_clear_pointer (&v->life, viewer_life_release);
  g_free (v);
}

/* rtpbin: RTCP from an SSRC (the viewer's receiver reports) */
static void
on_viewer_rtcp (GstElement * rtpbin, guint session, guint ssrc, gpointer data)
{
  ViewerLife *life = data;

  __atomic_store_n (&life->last_us, g_get_monotonic_time (), __ATOMIC_RELAXED);
}

static void
on_viewer_bye (GstElement * rtpbin, guint session, guint ssrc, gpointer data)
{
  ViewerLife *life = data;

  g_atomic_int_set (&life->bye, 1);
}

/* A viewer without a DELETE (daydream mode) just goes quiet: its RTCP is
 * how the gateway learns that it left, as ICE timeouts tell Daydream's. */
static void
watch_viewer_rtcp (Viewer * v)
{
  GstElement *rtpbin = gst_bin_get_by_name (GST_BIN (v->webrtc), "rtpbin");

  v->life = g_atomic_rc_box_new0 (ViewerLife);
  v->life->last_us = g_get_monotonic_time ();
  if (!rtpbin)
    return;
  g_signal_connect_data (rtpbin, "on-ssrc-active", G_CALLBACK (on_viewer_rtcp),
      g_atomic_rc_box_acquire (v->life), viewer_life_closure_release, 0);
  g_signal_connect_data (rtpbin, "on-bye-ssrc", G_CALLBACK (on_viewer_bye),
      g_atomic_rc_box_acquire (v->life), viewer_life_closure_release, 0);
  gst_object_unref (rtpbin);
}

/* The encoder renegotiates whenever a viewer's branch is linked, and its
 * ALLOCATION query is serialized: a branch's queue holds it until it has
 * drained, which it cannot while the viewer's webrtcbin still blocks its
 * sink pad (not negotiated yet), so the whole output stopped. Encoded
 * video going to a payloader needs no pool: each branch answers at once. */
static GstPadProbeReturn
on_branch_query (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  if (GST_QUERY_TYPE (GST_PAD_PROBE_INFO_QUERY (info)) == GST_QUERY_ALLOCATION)
    return GST_PAD_PROBE_HANDLED;
  return GST_PAD_PROBE_OK;
}

/* A viewer's PLI/FIR arrives as an upstream force-key-unit event. */
static GstPadProbeReturn
on_viewer_upstream (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);

  if (gst_video_event_is_force_key_unit (ev))
    g_message ("viewer %s asked for a keyframe", (const gchar *) data);
  return GST_PAD_PROBE_OK;
}

static gboolean
report_viewer_gone (gpointer data)
{
  MediaCall *call = data;

  if (!call->media->closed
      && g_hash_table_contains (call->media->viewers, call->text))
    call->media->events (call->media, DRTC_MEDIA_VIEWER_GONE, call->text,
        call->media->user_data);
  return G_SOURCE_REMOVE;
}

static guint
count_viewers (DrtcGatewayMedia * media, gboolean connected)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, media->viewers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((Viewer *) value)->connected == connected)
      n++;
  return n;
}

/* A pending viewer connected: it takes a viewer slot, if one is free
 * (others may have connected meanwhile: the limit holds for connected
 * viewers, whatever the order). */
static gboolean
report_viewer_connected (gpointer data)
{
  MediaCall *call = data;
  DrtcGatewayMedia *media = call->media;
  Viewer *v = media->closed ? NULL :
      g_hash_table_lookup (media->viewers, call->text);

  if (!v || v->connected)
    return G_SOURCE_REMOVE;
  if (count_viewers (media, TRUE) >= media->cfg.max_viewers) {
    g_message ("viewer %s connected above the limit of %u viewers: dropped",
        v->id, media->cfg.max_viewers);
    drtc_gateway_media_remove_viewer (media, call->text);
    return G_SOURCE_REMOVE;
  }
  v->connected = TRUE;
  g_message ("viewer %s connected", v->id);
  return G_SOURCE_REMOVE;
}

static void
report_viewer (DrtcGatewayMedia * media, GstElement * webrtc, GSourceFunc func)
{
  MediaCall *call = drtc_media_call_new (media, 0,
      g_object_get_data (G_OBJECT (webrtc), "drtc-viewer"));

  g_main_context_invoke_full (media->cfg.context, G_PRIORITY_DEFAULT, func,
      call, drtc_media_call_free);
}

static void
on_viewer_state (GstElement * webrtc, GParamSpec * pspec, gpointer data)
{
  DrtcGatewayMedia *media = data;
  GstWebRTCPeerConnectionState state;

  g_object_get (webrtc, "connection-state", &state, NULL);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) {
    /* a new viewer needs a keyframe to start decoding */
    GstEvent *ev = gst_video_event_new_upstream_force_key_unit
        (GST_CLOCK_TIME_NONE, TRUE, 0);
    GstPad *pad = gst_element_get_static_pad (media->tee, "sink");

    /* pushed from the sink pad: an upstream event goes to its peer */
    gst_pad_push_event (pad, ev);
    gst_object_unref (pad);
    report_viewer (media, webrtc, report_viewer_connected);
    return;
  }
  if (state != GST_WEBRTC_PEER_CONNECTION_STATE_FAILED
      && state != GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED)
    return;
  report_viewer (media, webrtc, report_viewer_gone);
}

static gboolean
link_viewer (DrtcGatewayMedia * media, Viewer * v, GstCaps * caps,
    GError ** error)
{
  GstBin *bin = GST_BIN (media->egress);
  g_autoptr (GstPad) queue_sink = NULL;
  g_autoptr (GstPad) webrtc_sink = NULL;
  g_autoptr (GstPad) filter_src = NULL;

  if (!(v->queue = drtc_media_add (bin, "queue", NULL, error))
      || !(v->pay = drtc_media_add (bin, "rtph264pay", NULL, error))
      || !(v->filter = drtc_media_add (bin, "capsfilter", NULL, error)))
    return FALSE;
  gst_bin_add (bin, v->webrtc);
  g_object_set (v->queue, "leaky", 2, "max-size-buffers", 30,
      "max-size-bytes", 0, "max-size-time", (guint64) 0, NULL);
  g_object_set (v->pay, "config-interval", -1, "aggregate-mode", 1, NULL);
  g_object_set (v->filter, "caps", caps, NULL);
  gst_element_link_many (v->queue, v->pay, v->filter, NULL);
  webrtc_sink = gst_element_request_pad_simple (v->webrtc, "sink_%u");
  filter_src = gst_element_get_static_pad (v->filter, "src");
  if (!webrtc_sink || gst_pad_link (filter_src, webrtc_sink) != GST_PAD_LINK_OK) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
        "could not link the viewer's stream");
    return FALSE;
  }
  gst_element_sync_state_with_parent (v->webrtc);
  gst_element_sync_state_with_parent (v->filter);
  gst_element_sync_state_with_parent (v->pay);
  gst_element_sync_state_with_parent (v->queue);
  v->tee_pad = gst_element_request_pad_simple (media->tee, "src_%u");
  queue_sink = gst_element_get_static_pad (v->queue, "sink");
  /* on the queue, before linking: tee asks each branch's peer directly */
  gst_pad_add_probe (queue_sink, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM,
      on_branch_query, NULL, NULL);
  gst_pad_add_probe (v->tee_pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
      on_viewer_upstream, g_strdup (v->id), g_free);
  gst_pad_link (v->tee_pad, queue_sink);
  return TRUE;
}

/* The payload type the viewer asked for, with only what a pad needs. */
static GstCaps *
viewer_caps (gint payload)
{
  return gst_caps_new_simple ("application/x-rtp",
      "media", G_TYPE_STRING, "video", "encoding-name", G_TYPE_STRING, "H264",
      "clock-rate", G_TYPE_INT, 90000, "payload", G_TYPE_INT, payload, NULL);
}

/* A viewer in the hash table, its chain linked to the tee; NULL (and the
 * viewer removed) on failure. */
static Viewer *
viewer_new (DrtcGatewayMedia * media, const gchar * viewer_id, gint payload,
    GError ** error)
{
  Viewer *v = g_new0 (Viewer, 1);
  g_autoptr (GstCaps) caps = viewer_caps (payload);
  g_autofree gchar *name = g_strdup_printf ("whep-%s", viewer_id);

  v->id = g_strdup (viewer_id);
  /* until answered: the gathering, then the time to connect */
  v->deadline_us =
      g_get_monotonic_time () +
      (gint64) G_USEC_PER_SEC *media->cfg.viewer_connect_timeout_s +
      media->cfg.gather_timeout_ms * (gint64) 1000;
  v->webrtc = drtc_webrtc_new (name, &media->cfg.webrtc);
  g_hash_table_insert (media->viewers, v->id, v);
  if (!v->webrtc) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "webrtcbin is missing");
    drtc_gateway_media_remove_viewer (media, viewer_id);
    return NULL;
  }
  g_object_set_data_full (G_OBJECT (v->webrtc), "drtc-viewer",
      g_strdup (viewer_id), g_free);
  g_signal_connect_data (v->webrtc, "notify::connection-state",
      G_CALLBACK (on_viewer_state), drtc_media_ref (media),
      drtc_media_closure_unref, 0);
  watch_viewer_rtcp (v);
  if (!link_viewer (media, v, caps, error)) {
    drtc_gateway_media_remove_viewer (media, viewer_id);
    return NULL;
  }
  return v;
}

/**
 * drtc_gateway_media_add_viewer:
 * @offer: (transfer full): the viewer's offer, H.264 only
 * @payload: the H.264 payload type in @offer
 */
void
drtc_gateway_media_add_viewer (DrtcGatewayMedia * media,
    const gchar * viewer_id, GstSDPMessage * offer, gint payload,
    DrtcAnswerFunc func, gpointer user_data)
{
  g_autoptr (GError) err = NULL;
  Viewer *v = viewer_new (media, viewer_id, payload, &err);
  Negotiation *n;

  if (!v) {
    gst_sdp_message_free (offer);
    func (NULL, err, user_data);
    return;
  }
  n = drtc_negotiation_new (media, v->webrtc, func, user_data);
  n->offer = offer;
  n->viewer_id = g_strdup (viewer_id);
  drtc_negotiate (n);
}

/* ---- viewers answering our offer (--whep-counter-offer) ---- */

/* RFC 6184: packetization-mode and profile-level-id identify an H.264
 * payload; webrtcbin leaves them out of an offer made before any caps
 * flowed, and peers that match on them (aiortc, werift) refuse it. The
 * encoder makes constrained baseline; level-asymmetry-allowed lets a
 * viewer decode it at its own level. */
#define DRTC_H264_FMTP "level-asymmetry-allowed=1;packetization-mode=1;" \
  "profile-level-id=42e01f"

static gboolean
media_has_fmtp (const GstSDPMedia * m, const gchar * pt)
{
  for (guint i = 0; i < gst_sdp_media_attributes_len (m); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (m, i);

    if (g_str_equal (a->key, "fmtp") && a->value
        && g_str_has_prefix (a->value, pt) && a->value[strlen (pt)] == ' ')
      return TRUE;
  }
  return FALSE;
}

static void
add_h264_fmtp (GstSDPMessage * sdp)
{
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    GstSDPMedia *m = (GstSDPMedia *) gst_sdp_message_get_media (sdp, i);

    for (guint j = 0; j < gst_sdp_media_attributes_len (m); j++) {
      const GstSDPAttribute *a = gst_sdp_media_get_attribute (m, j);
      g_auto (GStrv) parts = NULL;

      if (!g_str_equal (a->key, "rtpmap") || !a->value
          || !strstr (a->value, " H264/"))
        continue;
      parts = g_strsplit (a->value, " ", 2);
      if (!media_has_fmtp (m, parts[0])) {
        g_autofree gchar *fmtp = g_strdup_printf ("%s " DRTC_H264_FMTP,
            parts[0]);

        gst_sdp_media_add_attribute (m, "fmtp", fmtp);
      }
    }
  }
}

static void
on_viewer_offer_created (GstPromise * promise, gpointer data)
{
  Negotiation *n = data;
  g_autoptr (GError) err = NULL;
  GstWebRTCSessionDescription *offer;

  if (!drtc_negotiation_wanted (n)) {
    drtc_negotiation_fail (n, DRTC_GATEWAY_MEDIA_ERROR_SUPERSEDED,
        "viewer removed", NULL);
    return;
  }
  if (!(offer = drtc_promise_description (promise, "offer", &err))) {
    drtc_negotiation_fail (n, DRTC_GATEWAY_MEDIA_ERROR_FAILED,
        "could not create an offer", err);
    return;
  }
  add_h264_fmtp (offer->sdp);
  g_signal_emit_by_name (n->webrtc, "set-local-description", offer, NULL);
  gst_webrtc_session_description_free (offer);
  drtc_webrtc_when_gathered (n->webrtc, n->media->cfg.context,
      n->media->cfg.gather_timeout_ms, drtc_negotiation_on_gathered, n, NULL);
}

/**
 * drtc_gateway_media_offer_viewer:
 *
 * A new viewer for whom the gateway makes the offer (send-only H.264,
 * with every candidate): @func gets it, or an error. The viewer's answer
 * comes later, through drtc_gateway_media_viewer_answer().
 */
void
drtc_gateway_media_offer_viewer (DrtcGatewayMedia * media,
    const gchar * viewer_id, DrtcAnswerFunc func, gpointer user_data)
{
  g_autoptr (GError) err = NULL;
  Viewer *v = viewer_new (media, viewer_id, 102, &err);
  GArray *transceivers = NULL;
  GstPromise *promise;
  Negotiation *n;

  if (!v) {
    func (NULL, err, user_data);
    return;
  }
  g_signal_emit_by_name (v->webrtc, "get-transceivers", &transceivers);
  for (guint i = 0; transceivers && i < transceivers->len; i++)
    g_object_set (g_array_index (transceivers, GstWebRTCRTPTransceiver *, i),
        "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, NULL);
  g_clear_pointer (&transceivers, g_array_unref);
  n = drtc_negotiation_new (media, v->webrtc, func, user_data);
  n->viewer_id = g_strdup (viewer_id);
  promise = drtc_promise_new (media->cfg.context, on_viewer_offer_created, n,
      NULL);
  g_signal_emit_by_name (v->webrtc, "create-offer", NULL, promise);
  gst_promise_unref (promise);
}

static void
on_viewer_answer_set (GstPromise * promise, gpointer data)
{
  Negotiation *n = data;
  g_autoptr (GError) err = NULL;

  if (!drtc_negotiation_wanted (n)) {
    drtc_negotiation_fail (n, DRTC_GATEWAY_MEDIA_ERROR_SUPERSEDED,
        "viewer removed", NULL);
    return;
  }
  if (!drtc_promise_reply (promise, NULL, &err)) {
    drtc_negotiation_fail (n, DRTC_GATEWAY_MEDIA_ERROR_OFFER,
        "the answer was not accepted", err);
    return;
  }
  n->func ("", NULL, n->user_data);
  drtc_negotiation_free (n);
}

/**
 * drtc_gateway_media_viewer_answer:
 * @answer: (transfer full): the viewer's answer to the gateway's offer
 *
 * @func gets "" once webrtcbin took the answer, or an error.
 */
void
drtc_gateway_media_viewer_answer (DrtcGatewayMedia * media,
    const gchar * viewer_id, GstSDPMessage * answer, DrtcAnswerFunc func,
    gpointer user_data)
{
  Viewer *v = g_hash_table_lookup (media->viewers, viewer_id);
  GstWebRTCSessionDescription *desc;
  GstPromise *promise;
  Negotiation *n;

  if (!v) {
    g_autoptr (GError) err = g_error_new (GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_NOT_FOUND, "no such viewer");

    gst_sdp_message_free (answer);
    func (NULL, err, user_data);
    return;
  }
  n = drtc_negotiation_new (media, v->webrtc, func, user_data);
  n->viewer_id = g_strdup (viewer_id);
  desc = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER,
      answer);
  promise = drtc_promise_new (media->cfg.context, on_viewer_answer_set, n,
      NULL);
  g_signal_emit_by_name (v->webrtc, "set-remote-description", desc, promise);
  gst_promise_unref (promise);
  gst_webrtc_session_description_free (desc);
}

/**
 * drtc_gateway_media_expire_viewers:
 * @timeout_us: how long a viewer may stay without RTCP
 *
 * Removes the connected viewers that said BYE or sent no RTCP for
 * @timeout_us, and the pending ones past their connect deadline.
 *
 * Returns: how many were removed
 */
guint
drtc_gateway_media_expire_viewers (DrtcGatewayMedia * media, gint64 timeout_us)
{
  gint64 now = g_get_monotonic_time ();
  g_autoptr (GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, media->viewers);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    Viewer *v = value;
    gint64 idle;

    if (!v->connected) {
      if (now > v->deadline_us) {
        g_message ("viewer %s left (never connected)", v->id);
        g_ptr_array_add (gone, g_strdup (v->id));
      }
      continue;
    }
    if (!v->life)
      continue;
    idle = now - __atomic_load_n (&v->life->last_us, __ATOMIC_RELAXED);
    if (g_atomic_int_get (&v->life->bye) || idle > timeout_us) {
      g_message ("viewer %s left (%s)", v->id,
          g_atomic_int_get (&v->life->bye) ? "RTCP BYE" : "no RTCP");
      g_ptr_array_add (gone, g_strdup (v->id));
    }
  }
  for (guint i = 0; i < gone->len; i++)
    drtc_gateway_media_remove_viewer (media, g_ptr_array_index (gone, i));
  return gone->len;
}

typedef struct
{
  GstElement *egress;
  GstElement *elements[4];
} Removal;

static gpointer
remove_elements (gpointer data)
{
  Removal *r = data;

  for (guint i = 0; i < G_N_ELEMENTS (r->elements); i++) {
    if (!r->elements[i])
      continue;
    gst_element_set_state (r->elements[i], GST_STATE_NULL);
    gst_element_set_locked_state (r->elements[i], FALSE);
    gst_bin_remove (GST_BIN (r->egress), r->elements[i]);
    gst_object_unref (r->elements[i]);
  }
  gst_object_unref (r->egress);
  g_free (r);
  return NULL;
}

/**
 * drtc_gateway_media_remove_viewer:
 *
 * Unlinks the viewer from the tee at once; its elements stop on a worker.
 */
void
drtc_gateway_media_remove_viewer (DrtcGatewayMedia * media,
    const gchar * viewer_id)
{
  Viewer *v = g_hash_table_lookup (media->viewers, viewer_id);
  Removal *r;

  if (!v)
    return;
  g_hash_table_remove (media->viewers, viewer_id);
  if (v->tee_pad) {
    GstPad *peer = gst_pad_get_peer (v->tee_pad);

    if (peer) {
      gst_pad_unlink (v->tee_pad, peer);
      gst_object_unref (peer);
    }
    gst_element_release_request_pad (media->tee, v->tee_pad);
  }
  if (v->webrtc)
    g_signal_handlers_disconnect_by_data (v->webrtc, media);
  r = g_new0 (Removal, 1);
  r->egress = gst_object_ref (media->egress);
  r->elements[0] = v->queue ? gst_object_ref (v->queue) : NULL;
  r->elements[1] = v->pay ? gst_object_ref (v->pay) : NULL;
  r->elements[2] = v->filter ? gst_object_ref (v->filter) : NULL;
  /* a webrtcbin never added to the bin is floating: sink it to own it */
  r->elements[3] = v->webrtc ? gst_object_ref_sink (v->webrtc) : NULL;
  if (v->webrtc && !GST_ELEMENT_PARENT (v->webrtc)) {
    gst_element_set_state (v->webrtc, GST_STATE_NULL);
    gst_clear_object (&r->elements[3]);
  }
  /* out of the output's state changes: if the whole output stops while
   * the branch does, it must not bring the branch back up to PAUSED */
  for (guint i = 0; i < G_N_ELEMENTS (r->elements); i++)
    if (r->elements[i])
      gst_element_set_locked_state (r->elements[i], TRUE);
  drtc_teardown_run ("drtc-viewer-teardown", remove_elements, r);
  viewer_free (v);
}

/**
 * drtc_gateway_media_viewer_answered:
 *
 * The viewer got its answer (or the gateway's offer): from now on it has
 * the viewer connect timeout to connect.
 */
void
drtc_gateway_media_viewer_answered (DrtcGatewayMedia * media,
    const gchar * viewer_id)
{
  Viewer *v = g_hash_table_lookup (media->viewers, viewer_id);

  if (v && !v->connected)
    v->deadline_us =
        g_get_monotonic_time () +
        (gint64) G_USEC_PER_SEC *media->cfg.viewer_connect_timeout_s;
}

/* the viewers that connected: those that hold a viewer slot */
guint
drtc_gateway_media_n_viewers (DrtcGatewayMedia * media)
{
  return count_viewers (media, TRUE);
}

guint
drtc_gateway_media_n_pending_viewers (DrtcGatewayMedia * media)
{
  return count_viewers (media, FALSE);
}

/* Viewers go with the output as a whole: their branches stop with it. */
void
drtc_media_forget_viewers (DrtcGatewayMedia * media)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, media->viewers);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    Viewer *v = value;

    g_hash_table_iter_remove (&iter);
    if (v->webrtc)
      g_signal_handlers_disconnect_by_data (v->webrtc, media);
    viewer_free (v);
  }
}
