/* daydream-rtc gateway: the media of one stream (WHIP in, effect, WHEP out)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Two pipelines per stream, so that a publisher can come and go without
 * disturbing the viewers:
 *
 *   ingest (one per WHIP session):
 *     webrtcbin ! rtph264depay ! h264parse ! avdec_h264 ! appsink
 *   egress (as long as the stream has media):
 *     appsrc ! effect ! videoconvert ! I420 ! H.264 encoder ! h264parse !
 *     tee ! (per viewer) queue ! rtph264pay ! webrtcbin
 *
 * The appsink hands each decoded frame to the appsrc. The stream is encoded
 * once and fanned out; each viewer gets its own payloader only because its
 * offer picks its own payload type.
 *
 * This file has the output, the publisher sessions and the teardown;
 * drtc-gateway-viewers.c the viewers' branches; drtc-gateway-media-util.c
 * what both use (references, teardown threads, negotiation).
 *
 * Threads: the public functions and every callback run on cfg->context.
 * webrtcbin promises and signals arrive on its threads and are handed over
 * there (drtc_promise_new, g_main_context_invoke). State changes to NULL,
 * which can block, run on a worker thread.
 */
#include "drtc-gateway-media-private.h"
#include "drtc-encoder.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

/* ---- egress ---- */

static GstPadProbeReturn
on_encoded (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  DrtcGatewayMedia *media = data;

  g_atomic_int_set (&media->has_output, 1);
  __atomic_fetch_add (&media->out_frames, 1, __ATOMIC_RELAXED);
  return GST_PAD_PROBE_OK;
}

static gboolean
on_egress_message (GstBus * bus, GstMessage * msg, gpointer data)
{
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) err = NULL;
    g_autofree gchar *debug = NULL;

    gst_message_parse_error (msg, &err, &debug);
    g_warning ("gateway output: %s (%s)", err->message, GST_STR_NULL (debug));
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
build_egress (DrtcGatewayMedia * media, GError ** error)
{
  GstBin *bin;
  GstElement *convert, *filter, *encoder, *enc_filter, *parse;
  g_autoptr (GstCaps) i420 = gst_caps_from_string ("video/x-raw,format=I420");
  g_autoptr (GstCaps) h264 = gst_caps_from_string ("video/x-h264,"
      "stream-format=byte-stream,alignment=au,"
      "profile=(string){constrained-baseline,baseline}");
  DrtcEncoderSettings enc = { media->cfg.fps, media->cfg.bitrate_kbps,
    media->cfg.fps * 2
  };
  g_autoptr (GstPad) probe_pad = NULL;

  media->egress = gst_pipeline_new ("gateway-egress");
  bin = GST_BIN (media->egress);
  if (!(media->appsrc = drtc_media_add (bin, "appsrc", "frames", error)))
    return FALSE;
  gst_object_ref (media->appsrc);
  media->effect = drtc_effect_bin_new ("effect");
  gst_bin_add (bin, media->effect);
  if (!(convert = drtc_media_add (bin, "videoconvert", NULL, error))
      || !(filter = drtc_media_add (bin, "capsfilter", NULL, error))
      || !(enc_filter = drtc_media_add (bin, "capsfilter", NULL, error))
      || !(parse = drtc_media_add (bin, "h264parse", NULL, error))
      || !(media->tee = drtc_media_add (bin, "tee", "encoded", error)))
    return FALSE;
  gst_object_ref (media->tee);
  encoder = drtc_encoder_make (media->cfg.encoder, &enc, error);
  if (!encoder)
    return FALSE;
  gst_bin_add (bin, encoder);
  gst_object_unref (encoder);   /* drtc_encoder_make returned a full ref */
  g_object_set (media->appsrc, "is-live", TRUE, "format", GST_FORMAT_TIME,
      "do-timestamp", TRUE, "min-latency", (gint64) 0, "max-buffers",
      (guint64) 2, "leaky-type", 2 /* downstream: drop old */ , NULL);
  g_object_set (filter, "caps", i420, NULL);
  g_object_set (enc_filter, "caps", h264, NULL);
  g_object_set (parse, "config-interval", -1, NULL);
  g_object_set (media->tee, "allow-not-linked", TRUE, NULL);
  if (!gst_element_link_many (media->appsrc, media->effect, convert, filter,
          encoder, enc_filter, parse, media->tee, NULL)) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
        "could not link the gateway output chain");
    return FALSE;
  }
  probe_pad = gst_element_get_static_pad (media->tee, "sink");
  gst_pad_add_probe (probe_pad, GST_PAD_PROBE_TYPE_BUFFER, on_encoded,
      drtc_media_ref (media), drtc_media_unref);
  media->egress_watch = drtc_media_watch_bus (media->egress, media->cfg.context,
      on_egress_message, drtc_media_ref (media), drtc_media_unref);
  if (gst_element_set_state (media->egress, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE,
        "could not start the gateway output pipeline");
    return FALSE;
  }
  return TRUE;
}

