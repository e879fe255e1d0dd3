/* daydream-rtc: whepsrc media: codecs offered and the receive chains
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each stream webrtcbin exposes gets its own chain, built on the streaming
 * thread that adds the pad (as decodebin does):
 *
 *   H.264  rtph264depay ! h264parse [! avdec_h264 (slice threads) | openh264dec]
 *   VP8    rtpvp8depay [! vp8dec]
 *   Opus   rtpopusdepay [! opusdec]
 *
 * The last pad of the video chain becomes the target of the element's
 * always "src" ghost pad (audio: the "audio" pad, added on first use), so a
 * pipeline links at launch and a reconnect only retargets. Probes count
 * what comes in and out for the stall watchdog and the stats; the EOS of a
 * session going away is dropped, since the element reconnects.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whepsrc-private.h"

#include <gst/video/video.h>

#define GST_CAT_DEFAULT gst_daydream_whep_src_debug

#define MAX_CHAIN 4

struct _WhepChain
{
  GstElement *elements[MAX_CHAIN];      /* in the bin, first to last */
  guint n;
  GstPad *webrtc_pad;           /* webrtcbin's pad feeding the chain */
  GstPad *out;                  /* last src pad: a ghost pad's target */
  gboolean audio;
  gboolean encoded;             /* decode=false: out is the parser's */
  gboolean wait_timed;          /* dropping up to the next timed keyframe */
};

typedef struct
{
  const gchar *caps_name;       /* what video-caps/audio-caps name */
  const gchar *encoding;        /* RTP encoding-name */
  const gchar *media;
  gint payload;
  gint clock_rate;
  const gchar *depay;
  const gchar *decoders[3];
} Codec;

/* Payload types from 102 up: webrtcbin gives RTX the free ones from 96. */
static const Codec codecs[] = {
  {"video/x-h264", "H264", "video", 102, 90000, "rtph264depay",
      {"avdec_h264", "openh264dec", NULL}},
  {"video/x-vp8", "VP8", "video", 103, 90000, "rtpvp8depay",
      {"vp8dec", NULL}},
  {"audio/x-opus", "OPUS", "audio", 111, 48000, "rtpopusdepay",
      {"opusdec", NULL}},
};

static const Codec *
codec_by_encoding (const gchar * encoding)
{
  for (guint i = 0; encoding && i < G_N_ELEMENTS (codecs); i++)
    if (g_ascii_strcasecmp (codecs[i].encoding, encoding) == 0)
      return &codecs[i];
  return NULL;
}

static gboolean
have_factory (const gchar * name)
{
  g_autoptr (GstElementFactory) f = gst_element_factory_find (name);

  return f != NULL;
}

static const gchar *
first_decoder (const Codec * c)
{
  for (guint i = 0; c->decoders[i]; i++)
    if (have_factory (c->decoders[i]))
      return c->decoders[i];
  return NULL;
}

static GstStructure *
rtp_structure (const Codec * c)
{
  GstStructure *s = gst_structure_new ("application/x-rtp",
      "media", G_TYPE_STRING, c->media,
      "encoding-name", G_TYPE_STRING, c->encoding,
      "payload", G_TYPE_INT, c->payload,
      "clock-rate", G_TYPE_INT, c->clock_rate, NULL);

  if (g_str_equal (c->encoding, "H264"))
    /* constrained baseline, what Daydream and every browser send */
    gst_structure_set (s, "packetization-mode", G_TYPE_STRING, "1",
        "profile-level-id", G_TYPE_STRING, "42e01f",
        "level-asymmetry-allowed", G_TYPE_STRING, "1", NULL);
  if (g_str_equal (c->encoding, "OPUS"))
    gst_structure_set (s, "encoding-params", G_TYPE_STRING, "2", NULL);
  if (g_str_equal (c->media, "video"))
    gst_structure_set (s, "rtcp-fb-nack", G_TYPE_BOOLEAN, TRUE,
        "rtcp-fb-nack-pli", G_TYPE_BOOLEAN, TRUE,
        "rtcp-fb-ccm-fir", G_TYPE_BOOLEAN, TRUE, NULL);
  return s;
}

/**
 * whep_chain_rtp_caps:
 * @caps: video-caps or audio-caps ("video/x-h264; video/x-vp8")
 * @media: "video" or "audio"
 * @missing: (out) (optional): names of elements that are not installed
 *
 * Returns: (transfer full): the codec preferences for webrtcbin's
 *   transceiver, in the order of @caps, only codecs this machine can
 *   depayload (and decode, with @decode); maybe empty
 */
