/* daydream-rtc gateway: references, teardowns and negotiation of the media
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by the output and publisher side (drtc-gateway-media.c) and the
 * viewers (drtc-gateway-viewers.c). Negotiations run on cfg->context:
 * webrtcbin's promises are handed over there by drtc_promise_new.
 */
#include "drtc-gateway-media-private.h"

/* ---- small helpers ---- */

gpointer
drtc_media_set_null_and_unref (gpointer data)
{
  GstElement *element = data;

  gst_element_set_state (element, GST_STATE_NULL);
  gst_object_unref (element);
  return NULL;
}

/* Every callback from a streaming or webrtcbin thread holds a reference:
 * the media's memory outlives the pipelines' threads. */
DrtcGatewayMedia *
drtc_media_ref (DrtcGatewayMedia * media)
{
  return g_atomic_rc_box_acquire (media);
}

static void
media_clear (gpointer data)
{
  DrtcGatewayMedia *media = data;

  gst_clear_object (&media->appsrc);
  gst_clear_object (&media->tee);
  g_main_context_unref (media->cfg.context);
}

void
drtc_media_unref (gpointer media)
{
  g_atomic_rc_box_release_full (media, media_clear);
}

void
drtc_media_closure_unref (gpointer media, GClosure * closure)
{
  drtc_media_unref (media);
}

GstElement *
drtc_media_add (GstBin * bin, const gchar * factory, const gchar * name,
    GError ** error)
{
  GstElement *e = gst_element_factory_make (factory, name);

  if (!e) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "GStreamer element '%s' is missing", factory);
    return NULL;
  }
  gst_bin_add (bin, e);
  return e;
}

/* @data: (transfer full): released with @destroy */
GSource *
drtc_media_watch_bus (GstElement * pipeline, GMainContext * context,
    GstBusFunc func, gpointer data, GDestroyNotify destroy)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  GSource *source = gst_bus_create_watch (bus);

  g_source_set_callback (source, (GSourceFunc) (void (*)(void)) func,
      data, destroy);
  g_source_attach (source, context);
  return source;
}

void
drtc_media_unwatch (GSource ** source)
{
  if (*source) {
    g_source_destroy (*source);
    g_source_unref (*source);
    *source = NULL;
  }
}

MediaCall *
drtc_media_call_new (DrtcGatewayMedia * media, guint gen, const gchar * text)
{
  MediaCall *call = g_new0 (MediaCall, 1);

  call->media = drtc_media_ref (media);
  call->gen = gen;
  call->text = g_strdup (text);
  return call;
}

void
drtc_media_call_free (gpointer data)
{
  MediaCall *call = data;

  drtc_media_unref (call->media);
  g_free (call->text);
  g_free (call);
}

/* *INDENT-OFF* */
G_DEFINE_QUARK (drtc-gateway-media-error-quark, drtc_gateway_media_error);
/* *INDENT-ON* */

/* ---- negotiation (shared by publisher and viewers) ---- */



/* @func gets the result (then the negotiation is freed) */
Negotiation *
drtc_negotiation_new (DrtcGatewayMedia * media, GstElement * webrtc,
    DrtcAnswerFunc func, gpointer user_data)
{
  Negotiation *n = g_new0 (Negotiation, 1);

  n->media = drtc_media_ref (media);
  n->webrtc = gst_object_ref (webrtc);
  n->func = func;
  n->user_data = user_data;
  return n;
}

void
drtc_negotiation_free (Negotiation * n)
{
  if (n->offer)
    gst_sdp_message_free (n->offer);
  gst_object_unref (n->webrtc);
  if (n->session)
    n->session_free (n->session);
  drtc_media_unref (n->media);
  g_free (n->viewer_id);
  g_free (n);
}

gboolean
drtc_negotiation_wanted (Negotiation * n)
{
  if (n->media->closed)
    return FALSE;
  if (n->viewer_id)
    return g_hash_table_contains (n->media->viewers, n->viewer_id);
  return n->publisher_gen == n->media->publish_serial;
}