/**
 * drtc_gateway_media_new:
 *
 * Returns: (transfer full): the stream's media with its output pipeline
 *   running (no publisher yet), or %NULL with @error set
 */
DrtcGatewayMedia *
drtc_gateway_media_new (const DrtcGatewayMediaConfig * cfg,
    DrtcMediaEventFunc events, gpointer user_data, GError ** error)
{
  DrtcGatewayMedia *media = g_atomic_rc_box_new0 (DrtcGatewayMedia);

  media->cfg = *cfg;
  g_main_context_ref (cfg->context);
  media->events = events;
  media->user_data = user_data;
  media->viewers = g_hash_table_new (g_str_hash, g_str_equal);
  media->samples[0].us = g_get_monotonic_time ();
  media->n_samples = media->next_sample = 1;
  if (!build_egress (media, error)) {
    drtc_gateway_media_free (media);
    return NULL;
  }
  return media;
}

void
drtc_gateway_media_apply_effect (DrtcGatewayMedia * media,
    const DrtcEffectSettings * settings)
{
  drtc_effect_bin_apply (media->effect, settings);
}

gboolean
drtc_gateway_media_has_output (DrtcGatewayMedia * media)
{
  return g_atomic_int_get (&media->has_output);
}

/* ---- ingest ---- */

static GstFlowReturn
on_decoded (GstAppSink * sink, gpointer data)
{
  DrtcGatewayMedia *media = data;
  GstSample *sample = gst_app_sink_pull_sample (sink);
  GstSample *restamped;
  GstBuffer *buf;

  if (!sample)
    return GST_FLOW_EOS;
  __atomic_fetch_add (&media->in_frames, 1, __ATOMIC_RELAXED);
  __atomic_store_n (&media->last_in_us, g_get_monotonic_time (),
      __ATOMIC_RELAXED);
  /* The ingest's timestamps are its own pipeline's running time, which
   * starts again at 0 with each publisher: the encoder would see them go
   * backwards. Without them, do-timestamp stamps each frame on arrival in
   * the egress's time. The copy shares the pixels. */
  buf = gst_buffer_copy (gst_sample_get_buffer (sample));
  GST_BUFFER_PTS (buf) = GST_BUFFER_DTS (buf) = GST_CLOCK_TIME_NONE;
  restamped = gst_sample_new (buf, gst_sample_get_caps (sample), NULL, NULL);
  gst_buffer_unref (buf);
  gst_app_src_push_sample (GST_APP_SRC (media->appsrc), restamped);
  gst_sample_unref (restamped);
  gst_sample_unref (sample);
  return GST_FLOW_OK;
}

/* webrtcbin's streaming thread: decode what the publisher sends */
static void
on_ingest_pad (GstElement * webrtc, GstPad * pad, gpointer data)
{
  DrtcGatewayMedia *media = data;
  GstBin *bin = GST_BIN (GST_ELEMENT_PARENT (webrtc));
  GstElement *depay, *parse, *decoder, *sink;
  GstAppSinkCallbacks callbacks = { NULL, NULL, on_decoded };
  GstPad *sinkpad;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  depay = gst_element_factory_make ("rtph264depay", NULL);
  parse = gst_element_factory_make ("h264parse", NULL);
  decoder = gst_element_factory_make ("avdec_h264", NULL);
  if (!decoder)
    decoder = gst_element_factory_make ("openh264dec", NULL);
  else
    gst_util_set_object_arg (G_OBJECT (decoder), "thread-type", "slice");
  sink = gst_element_factory_make ("appsink", NULL);
  if (!depay || !parse || !decoder || !sink) {
    g_warning ("gateway input: H.264 depayloader/parser/decoder missing");
    return;
  }
  g_object_set (sink, "sync", FALSE, "max-buffers", 2, "drop", TRUE,
      "enable-last-sample", FALSE, NULL);
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks,
      drtc_media_ref (media), drtc_media_unref);
  gst_bin_add_many (bin, depay, parse, decoder, sink, NULL);
  gst_element_link_many (depay, parse, decoder, sink, NULL);
  gst_element_sync_state_with_parent (sink);
  gst_element_sync_state_with_parent (decoder);
  gst_element_sync_state_with_parent (parse);
  gst_element_sync_state_with_parent (depay);
  sinkpad = gst_element_get_static_pad (depay, "sink");
  if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK)
    g_warning ("gateway input: could not link the publisher's stream");
  gst_object_unref (sinkpad);
}