GstCaps *
whep_chain_rtp_caps (const GstCaps * caps, const gchar * media,
    gboolean decode, gchar ** missing)
{
  GstCaps *out = gst_caps_new_empty ();
  GString *absent = g_string_new (NULL);

  for (guint i = 0; caps && i < gst_caps_get_size (caps); i++) {
    const gchar *name = gst_structure_get_name (gst_caps_get_structure (caps,
            i));
    const Codec *c = NULL;

    for (guint k = 0; k < G_N_ELEMENTS (codecs); k++)
      if (g_str_equal (codecs[k].caps_name, name)
          && g_str_equal (codecs[k].media, media))
        c = &codecs[k];
    if (!c) {
      GST_WARNING ("whepsrc cannot receive '%s': ignored", name);
      continue;
    }
    if (whep_chain_rtp_caps_has (out, c->encoding))
      continue;
    if (!have_factory (c->depay)) {
      g_string_append_printf (absent, "%s%s", absent->len ? ", " : "",
          c->depay);
      continue;
    }
    if (decode && !first_decoder (c)) {
      g_string_append_printf (absent, "%s%s", absent->len ? ", " : "",
          c->decoders[0]);
      continue;
    }
    gst_caps_append_structure (out, rtp_structure (c));
  }
  if (missing)
    *missing = g_string_free (absent, absent->len == 0);
  else
    g_string_free (absent, TRUE);
  return out;
}

gboolean
whep_chain_rtp_caps_has (const GstCaps * rtp_caps, const gchar * encoding)
{
  for (guint i = 0; rtp_caps && i < gst_caps_get_size (rtp_caps); i++) {
    const gchar *enc = gst_structure_get_string (gst_caps_get_structure
        (rtp_caps, i), "encoding-name");

    if (enc && g_ascii_strcasecmp (enc, encoding) == 0)
      return TRUE;
  }
  return FALSE;
}

/* Chains are built for @webrtc only, from now on. */
void
whep_chain_attach (GstDaydreamWhepSrc * self, GstElement * webrtc)
{
  g_mutex_lock (&self->chain_lock);
  self->current_webrtc = webrtc;
  g_mutex_unlock (&self->chain_lock);
}

static void
chain_free (WhepChain * chain)
{
  for (guint i = 0; i < chain->n; i++)
    gst_object_unref (chain->elements[i]);
  gst_clear_object (&chain->webrtc_pad);
  gst_clear_object (&chain->out);
  g_free (chain);
}

/* ---- probes (streaming threads: counters only) ---- */

static GstPadProbeReturn
on_chain_input (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstDaydreamWhepSrc *self = data;
  gsize size = 0;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    size = gst_buffer_get_size (GST_PAD_PROBE_INFO_BUFFER (info));
  else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
    size = gst_buffer_list_calculate_size (GST_PAD_PROBE_INFO_BUFFER_LIST
        (info));
  __atomic_fetch_add (&self->bytes_in, size, __ATOMIC_RELAXED);
  __atomic_store_n (&self->last_in_us, g_get_monotonic_time (),
      __ATOMIC_RELAXED);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
on_chain_output (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstDaydreamWhepSrc *self = data;

  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    /* a session ending is not the end of the stream: we reconnect; an
     * EOS sent to the element is (whepsrc-eos.c) */
    if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS
        && !whep_src_has_ended (self))
      return GST_PAD_PROBE_DROP;
    return GST_PAD_PROBE_OK;
  }
  __atomic_fetch_add (&self->frames_out, 1, __ATOMIC_RELAXED);
  __atomic_store_n (&self->last_out_us, g_get_monotonic_time (),
      __ATOMIC_RELAXED);
  return GST_PAD_PROBE_OK;
}

/* decode=false: a muxer downstream needs a PTS on every buffer (mp4mux
 * errors on the first without one). The parser passes on what the
 * depayloader gives it, and that is untimed while webrtcbin's jitterbuffer
 * has no running time for a packet yet (a session that starts while the
 * pipeline is still getting its clock, slow machines). Those are dropped,
 * and with them everything up to the next keyframe with a PTS, so that
 * what leaves is decodable; each drop is logged. */
