/* daydream-rtc: whipsink: WHIP signalling: offer, gathering, POST, answer (HTTP thread)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * create-offer -> set-local-description -> (gathering, bounded) -> POST
 * (drtc_negotiate_local () up to the POST)
 * -> 201: Location, ETag, Link headers, the answer applied. A retryable
 * failure goes to the reconnect policy (whipsink-reconnect.c).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whipsink-private.h"
#include "drtc-negotiate.h"
#include "drtc-sdp.h"
#include "drtc-webrtc.h"

#include <string.h>

#define MAX_REDIRECTS 10

#define GST_CAT_DEFAULT gst_daydream_whip_sink_debug

static void
on_set_remote (GstPromise * promise, gpointer data)
{
  GstDaydreamWhipSink *self = whip_session_get (data);
  g_autoptr (GError) err = NULL;

  if (!self)
    return;
  /* not replied at all: the session is being torn down, no error */
  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED) {
  } else if (!drtc_promise_reply (promise, NULL, &err)) {
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED,
        ("The WHIP endpoint's answer was not accepted"), ("%s", err->message));
    whip_fail (self, "answer not accepted");
  } else {
    whip_start_connect_deadline (self);
  }
  gst_object_unref (self);
}

static void
apply_link_headers (GstDaydreamWhipSink * self, SoupMessageHeaders * headers)
{
  g_autoptr (GPtrArray) servers = drtc_http_ice_servers_from_links (headers);

  if (servers->len == 0)
    return;
  GST_INFO_OBJECT (self, "%u ICE server(s) from Link headers, used from the "
      "next connection on", servers->len);
  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->link_servers, g_ptr_array_unref);
  self->link_servers = g_ptr_array_ref (servers);
  g_mutex_unlock (&self->lock);
}

static void
handle_created (GstDaydreamWhipSink * self, DrtcHttpResponse * response)
{
  g_autofree gchar *answer_text = NULL;
  g_autoptr (GError) err = NULL;
  SoupMessageHeaders *h = response->headers;
  const gchar *location = soup_message_headers_get_one (h, "Location");
  const gchar *etag = soup_message_headers_get_one (h, "ETag");
  const gchar *playback = soup_message_headers_get_one (h,
      "Livepeer-Playback-URL");
  const gchar *accept_patch = soup_message_headers_get_one (h, "Accept-Patch");
  g_autoptr (GstElement) webrtc = whip_current_webrtc (self);
  GstSDPMessage *sdp;
  GstWebRTCSessionDescription *desc;
  GstPromise *promise;
  gsize len = 0;
  const gchar *data = g_bytes_get_data (response->body, &len);

  answer_text = g_strndup (data ? data : "", len);
  sdp = drtc_sdp_parse (answer_text, &err);
  if (!sdp) {
    GST_ELEMENT_ERROR (self, RESOURCE, READ,
        ("The WHIP endpoint answered with no usable SDP"),
        ("%s", err->message));
    whip_fail (self, "bad answer");
    return;
  }
  whip_set_string (self, &self->resource_url,
      drtc_http_resolve (response->uri, location), "resource-url");
  whip_set_string (self, &self->etag, g_strdup (etag), NULL);
  if (playback)
    whip_set_string (self, &self->playback_url, g_strdup (playback),
        "playback-url");
  g_mutex_lock (&self->lock);
  /* auto trickles only where the server said it takes fragments; on
   * tries in any case (and warns when refused) */
  self->can_trickle = self->trickle == GST_DAYDREAM_WHIP_TRICKLE_ON
      || (accept_patch
      && strstr (accept_patch, "application/trickle-ice-sdpfrag"));
  if (self->use_link_headers) {
    g_mutex_unlock (&self->lock);
    apply_link_headers (self, h);
  } else {
    g_mutex_unlock (&self->lock);
  }
  desc = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  promise = drtc_promise_new (drtc_http_get_context (self->http),
      on_set_remote, whip_session_ref_new (self), whip_session_ref_free);
  g_signal_emit_by_name (webrtc, "set-remote-description", desc, promise);
  gst_promise_unref (promise);
  gst_webrtc_session_description_free (desc);
  self->posted = TRUE;
  whip_send_trickle (self, FALSE);
}

static void
on_post_response (DrtcHttpResponse * response, const GError * error,
    gpointer data)
{
  GstDaydreamWhipSink *self = whip_session_get (data);
  g_autofree gchar *excerpt = NULL;
  g_autofree gchar *reason = NULL;

  if (!self)
    return;
  if (!response) {
    reason = g_strdup_printf ("POST failed: %s", error->message);
    whip_schedule_reconnect (self, reason);
  } else if (response->status >= 200 && response->status < 300) {
    handle_created (self, response);
  } else if (response->status >= 500 || response->status == 408
      || response->status == 429) {
    reason = g_strdup_printf ("the WHIP endpoint answered %u",
        response->status);
    whip_schedule_reconnect (self, reason);
  } else {
    excerpt = drtc_http_body_excerpt (response->body, 200);
    if (response->status == 401 || response->status == 403)
      GST_ELEMENT_ERROR_WITH_DETAILS (self, RESOURCE, NOT_AUTHORIZED,
          ("The WHIP endpoint refused the credentials (HTTP %u)",
              response->status), ("%s", excerpt), ("http-status-code",
              G_TYPE_UINT, response->status, NULL));
    else
      GST_ELEMENT_ERROR_WITH_DETAILS (self, RESOURCE, WRITE,
          ("The WHIP endpoint rejected the offer (HTTP %u)",
              response->status), ("%s", excerpt), ("http-status-code",
              G_TYPE_UINT, response->status, NULL));
    whip_fail (self, "offer rejected");
  }
  gst_object_unref (self);
}