static void take_over (DrtcGatewayMedia * media, Ingest * ingest);

static gboolean
is_incoming (DrtcGatewayMedia * media, guint gen)
{
  return !media->closed && media->incoming && media->incoming->gen == gen;
}

static gboolean
report_publisher_lost (gpointer data)
{
  MediaCall *call = data;
  DrtcGatewayMedia *media = call->media;

  if (is_incoming (media, call->gen))
    drtc_gateway_media_abandon_incoming (media, call->text);
  else if (!media->closed && media->ingest && call->gen == media->ingest->gen)
    media->events (media, DRTC_MEDIA_PUBLISHER_LOST, call->text,
        media->user_data);
  return G_SOURCE_REMOVE;
}

/* The new publisher's ICE/DTLS is up: now it replaces the current one. */
static gboolean
report_connected (gpointer data)
{
  MediaCall *call = data;
  DrtcGatewayMedia *media = call->media;

  if (!is_incoming (media, call->gen))
    return G_SOURCE_REMOVE;
  drtc_media_unwatch (&media->incoming_expiry);
  take_over (media, g_steal_pointer (&media->incoming));
  media->events (media, DRTC_MEDIA_PUBLISHER_REPLACED, NULL, media->user_data);
  return G_SOURCE_REMOVE;
}

static void
publisher_lost (DrtcGatewayMedia * media, guint gen, const gchar * reason)
{
  g_main_context_invoke_full (media->cfg.context, G_PRIORITY_DEFAULT,
      report_publisher_lost, drtc_media_call_new (media, gen, reason),
      drtc_media_call_free);
}

static void
on_ingest_state (GstElement * webrtc, GParamSpec * pspec, gpointer data)
{
  DrtcGatewayMedia *media = data;
  GstWebRTCPeerConnectionState state;
  guint gen = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (webrtc),
          "drtc-gen"));

  g_object_get (webrtc, "connection-state", &state, NULL);
  g_debug ("publisher connection %s", drtc_webrtc_state_name (state));
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED)
    g_main_context_invoke_full (media->cfg.context, G_PRIORITY_DEFAULT,
        report_connected, drtc_media_call_new (media, gen, NULL),
        drtc_media_call_free);
  else if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED
      || state == GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED)
    publisher_lost (media, gen, "publisher connection failed");
}

/* the watch's data: a MediaCall naming the session */
static gboolean
on_ingest_message (GstBus * bus, GstMessage * msg, gpointer data)
{
  MediaCall *session = data;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) err = NULL;
    g_autofree gchar *debug = NULL;

    gst_message_parse_error (msg, &err, &debug);
    g_warning ("gateway input: %s (%s)", err->message, GST_STR_NULL (debug));
    publisher_lost (session->media, session->gen, err->message);
  }
  return G_SOURCE_CONTINUE;
}

/* A session's pipeline, playing; NULL when webrtcbin is missing. */
static Ingest *
ingest_new (DrtcGatewayMedia * media, guint gen)
{
  GstElement *webrtc = drtc_webrtc_new ("whip", &media->cfg.webrtc);
  Ingest *ingest;

  if (!webrtc)
    return NULL;
  ingest = g_new0 (Ingest, 1);
  ingest->media = drtc_media_ref (media);
  ingest->gen = gen;
  ingest->pipeline = gst_pipeline_new ("gateway-ingest");
  ingest->webrtc = gst_object_ref (webrtc);
  g_object_set_data (G_OBJECT (webrtc), "drtc-gen", GUINT_TO_POINTER (gen));
  gst_bin_add (GST_BIN (ingest->pipeline), webrtc);
  g_signal_connect_data (webrtc, "pad-added", G_CALLBACK (on_ingest_pad),
      drtc_media_ref (media), drtc_media_closure_unref, 0);
  g_signal_connect_data (webrtc, "notify::connection-state",
      G_CALLBACK (on_ingest_state), drtc_media_ref (media),
      drtc_media_closure_unref, 0);
  ingest->watch =
      drtc_media_watch_bus (ingest->pipeline, media->cfg.context,
      on_ingest_message, drtc_media_call_new (media, gen, NULL),
      drtc_media_call_free);
  gst_element_set_state (ingest->pipeline, GST_STATE_PLAYING);
  return ingest;
}