static gboolean
keep_timed (WhepChain * chain, GstBuffer * buf)
{
  if (!GST_BUFFER_PTS_IS_VALID (buf)) {
    GST_DEBUG ("untimed buffer of %" G_GSIZE_FORMAT " bytes (dts %"
        GST_TIME_FORMAT ", flags 0x%x) dropped", gst_buffer_get_size (buf),
        GST_TIME_ARGS (GST_BUFFER_DTS (buf)), GST_BUFFER_FLAGS (buf));
    chain->wait_timed = TRUE;
    return FALSE;
  }
  if (chain->wait_timed
      && GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT)
      && !GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_HEADER))
    return FALSE;
  chain->wait_timed = FALSE;
  return TRUE;
}

static gboolean
keep_timed_in_list (GstBuffer ** buf, guint idx, gpointer data)
{
  if (!keep_timed (data, *buf))
    gst_clear_buffer (buf);
  return TRUE;
}

static GstPadProbeReturn
on_encoded_output (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  WhepChain *chain = data;
  GstBufferList *list;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    return keep_timed (chain, GST_PAD_PROBE_INFO_BUFFER (info)) ?
        GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
  list = gst_buffer_list_make_writable (GST_PAD_PROBE_INFO_BUFFER_LIST (info));
  GST_PAD_PROBE_INFO_DATA (info) = list;
  gst_buffer_list_foreach (list, keep_timed_in_list, chain);
  return gst_buffer_list_length (list) ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

/* ---- building ---- */

static gboolean
chain_add (WhepChain * chain, const gchar * factory, GstElement ** out)
{
  GstElement *e = gst_element_factory_make (factory, NULL);

  if (!e || chain->n == MAX_CHAIN) {
    g_clear_pointer (&e, gst_object_unref);
    return FALSE;
  }
  chain->elements[chain->n++] = gst_object_ref_sink (e);
  if (out)
    *out = e;
  return TRUE;
}

static void
set_if_exists (GstElement * e, const gchar * prop, const gchar * value)
{
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (e), prop))
    gst_util_set_object_arg (G_OBJECT (e), prop, value);
}

/* The elements for one stream, not yet in the bin. An encoding we do not
 * handle gets a fakesink, so webrtcbin never sees not-linked. */
static WhepChain *
chain_make (const gchar * encoding, gboolean decode, gboolean wanted)
{
  const Codec *c = codec_by_encoding (encoding);
  WhepChain *chain = g_new0 (WhepChain, 1);
  GstElement *e = NULL;
  const gchar *decoder;

  if (!c || !wanted) {
    if (!chain_add (chain, "fakesink", &e))
      goto missing;
    g_object_set (e, "sync", FALSE, "async", FALSE, NULL);
    return chain;
  }
  chain->audio = g_str_equal (c->media, "audio");
  if (!chain_add (chain, c->depay, &e))
    goto missing;
  /* ask the sender for a keyframe after a loss, and output none before */
  set_if_exists (e, "request-keyframe", "true");
  set_if_exists (e, "wait-for-keyframe", "true");
  if (g_str_equal (c->encoding, "H264")) {
    if (!chain_add (chain, "h264parse", &e))
      goto missing;
    if (!decode)
      g_object_set (e, "config-interval", -1, NULL);
  }
  if (!decode) {
    chain->encoded = chain->wait_timed = TRUE;
    return chain;
  }
  decoder = first_decoder (c);
  if (!decoder || !chain_add (chain, decoder, &e))
    goto missing;
  /* slice threads add no frame of delay, frame threads do */
  if (g_str_equal (decoder, "avdec_h264"))
    set_if_exists (e, "thread-type", "slice");
  return chain;

missing:
  chain_free (chain);
  return NULL;
}

/* The chain's elements go into the bin, linked, synced, target set.
 * chain_lock held. */