void
drtc_negotiation_fail (Negotiation * n, DrtcGatewayMediaError code,
    const gchar * what, const GError * cause)
{
  g_autoptr (GError) err = g_error_new (DRTC_GATEWAY_MEDIA_ERROR, code,
      "%s%s%s", what, cause ? ": " : "", cause ? cause->message : "");

  g_message ("negotiation failed: %s", err->message);
  n->func (NULL, err, n->user_data);
  drtc_negotiation_free (n);
}

void
drtc_negotiation_on_gathered (GstElement * webrtc, gboolean complete,
    gpointer data)
{
  Negotiation *n = data;
  g_autofree gchar *sdp = NULL;

  if (!drtc_negotiation_wanted (n)) {
    drtc_negotiation_fail (n, DRTC_GATEWAY_MEDIA_ERROR_SUPERSEDED,
        "session replaced or closed", NULL);
    return;
  }
  if (!complete)
    g_message ("ICE gathering still running after %u ms: answering with "
        "the candidates found so far", n->media->cfg.gather_timeout_ms);
  sdp = drtc_webrtc_local_sdp (webrtc);
  if (!sdp) {
    drtc_negotiation_fail (n, DRTC_GATEWAY_MEDIA_ERROR_FAILED,
        "no local description", NULL);
    return;
  }
  /* a new publisher's offer is answered: now it replaces the current */
  if (n->session)
    n->session_won (n->media, g_steal_pointer (&n->session));
  n->func (sdp, NULL, n->user_data);
  drtc_negotiation_free (n);
}

static void
on_answer_created (GstPromise * promise, gpointer data)
{
  Negotiation *n = data;
  g_autoptr (GError) err = NULL;
  GstWebRTCSessionDescription *answer;

  if (!drtc_negotiation_wanted (n)) {
    drtc_negotiation_fail (n, DRTC_GATEWAY_MEDIA_ERROR_SUPERSEDED,
        "session replaced or closed", NULL);
    return;
  }
  if (!(answer = drtc_promise_description (promise, "answer", &err))) {
    drtc_negotiation_fail (n, DRTC_GATEWAY_MEDIA_ERROR_OFFER,
        "could not create an answer", err);
    return;
  }
  g_signal_emit_by_name (n->webrtc, "set-local-description", answer, NULL);
  gst_webrtc_session_description_free (answer);
  /* Daydream's gateway and most WHIP clients do not trickle: answer with
   * every candidate, after gathering (bounded) */
  drtc_webrtc_when_gathered (n->webrtc, n->media->cfg.context,
      n->media->cfg.gather_timeout_ms, drtc_negotiation_on_gathered, n, NULL);
}

static void
on_remote_set (GstPromise * promise, gpointer data)
{
  Negotiation *n = data;
  g_autoptr (GError) err = NULL;
  GstPromise *next;

  if (!drtc_negotiation_wanted (n)) {
    drtc_negotiation_fail (n, DRTC_GATEWAY_MEDIA_ERROR_SUPERSEDED,
        "session replaced or closed", NULL);
    return;
  }
  if (!drtc_promise_reply (promise, NULL, &err)) {
    drtc_negotiation_fail (n, DRTC_GATEWAY_MEDIA_ERROR_OFFER,
        "the offer was not accepted", err);
    return;
  }
  next = drtc_promise_new (n->media->cfg.context, on_answer_created, n, NULL);
  g_signal_emit_by_name (n->webrtc, "create-answer", NULL, next);
  gst_promise_unref (next);
}

void
drtc_negotiate (Negotiation * n)
{
  GstWebRTCSessionDescription *desc =
      gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER,
      g_steal_pointer (&n->offer));
  GstPromise *promise = drtc_promise_new (n->media->cfg.context,
      on_remote_set, n, NULL);

  g_signal_emit_by_name (n->webrtc, "set-remote-description", desc, promise);
  gst_promise_unref (promise);
  gst_webrtc_session_description_free (desc);
}