/* Returns: (transfer full): the session's pipeline, to be set to NULL */
static GstElement *
ingest_detach (Ingest * ingest)
{
  GstElement *pipeline = g_steal_pointer (&ingest->pipeline);

  drtc_media_unwatch (&ingest->watch);
  g_signal_handlers_disconnect_by_data (ingest->webrtc, ingest->media);
  gst_object_unref (ingest->webrtc);
  drtc_media_unref (ingest->media);
  g_free (ingest);
  return pipeline;
}

static void
ingest_free (Ingest * ingest)
{
  drtc_teardown_element (ingest_detach (ingest), "drtc-teardown");
}

static void
take_over (DrtcGatewayMedia * media, Ingest * ingest)
{
  g_clear_pointer (&media->ingest, ingest_free);
  media->ingest = ingest;
  /* the publisher timeout counts from here */
  __atomic_store_n (&media->last_in_us, g_get_monotonic_time (),
      __ATOMIC_RELAXED);
}

static void
drop_incoming (DrtcGatewayMedia * media)
{
  drtc_media_unwatch (&media->incoming_expiry);
  g_clear_pointer (&media->incoming, ingest_free);
}

static gboolean
on_incoming_expired (gpointer data)
{
  DrtcGatewayMedia *media = data;
  g_autofree gchar *why = g_strdup_printf ("not connected within %u s",
      media->cfg.takeover_timeout_s);

  drtc_gateway_media_abandon_incoming (media, why);
  return G_SOURCE_REMOVE;
}

/* An offer was answered (the session_won hook). Without a publisher it
 * takes over at once; else the current one streams on until the new
 * one's ICE/DTLS connects (report_connected), and stays if it never does. */
static void
offer_answered (DrtcGatewayMedia * media, Ingest * ingest)
{
  if (!media->ingest) {
    take_over (media, ingest);
    return;
  }
  drop_incoming (media);        /* a newer offer replaces a pending one */
  media->incoming = ingest;
  media->incoming_expiry =
      g_timeout_source_new_seconds (MAX (media->cfg.takeover_timeout_s, 1));
  g_source_set_callback (media->incoming_expiry, on_incoming_expired,
      drtc_media_ref (media), drtc_media_unref);
  g_source_attach (media->incoming_expiry, media->cfg.context);
}

/**
 * drtc_gateway_media_abandon_incoming:
 *
 * Drops the answered publisher that has not taken over yet; the current
 * one stays. Reports DRTC_MEDIA_OFFER_ABANDONED with @reason.
 *
 * Returns: whether there was one
 */
gboolean
drtc_gateway_media_abandon_incoming (DrtcGatewayMedia * media,
    const gchar * reason)
{
  if (!media->incoming)
    return FALSE;
  drop_incoming (media);
  media->events (media, DRTC_MEDIA_OFFER_ABANDONED, reason, media->user_data);
  return TRUE;
}

gboolean
drtc_gateway_media_has_incoming (DrtcGatewayMedia * media)
{
  return media->incoming != NULL;
}

static void
stop_ingest (DrtcGatewayMedia * media)
{
  media->publish_serial++;      /* offers still negotiating lose too */
  drop_incoming (media);
  g_clear_pointer (&media->ingest, ingest_free);
}

/**
 * drtc_gateway_media_publish:
 * @offer: (transfer full): the publisher's offer, H.264 only
 *
 * Negotiates @offer on a pipeline of its own; only once that worked (an
 * answer with candidates) does it replace the current publisher, which
 * keeps streaming until then and stays when the offer fails. @func gets
 * the answer, or an error (DRTC_GATEWAY_MEDIA_ERROR_OFFER when the offer
 * was refused). A newer offer supersedes one still negotiating.
 */