static gboolean
chain_install (GstDaydreamWhepSrc * self, WhepChain * chain, GstPad * pad,
    guint gen)
{
  GstBin *bin = GST_BIN (self);
  g_autoptr (GstPad) sink = NULL;

  for (guint i = 0; i < chain->n; i++) {
    g_object_set_data (G_OBJECT (chain->elements[i]), WHEP_GEN_KEY,
        GUINT_TO_POINTER (gen));
    gst_bin_add (bin, chain->elements[i]);
  }
  for (guint i = 1; i < chain->n; i++)
    if (!gst_element_link (chain->elements[i - 1], chain->elements[i]))
      return FALSE;
  for (guint i = chain->n; i > 0; i--)
    gst_element_sync_state_with_parent (chain->elements[i - 1]);
  sink = gst_element_get_static_pad (chain->elements[0], "sink");
  gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, on_chain_input, self, NULL);
  chain->out = gst_element_get_static_pad (chain->elements[chain->n - 1],
      "src");
  if (chain->out && chain->encoded)
    gst_pad_add_probe (chain->out, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_BUFFER_LIST, on_encoded_output, chain, NULL);
  if (chain->out)
    gst_pad_add_probe (chain->out, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_chain_output, self, NULL);
  chain->webrtc_pad = gst_object_ref (pad);
  return TRUE;
}

static GstPad *
ensure_audio_pad (GstDaydreamWhepSrc * self, gboolean * added)
{
  GstPadTemplate *templ;

  *added = FALSE;
  if (self->audiopad)
    return self->audiopad;
  templ = gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (self),
      "audio");
  self->audiopad = gst_ghost_pad_new_no_target_from_template ("audio", templ);
  self->watch_output (self, self->audiopad);
  *added = TRUE;
  return self->audiopad;
}

static const gchar *
caps_string (const GstStructure * s, const gchar * field)
{
  const gchar *v = s ? gst_structure_get_string (s, field) : NULL;

  return v ? v : "";
}

/* The encoding (upper case) of what webrtcbin's @pad carries. */
static gchar *
pad_encoding (GstPad * pad, gboolean * audio)
{
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  const GstStructure *s;

  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  s = gst_caps_is_empty (caps) ? NULL : gst_caps_get_structure (caps, 0);
  *audio = g_str_equal (caps_string (s, "media"), "audio");
  return g_ascii_strup (caps_string (s, "encoding-name"), -1);
}

/* Outside the chain lock: the codec of a new video stream (@codec), a new
 * audio pad (@audio_pad), the latency the chain adds. */
static void
stream_added (GstDaydreamWhepSrc * self, const gchar * codec,
    GstPad * audio_pad)
{
  if (codec) {
    g_mutex_lock (&self->lock);
    g_free (self->codec);
    self->codec = g_strdup (codec);
    g_mutex_unlock (&self->lock);
  }
  if (audio_pad) {
    gst_pad_set_active (audio_pad, TRUE);
    gst_element_add_pad (GST_ELEMENT (self), audio_pad);
  }
  /* the chain adds the jitterbuffer's latency downstream */
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_latency (GST_OBJECT (self)));
}

/**
 * whep_chain_on_pad_added:
 *
 * webrtcbin's "pad-added", on a streaming thread: builds the stream's
 * chain and points the element's ghost pad at it.
 */
void
whep_chain_on_pad_added (GstElement * webrtc, GstPad * pad, gpointer data)
{
  GstDaydreamWhepSrc *self = data;
  g_autofree gchar *encoding = NULL;
  WhepChain *chain;
  GstPad *ghost = NULL;
  gboolean audio, wanted, decode, add_audio_pad = FALSE;
  guint gen = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (webrtc),
          WHEP_GEN_KEY));
  g_autoptr (GstPad) sink = NULL;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  encoding = pad_encoding (pad, &audio);

  g_mutex_lock (&self->lock);
  decode = self->settings.decode;
  wanted = !audio || (self->settings.audio_caps
      && !gst_caps_is_empty (self->settings.audio_caps));
  g_mutex_unlock (&self->lock);

  g_mutex_lock (&self->chain_lock);
  if (self->current_webrtc != webrtc) {
    g_mutex_unlock (&self->chain_lock);
    GST_DEBUG_OBJECT (self, "pad %s of an old session: ignored",
        GST_PAD_NAME (pad));
    return;
  }
  /* one stream of each kind is output; any other is swallowed */
  if ((audio && self->audio) || (!audio && self->video))
    wanted = FALSE;
  chain = chain_make (encoding, decode, wanted);
  if (!chain) {
    g_mutex_unlock (&self->chain_lock);
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
        ("Missing elements to receive %s", encoding),
        ("a depayloader or decoder for %s is not installed", encoding));
    return;
  }
  if (!self->chains)
    self->chains = g_ptr_array_new_with_free_func ((GDestroyNotify)
        chain_free);
  if (!chain_install (self, chain, pad, gen)) {
    g_ptr_array_add (self->chains, chain);
    g_mutex_unlock (&self->chain_lock);
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Could not link the %s receive chain", encoding), (NULL));
    return;
  }
  g_ptr_array_add (self->chains, chain);
  if (wanted && chain->out) {
    if (audio) {
      self->audio = chain;
      ghost = ensure_audio_pad (self, &add_audio_pad);
    } else {
      self->video = chain;
      ghost = self->srcpad;
    }
    gst_ghost_pad_set_target (GST_GHOST_PAD (ghost), chain->out);
  }
  sink = gst_element_get_static_pad (chain->elements[0], "sink");
  if (gst_pad_link (pad, sink) != GST_PAD_LINK_OK)
    GST_WARNING_OBJECT (self, "could not link webrtcbin's %s",
        GST_PAD_NAME (pad));
  g_mutex_unlock (&self->chain_lock);

  GST_INFO_OBJECT (self, "receiving %s %s (%s)", audio ? "audio" : "video",
      encoding, wanted ? (decode ? "decoded" : "encoded") : "discarded");
  stream_added (self, !audio && wanted ? encoding : NULL,
      add_audio_pad ? ghost : NULL);
}

