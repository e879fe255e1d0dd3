/* daydream-rtc: whipsink: linking the stream into a session's webrtcbin
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each session is one webrtcbin; the end of the encoder chain is linked to
 * a new sink pad of it. Once that pad has caps that name the profile, the
 * offer can be made: the element's on_caps_ready hook (whipsink-signalling.c)
 * is called on the HTTP thread.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whipsink-private.h"

#define GST_CAT_DEFAULT gst_daydream_whip_sink_debug

static gboolean
on_webrtc_caps_cb (gpointer data)
{
  GstDaydreamWhipSink *self = whip_session_get (data);

  if (self) {
    self->on_caps_ready (self);
    gst_object_unref (self);
  }
  return G_SOURCE_REMOVE;
}

/* webrtcbin's sink pad got caps: now it can make an offer */
static GstPadProbeReturn
on_webrtc_sink_event (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  GstDaydreamWhipSink *self = g_weak_ref_get (data);

  if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS || !self) {
    g_clear_object (&self);
    return GST_PAD_PROBE_OK;
  }
  /* the payloader's first caps may come before it has seen the SPS; an
   * offer without profile-level-id is refused by some answerers (aiortc) */
  {
    GstCaps *caps;

    gst_event_parse_caps (event, &caps);
    if (!gst_structure_has_field (gst_caps_get_structure (caps, 0),
            "profile-level-id")) {
      gst_object_unref (self);
      return GST_PAD_PROBE_OK;
    }
    /* this probe runs before webrtcbin has seen the caps: the offer takes
     * them from the transceiver's codec-preferences instead (whip_start_session) */
    g_mutex_lock (&self->lock);
    gst_caps_replace (&self->rtp_caps, caps);
    g_mutex_unlock (&self->lock);
  }
  drtc_http_invoke (self->http, on_webrtc_caps_cb, whip_session_ref_new (self),
      whip_session_ref_free);
  gst_object_unref (self);
  return GST_PAD_PROBE_REMOVE;
}

static gboolean
keep_field (GQuark field, GValue * value, gpointer data)
{
  return g_strv_contains (data, g_quark_to_string (field));
}

/* Links the end of the input chain to a new sink pad of @webrtc. */
gboolean
whip_link_to_webrtc (GstDaydreamWhipSink * self, GstElement * webrtc)
{
  g_autoptr (GstPad) src = gst_element_get_static_pad (self->chain_end, "src");
  g_autoptr (GstPad) sink = gst_element_request_pad_simple (webrtc, "sink_%u");
  GstWebRTCRTPTransceiver *trans = NULL;
  GWeakRef *ref;

  if (!sink)
    return FALSE;
  g_object_get (sink, "transceiver", &trans, NULL);
  if (trans) {
    g_object_set (trans, "direction",
        GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, NULL);
    gst_object_unref (trans);
  }
  ref = whip_weak_ref_new (self);
  gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      on_webrtc_sink_event, ref, whip_weak_ref_free);
  return gst_pad_link (src, sink) == GST_PAD_LINK_OK;
}

/* The offer names exactly what the payloader sends (profile-level-id,
 * packetization-mode): webrtcbin alone would only know it once the caps
 * event has reached it, which races with the offer. */
void
whip_set_codec_preferences (GstDaydreamWhipSink * self, GstElement * webrtc)
{
  static const gchar *const keep[] = { "media", "encoding-name", "payload",
    "clock-rate", "packetization-mode", "profile-level-id",
    "level-asymmetry-allowed", NULL
  };
  GstWebRTCRTPTransceiver *trans = NULL;
  GstCaps *prefs = NULL;

  g_mutex_lock (&self->lock);
  if (self->rtp_caps)
    prefs = gst_caps_copy (self->rtp_caps);
  g_mutex_unlock (&self->lock);
  if (!prefs)
    return;
  gst_structure_filter_and_map_in_place (gst_caps_get_structure (prefs, 0),
      keep_field, (gpointer) keep);
  g_signal_emit_by_name (webrtc, "get-transceiver", 0, &trans);
  if (trans) {
    g_object_set (trans, "codec-preferences", prefs, NULL);
    gst_object_unref (trans);
  }
  gst_caps_unref (prefs);
}