void
whip_post_offer (GstDaydreamWhipSink * self, GstElement * webrtc)
{
  g_autofree gchar *sdp = drtc_webrtc_local_sdp (webrtc);
  g_autofree gchar *url = whip_dup_locked (self, &self->endpoint);
  g_autofree gchar *token = whip_dup_locked (self, &self->auth_token);
  g_autofree gchar *host = drtc_http_redact_url (url);
  g_autoptr (GBytes) body = NULL;
  DrtcHttpRequest req = { 0 };
  gboolean trickle_all;
  gsize len;

  if (!sdp) {
    whip_schedule_reconnect (self, "no local description");
    return;
  }
  g_mutex_lock (&self->lock);
  trickle_all = self->trickle == GST_DAYDREAM_WHIP_TRICKLE_ON;
  g_mutex_unlock (&self->lock);
  if (trickle_all) {
    /* every candidate goes by PATCH, also those gathered already */
    g_autoptr (GstSDPMessage) msg = drtc_sdp_parse (sdp, NULL);

    if (msg) {
      drtc_sdp_strip_candidates (msg);
      g_free (sdp);
      sdp = gst_sdp_message_as_text (msg);
    }
  }
  if (!url || !*url) {
    /* daydreamcontrol sets the endpoint once its stream exists */
    self->waiting_endpoint = TRUE;
    whip_set_state (self, WHIP_STATE_CONNECTING, "waiting for whip-endpoint");
    return;
  }
  self->waiting_endpoint = FALSE;
  len = strlen (sdp);
  body = g_bytes_new_take (g_steal_pointer (&sdp), len);
  GST_DEBUG_OBJECT (self, "POST offer to %s", host);
  req.method = "POST";
  req.url = url;
  req.bearer = token;
  req.content_type = "application/sdp";
  req.body = body;
  g_mutex_lock (&self->lock);
  req.timeout_s = self->timeout;
  g_mutex_unlock (&self->lock);
  req.max_redirects = MAX_REDIRECTS;
  drtc_http_send (self->http, &req, on_post_response,
      whip_session_ref_new (self), whip_session_ref_free);
}

/* The offer is set: at once (trickle=on) or once gathered, it is POSTed;
 * a local description that is missing after all is retried there. */
static void
on_offer_ready (GstElement * webrtc, const gchar * sdp, gboolean complete,
    const GError * error, gpointer data)
{
  GstDaydreamWhipSink *self = whip_session_get (data);
  GstDaydreamWhipTrickle trickle;

  if (!self)
    return;
  g_mutex_lock (&self->lock);
  trickle = self->trickle;
  g_mutex_unlock (&self->lock);
  if (error && !g_error_matches (error, DRTC_NEGOTIATE_ERROR,
          DRTC_NEGOTIATE_ERROR_NO_SDP)) {
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED,
        ("webrtcbin could not create an offer"), ("%s", error->message));
    whip_fail (self, "no offer");
  } else {
    if (!complete && trickle != GST_DAYDREAM_WHIP_TRICKLE_ON)
      GST_INFO_OBJECT (self, "ICE gathering not complete after the timeout: "
          "sending the candidates found so far");
    whip_post_offer (self, webrtc);
  }
  gst_object_unref (self);
}

void
whip_start_session (GstDaydreamWhipSink * self)
{
  g_autoptr (GstElement) webrtc = whip_current_webrtc (self);
  DrtcNegotiateOptions opts = { GST_WEBRTC_SDP_TYPE_OFFER };

  if (!webrtc)
    return;
  whip_set_codec_preferences (self, webrtc);
  whip_set_state (self,
      self->reconnects ? WHIP_STATE_RECONNECTING : WHIP_STATE_CONNECTING,
      "sending the offer");
  self->posted = FALSE;
  self->can_trickle = FALSE;
  g_ptr_array_set_size (self->pending_candidates, 0);
  opts.context = drtc_http_get_context (self->http);
  g_mutex_lock (&self->lock);
  opts.gather_timeout_ms = MIN (self->timeout, 5) * 1000;
  opts.no_gathering = self->trickle == GST_DAYDREAM_WHIP_TRICKLE_ON;
  g_mutex_unlock (&self->lock);
  drtc_negotiate_local (webrtc, &opts, on_offer_ready,
      whip_session_ref_new (self), whip_session_ref_free);
}