/* (transfer full) (nullable): the pad where @chain's stream enters.
 * chain_lock held. */
GstPad *
whep_chain_sink_pad (WhepChain * chain)
{
  if (!chain || !chain->n)
    return NULL;
  return gst_element_get_static_pad (chain->elements[0], "sink");
}

/**
 * whep_chain_dispose:
 *
 * Takes @webrtc and every chain of it out of the bin (state NULL first, so
 * that nothing streams into an unlinked pad). Not on a streaming thread.
 */
void
whep_chain_dispose (GstDaydreamWhepSrc * self, GstElement * webrtc)
{
  g_autoptr (GPtrArray) chains = NULL;
  gboolean had_video, had_audio;

  g_mutex_lock (&self->chain_lock);
  if (self->current_webrtc == webrtc)
    self->current_webrtc = NULL;
  chains = g_steal_pointer (&self->chains);
  had_video = self->video != NULL;
  had_audio = self->audio != NULL;
  self->video = self->audio = NULL;
  g_mutex_unlock (&self->chain_lock);

  if (webrtc)
    gst_element_set_state (webrtc, GST_STATE_NULL);
  for (guint i = 0; chains && i < chains->len; i++) {
    WhepChain *chain = g_ptr_array_index (chains, i);

    for (guint k = 0; k < chain->n; k++)
      gst_element_set_state (chain->elements[k], GST_STATE_NULL);
  }
  if (had_video)
    gst_ghost_pad_set_target (GST_GHOST_PAD (self->srcpad), NULL);
  if (had_audio && self->audiopad)
    gst_ghost_pad_set_target (GST_GHOST_PAD (self->audiopad), NULL);
  for (guint i = 0; chains && i < chains->len; i++) {
    WhepChain *chain = g_ptr_array_index (chains, i);

    for (guint k = 0; k < chain->n; k++)
      gst_bin_remove (GST_BIN (self), chain->elements[k]);
  }
  if (webrtc && GST_OBJECT_PARENT (webrtc) == GST_OBJECT (self))
    gst_bin_remove (GST_BIN (self), webrtc);
}

/**
 * whep_chain_request_keyframe:
 *
 * Sends a force-key-unit event up into webrtcbin, which its RTP session
 * turns into a PLI to the sender.
 *
 * Returns: %FALSE when there is no video stream yet
 */
gboolean
whep_chain_request_keyframe (GstDaydreamWhepSrc * self)
{
  g_autoptr (GstPad) pad = NULL;
  guint64 count;

  g_mutex_lock (&self->chain_lock);
  if (self->video && self->video->webrtc_pad)
    pad = gst_object_ref (self->video->webrtc_pad);
  g_mutex_unlock (&self->chain_lock);
  if (!pad)
    return FALSE;
  count = __atomic_add_fetch (&self->keyframe_requests, 1, __ATOMIC_RELAXED);
  GST_DEBUG_OBJECT (self, "requesting a keyframe (PLI), request %"
      G_GUINT64_FORMAT, count);
  /* all-headers FALSE: rtpsession sends a PLI, not a FIR */
  return gst_pad_send_event (pad,
      gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
          FALSE, (guint) count));
}
