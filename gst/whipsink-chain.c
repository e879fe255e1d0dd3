/* daydream-rtc: whipsink: the encoder chain (built when the first caps arrive)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Raw video: [i420convert] ! videoconvert ! I420 ! encoder ! H.264
 * (constrained baseline); H.264 input as it is; then h264parse !
 * rtph264pay ! capsfilter, linked into the session's webrtcbin.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whipsink-private.h"
#ifdef HAVE_LIBYUV
#include "whipsink-i420.h"
#endif
#include "drtc-encoder.h"

#define RTP_PAYLOAD 96

#define GST_CAT_DEFAULT gst_daydream_whip_sink_debug

static GstElement *
add_element (GstDaydreamWhipSink * self, const gchar * factory)
{
  GstElement *e = gst_element_factory_make (factory, NULL);

  if (!e) {
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
        ("GStreamer element '%s' is missing", factory), (NULL));
    return NULL;
  }
  gst_bin_add (GST_BIN (self), e);
  return e;
}

static GstElement *
make_encoder (GstDaydreamWhipSink * self, GstStructure * s)
{
  DrtcEncoderSettings settings = { 30, 0, 0 };
  g_autofree gchar *factory = whip_dup_locked (self, &self->video_encoder);
  g_autoptr (GError) err = NULL;
  GstElement *encoder;
  gint n = 0, d = 1;

  if (gst_structure_get_fraction (s, "framerate", &n, &d) && n > 0 && d > 0)
    settings.fps = MAX ((n + d - 1) / d, 1);
  if (gst_structure_get_int (s, "width", &n) && n > 0)
    settings.width = n;
  if (gst_structure_get_int (s, "height", &n) && n > 0)
    settings.height = n;
  g_mutex_lock (&self->lock);
  settings.bitrate_kbps = self->bitrate;
  g_mutex_unlock (&self->lock);
  encoder = drtc_encoder_make (factory, &settings, &err);
  if (!encoder) {
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
        ("No usable H.264 encoder"), ("%s", err->message));
    return NULL;
  }
  GST_INFO_OBJECT (self, "encoding with %s at %u kbit/s, keyframe every "
      "%u frames", GST_OBJECT_NAME (gst_element_get_factory (encoder)),
      settings.bitrate_kbps, MAX (settings.fps / 2, 1));
  g_signal_emit_by_name (self, "encoder-setup", encoder);
  gst_bin_add (GST_BIN (self), encoder);
  gst_object_unref (encoder);   /* the bin's now */
  return encoder;
}

/* HTTP thread: after the end of the stream there is nothing to reconnect
 * for; the session stays until PAUSED->READY DELETEs it. */
static gboolean
on_end_of_stream (gpointer data)
{
  GstDaydreamWhipSink *self = g_weak_ref_get (data);

  if (!self)
    return G_SOURCE_REMOVE;
  self->stopping = TRUE;
  whip_stop_timers (self);
  gst_object_unref (self);
  return G_SOURCE_REMOVE;
}

/* webrtcbin never posts EOS: once the encoder has drained, the bin does,
 * so that pipelines (and gst-launch -e) end. */
static GstPadProbeReturn
on_chain_end_event (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstDaydreamWhipSink *self = data;
  GWeakRef *ref;

  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) != GST_EVENT_EOS)
    return GST_PAD_PROBE_OK;
  GST_INFO_OBJECT (self, "end of stream");
  ref = whip_weak_ref_new (self);
  drtc_http_invoke (self->http, on_end_of_stream, ref, whip_weak_ref_free);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_eos (GST_OBJECT (self)));
  return GST_PAD_PROBE_DROP;
}

/* webrtcbin holds back media until the session is up: its sink pads block
 * until an answer is applied, and its transport until DTLS is done. A
 * buffer pushed into a session that never connects would hold the
 * streaming thread for good, and with it the idle probe that swaps in the
 * next session. So media reaches a session only once it is connected;
 * until then it is dropped here (events pass: the caps make the offer). */
static GstPadProbeReturn
on_chain_output (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstDaydreamWhipSink *self = data;

  if (g_atomic_int_get (&self->media_open))
    return GST_PAD_PROBE_OK;
  return GST_PAD_PROBE_DROP;
}

static GstPadProbeReturn
on_encoded_frame (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstDaydreamWhipSink *self = data;

  g_mutex_lock (&self->lock);
  self->frames++;
  g_mutex_unlock (&self->lock);
  return GST_PAD_PROBE_OK;
}

/* Raw video: [i420convert !] videoconvert ! I420 ! encoder ! H.264, linked;
 * returns the first element, and the last in @last. */