void
drtc_gateway_media_publish (DrtcGatewayMedia * media, GstSDPMessage * offer,
    DrtcAnswerFunc func, gpointer user_data)
{
  Ingest *ingest = ingest_new (media, ++media->publish_serial);
  Negotiation *n;

  if (!ingest) {
    g_autoptr (GError) err = g_error_new (GST_CORE_ERROR,
        GST_CORE_ERROR_MISSING_PLUGIN, "webrtcbin is missing");

    gst_sdp_message_free (offer);
    func (NULL, err, user_data);
    return;
  }
  n = drtc_negotiation_new (media, ingest->webrtc, func, user_data);
  n->offer = offer;
  n->publisher_gen = ingest->gen;
  n->session = ingest;
  n->session_free = (GDestroyNotify) ingest_free;
  n->session_won = (void (*)(DrtcGatewayMedia *, gpointer)) offer_answered;
  drtc_negotiate (n);
}

gboolean
drtc_gateway_media_add_candidate (DrtcGatewayMedia * media, guint mline,
    const gchar * candidate)
{
  /* the newest session is the one a client trickles to */
  Ingest *target = media->incoming ? media->incoming : media->ingest;

  if (!target)
    return FALSE;
  g_signal_emit_by_name (target->webrtc, "add-ice-candidate", mline, candidate);
  return TRUE;
}

void
drtc_gateway_media_unpublish (DrtcGatewayMedia * media)
{
  stop_ingest (media);
}

gboolean
drtc_gateway_media_has_publisher (DrtcGatewayMedia * media)
{
  return media->ingest != NULL;
}

/**
 * drtc_gateway_media_sample_rates:
 *
 * Frames per second in and out over about the last second (or since the
 * media started, when that is shorter), and how long ago the last input
 * frame arrived. Call it regularly: each call is a sample.
 */
void
drtc_gateway_media_sample_rates (DrtcGatewayMedia * media,
    gdouble * input_fps, gdouble * output_fps, gint64 * input_idle_us)
{
  RateSample now = { g_get_monotonic_time (),
    __atomic_load_n (&media->in_frames, __ATOMIC_RELAXED),
    __atomic_load_n (&media->out_frames, __ATOMIC_RELAXED)
  };
  const RateSample *base = NULL;
  gdouble secs;

  /* the newest sample at least a window old, else the oldest there is */
  for (guint i = 0; i < media->n_samples; i++) {
    const RateSample *s = &media->samples[(media->next_sample + RATE_SAMPLES -
            1 - i) % RATE_SAMPLES];

    base = s;
    if (now.us - s->us >= RATE_WINDOW_US)
      break;
  }
  secs = MAX ((now.us - base->us) / 1e6, 1e-3);
  *input_fps = (now.in - base->in) / secs;
  *output_fps = (now.out - base->out) / secs;
  *input_idle_us = now.us - __atomic_load_n (&media->last_in_us,
      __ATOMIC_RELAXED);
  media->samples[media->next_sample] = now;
  media->next_sample = (media->next_sample + 1) % RATE_SAMPLES;
  media->n_samples = MIN (media->n_samples + 1, RATE_SAMPLES);
}

typedef struct
{
  DrtcGatewayMedia *media;      /* a reference, the last one in general */
  GstElement *ingest, *egress;  /* nullable */
} MediaStop;

static gpointer
stop_media (gpointer data)
{
  MediaStop *stop = data;

  if (stop->ingest)
    drtc_media_set_null_and_unref (stop->ingest);
  if (stop->egress)
    drtc_media_set_null_and_unref (stop->egress);
  g_message ("media stopped");
  drtc_media_unref (stop->media);
  g_free (stop);
  return NULL;
}

/**
 * drtc_gateway_media_free:
 *
 * Stops everything on a thread of its own: both pipelines go to NULL
 * there, each as a whole, then the last reference goes. Callbacks still in
 * flight see the media closed.
 */
void
drtc_gateway_media_free (DrtcGatewayMedia * media)
{
  MediaStop *stop;

  if (!media)
    return;
  media->closed = TRUE;
  media->publish_serial++;
  drop_incoming (media);
  stop = g_new0 (MediaStop, 1);
  if (media->ingest)
    stop->ingest = ingest_detach (g_steal_pointer (&media->ingest));
  drtc_media_forget_viewers (media);
  g_clear_pointer (&media->viewers, g_hash_table_unref);
  drtc_media_unwatch (&media->egress_watch);
  stop->egress = g_steal_pointer (&media->egress);
  stop->media = media;          /* the owner's reference */
  drtc_teardown_run ("drtc-media-stop", stop_media, stop);
}