static GstElement *
add_encoder_front (GstDaydreamWhipSink * self, GstStructure * s,
    GstElement ** last)
{
  GstElement *convert, *raw_filter, *enc_filter;
  g_autoptr (GstCaps) i420 = gst_caps_from_string ("video/x-raw,format=I420");
  g_autoptr (GstCaps) h264 = gst_caps_from_string ("video/x-h264,"
      "stream-format=byte-stream,alignment=au,"
      "profile=(string){constrained-baseline,baseline}");

  if (!(convert = add_element (self, "videoconvert"))
      || !(raw_filter = add_element (self, "capsfilter"))
      || !(self->encoder = make_encoder (self, s))
      || !(enc_filter = add_element (self, "capsfilter")))
    return NULL;
  g_object_set (raw_filter, "caps", i420, NULL);
  g_object_set (enc_filter, "caps", h264, NULL);
  if (!gst_element_link_many (convert, raw_filter, self->encoder, enc_filter,
          NULL))
    return NULL;
  *last = enc_filter;
#ifdef HAVE_LIBYUV
  {
    /* packed RGB becomes I420 here, 20x faster than in videoconvert, which
     * then passes it through (and still converts any other format) */
    GstElement *fast_convert = g_object_new (DRTC_TYPE_I420_CONVERT, NULL);

    gst_bin_add (GST_BIN (self), fast_convert);
    if (!gst_element_link (fast_convert, convert))
      return NULL;
    return fast_convert;
  }
#endif
  return convert;
}

/* h264parse ! rtph264pay ! capsfilter, linked, with the probes on the
 * payloader's input and the chain's end; returns h264parse. */
static GstElement *
add_payloader (GstDaydreamWhipSink * self)
{
  GstElement *parse, *pay, *rtp_filter;
  g_autoptr (GstCaps) rtp = gst_caps_new_simple ("application/x-rtp",
      "media", G_TYPE_STRING, "video", "encoding-name", G_TYPE_STRING, "H264",
      "payload", G_TYPE_INT, RTP_PAYLOAD, "clock-rate", G_TYPE_INT, 90000,
      NULL);
  g_autoptr (GstPad) end = NULL;
  g_autoptr (GstPad) probe_pad = NULL;

  if (!(parse = add_element (self, "h264parse"))
      || !(pay = add_element (self, "rtph264pay"))
      || !(rtp_filter = add_element (self, "capsfilter")))
    return NULL;
  g_object_set (parse, "config-interval", -1, NULL);
  g_object_set (pay, "config-interval", -1, "aggregate-mode", 1 /* zero
                                                                   latency */ ,
      "pt", RTP_PAYLOAD, NULL);
  g_object_set (rtp_filter, "caps", rtp, NULL);
  if (!gst_element_link_many (parse, pay, rtp_filter, NULL))
    return NULL;
  self->chain_end = rtp_filter;
  end = gst_element_get_static_pad (rtp_filter, "src");
  gst_pad_add_probe (end, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      on_chain_end_event, self, NULL);
  gst_pad_add_probe (end, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, on_chain_output, self, NULL);
  probe_pad = gst_element_get_static_pad (pay, "sink");
  gst_pad_add_probe (probe_pad, GST_PAD_PROBE_TYPE_BUFFER, on_encoded_frame,
      self, NULL);
  return parse;
}

/* Streaming thread, first caps: raw video is converted and encoded, H.264
 * is parsed; then payloaded and linked into the session's webrtcbin. */
static gboolean
build_chain (GstDaydreamWhipSink * self, GstCaps * caps)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);
  GstElement *first = NULL, *enc_end = NULL, *parse;
  g_autoptr (GstElement) webrtc = NULL;

  if (gst_structure_has_name (s, "video/x-raw")
      && !(first = add_encoder_front (self, s, &enc_end)))
    return FALSE;
  if (!(parse = add_payloader (self)))
    return FALSE;
  if (enc_end && !gst_element_link (enc_end, parse))
    return FALSE;
  if (!first)
    first = parse;
  webrtc = whip_current_webrtc (self);
  if (!webrtc || !whip_link_to_webrtc (self, webrtc)) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Could not link the encoded stream to webrtcbin"), (NULL));
    return FALSE;
  }
  for (GstElement * e = self->chain_end;;) {
    g_autoptr (GstPad) sink = gst_element_get_static_pad (e, "sink");
    g_autoptr (GstPad) peer = NULL;

    gst_element_sync_state_with_parent (e);
    if (e == first)
      break;
    peer = gst_pad_get_peer (sink);
    e = GST_ELEMENT (GST_OBJECT_PARENT (peer));
  }
  return gst_element_link (self->input, first);
}

GstPadProbeReturn
whip_chain_on_input_event (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstDaydreamWhipSink *self = data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  GstCaps *caps;

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && !self->chain_end) {
    /* nothing was ever sent: the stream ends here */
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_eos (GST_OBJECT (self)));
    return GST_PAD_PROBE_DROP;
  }
  if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  gst_event_parse_caps (event, &caps);
  if (self->chain_end)
    return GST_PAD_PROBE_OK;    /* renegotiation: the chain adapts */
  if (!build_chain (self, caps))
    return GST_PAD_PROBE_DROP;
  return GST_PAD_PROBE_OK;
}
