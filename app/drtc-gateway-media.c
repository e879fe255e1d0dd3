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
 * Threads: the public functions and every callback run on cfg->context.
 * webrtcbin promises and signals arrive on its threads and are handed over
 * there (drtc_promise_new, g_main_context_invoke). State changes to NULL,
 * which can block, run on a worker thread.
 */
#include "drtc-gateway-media.h"
#include "drtc-encoder.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>

/* When a viewer last sent RTCP: refcounted, shared with rtpbin's signal
 * handlers (they may run while the viewer is being removed). */
typedef struct
{
  gint64 last_us;               /* atomic */
  gint bye;                     /* atomic */
} ViewerLife;

typedef struct
{
  gchar *id;
  GstElement *queue, *pay, *filter, *webrtc;
  GstPad *tee_pad;
  ViewerLife *life;
} Viewer;

/* One WHIP session's pipeline: the current publisher's, or that of a new
 * offer while it negotiates (the current one is untouched until then). */
typedef struct
{
  DrtcGatewayMedia *media;      /* a reference */
  guint gen;                    /* media->publish_serial when offered */
  GstElement *pipeline, *webrtc;
  GSource *watch;
} Ingest;

/* Rates are taken over about a second, however often they are sampled. */
#define RATE_WINDOW_US G_USEC_PER_SEC
#define RATE_SAMPLES 8

typedef struct
{
  gint64 us, in, out;
} RateSample;

struct _DrtcGatewayMedia
{
  DrtcGatewayMediaConfig cfg;
  DrtcMediaEventFunc events;
  gpointer user_data;
  gboolean closed;

  GstElement *egress;
  GstElement *appsrc, *tee;     /* references: streaming threads use them */
  GstElement *effect;
  GSource *egress_watch;
  GHashTable *viewers;          /* id -> Viewer */

  Ingest *ingest;               /* the current publisher's, or NULL */
  guint publish_serial;         /* bumped per offer and unpublish */

  gint64 in_frames, out_frames; /* atomic */
  gint64 last_in_us;            /* atomic */
  gint has_output;              /* atomic */
  RateSample samples[RATE_SAMPLES];     /* ring, sample_rates() only */
  guint n_samples, next_sample;
};

/* ---- small helpers ---- */

/* Teardowns run on threads of their own (webrtcbin can take a while to
 * shut its ICE agent down: not on the loop); they are counted so that the
 * process can wait for them before it exits. */
static GMutex teardown_lock;
static GCond teardown_cond;
static guint teardowns;

typedef struct
{
  GThreadFunc func;
  gpointer data;
} Teardown;

static gpointer
run_teardown (gpointer data)
{
  Teardown *t = data;

  t->func (t->data);
  g_free (t);
  g_mutex_lock (&teardown_lock);
  teardowns--;
  g_cond_broadcast (&teardown_cond);
  g_mutex_unlock (&teardown_lock);
  return NULL;
}

static void
start_teardown (const gchar * name, GThreadFunc func, gpointer data)
{
  Teardown *t = g_new0 (Teardown, 1);

  t->func = func;
  t->data = data;
  g_mutex_lock (&teardown_lock);
  teardowns++;
  g_mutex_unlock (&teardown_lock);
  g_thread_unref (g_thread_new (name, run_teardown, t));
}

/**
 * drtc_gateway_media_wait_stopped:
 * @timeout_us: the longest wait
 *
 * Waits until every pipeline handed to a teardown thread is in NULL.
 *
 * Returns: %FALSE when some were still stopping after @timeout_us
 */
gboolean
drtc_gateway_media_wait_stopped (gint64 timeout_us)
{
  gint64 until = g_get_monotonic_time () + timeout_us;
  gboolean done;

  g_mutex_lock (&teardown_lock);
  while (teardowns > 0 && g_cond_wait_until (&teardown_cond, &teardown_lock,
          until));
  done = teardowns == 0;
  g_mutex_unlock (&teardown_lock);
  return done;
}

static gpointer
set_null_and_unref (gpointer data)
{
  GstElement *element = data;

  gst_element_set_state (element, GST_STATE_NULL);
  gst_object_unref (element);
  return NULL;
}

static void
dispose_async (GstElement * element)
{
  start_teardown ("drtc-teardown", set_null_and_unref, element);
}

/* Every callback from a streaming or webrtcbin thread holds a reference:
 * the media's memory outlives the pipelines' threads. */
static DrtcGatewayMedia *
media_ref (DrtcGatewayMedia * media)
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

static void
media_unref (gpointer media)
{
  g_atomic_rc_box_release_full (media, media_clear);
}

static void
media_closure_unref (gpointer media, GClosure * closure)
{
  media_unref (media);
}

static GstElement *
add (GstBin * bin, const gchar * factory, const gchar * name, GError ** error)
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
static GSource *
watch_bus (GstElement * pipeline, GMainContext * context, GstBusFunc func,
    gpointer data, GDestroyNotify destroy)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  GSource *source = gst_bus_create_watch (bus);

  g_source_set_callback (source, (GSourceFunc) (void (*)(void)) func,
      data, destroy);
  g_source_attach (source, context);
  return source;
}

static void
unwatch (GSource ** source)
{
  if (*source) {
    g_source_destroy (*source);
    g_source_unref (*source);
    *source = NULL;
  }
}

G_DEFINE_QUARK (drtc - gateway - media - error - quark,
    drtc_gateway_media_error)
/* ---- negotiation (shared by publisher and viewers) ---- */
     typedef struct
     {
       DrtcGatewayMedia *media;
       GstElement *webrtc;
       GstSDPMessage *offer;
       DrtcAnswerFunc func;
       gpointer user_data;
       guint publisher_gen;     /* publisher: still the newest offer? */
       Ingest *ingest;          /* publisher: its pipeline, until it wins */
       gchar *viewer_id;        /* viewer: still there? */
     } Negotiation;

     static void ingest_free (Ingest * ingest);
     static void take_over (DrtcGatewayMedia * media, Ingest * ingest);

     static void negotiation_free (Negotiation * n)
{
  if (n->offer)
    gst_sdp_message_free (n->offer);
  gst_object_unref (n->webrtc);
  g_clear_pointer (&n->ingest, ingest_free);
  media_unref (n->media);
  g_free (n->viewer_id);
  g_free (n);
}

static gboolean
negotiation_wanted (Negotiation * n)
{
  if (n->media->closed)
    return FALSE;
  if (n->viewer_id)
    return g_hash_table_contains (n->media->viewers, n->viewer_id);
  return n->publisher_gen == n->media->publish_serial;
}

static void
negotiation_fail (Negotiation * n, DrtcGatewayMediaError code,
    const gchar * what, const GError * cause)
{
  g_autoptr (GError) err = g_error_new (DRTC_GATEWAY_MEDIA_ERROR, code,
      "%s%s%s", what, cause ? ": " : "", cause ? cause->message : "");

  g_message ("negotiation failed: %s", err->message);
  n->func (NULL, err, n->user_data);
  negotiation_free (n);
}

static void
on_gathered (GstElement * webrtc, gboolean complete, gpointer data)
{
  Negotiation *n = data;
  g_autofree gchar *sdp = NULL;

  if (!negotiation_wanted (n)) {
    negotiation_fail (n, DRTC_GATEWAY_MEDIA_ERROR_SUPERSEDED,
        "session replaced or closed", NULL);
    return;
  }
  if (!complete)
    g_message ("ICE gathering still running after %u ms: answering with "
        "the candidates found so far", n->media->cfg.gather_timeout_ms);
  sdp = drtc_webrtc_local_sdp (webrtc);
  if (!sdp) {
    negotiation_fail (n, DRTC_GATEWAY_MEDIA_ERROR_FAILED,
        "no local description", NULL);
    return;
  }
  /* a new publisher's offer is answered: now it replaces the current */
  if (n->ingest)
    take_over (n->media, g_steal_pointer (&n->ingest));
  n->func (sdp, NULL, n->user_data);
  negotiation_free (n);
}

static void
on_answer_created (GstPromise * promise, gpointer data)
{
  Negotiation *n = data;
  g_autoptr (GError) err = NULL;
  GstWebRTCSessionDescription *answer;

  if (!negotiation_wanted (n)) {
    negotiation_fail (n, DRTC_GATEWAY_MEDIA_ERROR_SUPERSEDED,
        "session replaced or closed", NULL);
    return;
  }
  if (!(answer = drtc_promise_description (promise, "answer", &err))) {
    negotiation_fail (n, DRTC_GATEWAY_MEDIA_ERROR_OFFER,
        "could not create an answer", err);
    return;
  }
  g_signal_emit_by_name (n->webrtc, "set-local-description", answer, NULL);
  gst_webrtc_session_description_free (answer);
  /* Daydream's gateway and most WHIP clients do not trickle: answer with
   * every candidate, after gathering (bounded) */
  drtc_webrtc_when_gathered (n->webrtc, n->media->cfg.context,
      n->media->cfg.gather_timeout_ms, on_gathered, n, NULL);
}

static void
on_remote_set (GstPromise * promise, gpointer data)
{
  Negotiation *n = data;
  g_autoptr (GError) err = NULL;
  GstPromise *next;

  if (!negotiation_wanted (n)) {
    negotiation_fail (n, DRTC_GATEWAY_MEDIA_ERROR_SUPERSEDED,
        "session replaced or closed", NULL);
    return;
  }
  if (!drtc_promise_reply (promise, NULL, &err)) {
    negotiation_fail (n, DRTC_GATEWAY_MEDIA_ERROR_OFFER,
        "the offer was not accepted", err);
    return;
  }
  next = drtc_promise_new (n->media->cfg.context, on_answer_created, n, NULL);
  g_signal_emit_by_name (n->webrtc, "create-answer", NULL, next);
  gst_promise_unref (next);
}

static void
negotiate (Negotiation * n)
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
  if (!(media->appsrc = add (bin, "appsrc", "frames", error)))
    return FALSE;
  gst_object_ref (media->appsrc);
  media->effect = drtc_effect_bin_new ("effect");
  gst_bin_add (bin, media->effect);
  if (!(convert = add (bin, "videoconvert", NULL, error))
      || !(filter = add (bin, "capsfilter", NULL, error))
      || !(enc_filter = add (bin, "capsfilter", NULL, error))
      || !(parse = add (bin, "h264parse", NULL, error))
      || !(media->tee = add (bin, "tee", "encoded", error)))
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
      media_ref (media), media_unref);
  media->egress_watch = watch_bus (media->egress, media->cfg.context,
      on_egress_message, media_ref (media), media_unref);
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
      media_ref (media), media_unref);
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

typedef struct
{
  DrtcGatewayMedia *media;
  guint gen;
  gchar *reason;
} LostCall;

static LostCall *
lost_call_new (DrtcGatewayMedia * media, guint gen, const gchar * reason)
{
  LostCall *call = g_new0 (LostCall, 1);

  call->media = media_ref (media);
  call->gen = gen;
  call->reason = g_strdup (reason);
  return call;
}

static void
lost_call_free (gpointer data)
{
  LostCall *call = data;

  media_unref (call->media);
  g_free (call->reason);
  g_free (call);
}

static gboolean
report_publisher_lost (gpointer data)
{
  LostCall *call = data;
  DrtcGatewayMedia *media = call->media;

  if (!media->closed && media->ingest && call->gen == media->ingest->gen)
    media->events (media, DRTC_MEDIA_PUBLISHER_LOST, call->reason,
        media->user_data);
  return G_SOURCE_REMOVE;
}

static void
publisher_lost (DrtcGatewayMedia * media, guint gen, const gchar * reason)
{
  g_main_context_invoke_full (media->cfg.context, G_PRIORITY_DEFAULT,
      report_publisher_lost, lost_call_new (media, gen, reason),
      lost_call_free);
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
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED
      || state == GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED)
    publisher_lost (media, gen, "publisher connection failed");
}

/* the watch's data: a LostCall naming the session */
static gboolean
on_ingest_message (GstBus * bus, GstMessage * msg, gpointer data)
{
  LostCall *session = data;

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
  ingest->media = media_ref (media);
  ingest->gen = gen;
  ingest->pipeline = gst_pipeline_new ("gateway-ingest");
  ingest->webrtc = gst_object_ref (webrtc);
  g_object_set_data (G_OBJECT (webrtc), "drtc-gen", GUINT_TO_POINTER (gen));
  gst_bin_add (GST_BIN (ingest->pipeline), webrtc);
  g_signal_connect_data (webrtc, "pad-added", G_CALLBACK (on_ingest_pad),
      media_ref (media), media_closure_unref, 0);
  g_signal_connect_data (webrtc, "notify::connection-state",
      G_CALLBACK (on_ingest_state), media_ref (media), media_closure_unref, 0);
  ingest->watch = watch_bus (ingest->pipeline, media->cfg.context,
      on_ingest_message, lost_call_new (media, gen, NULL), lost_call_free);
  gst_element_set_state (ingest->pipeline, GST_STATE_PLAYING);
  return ingest;
}

/* Returns: (transfer full): the session's pipeline, to be set to NULL */
static GstElement *
ingest_detach (Ingest * ingest)
{
  GstElement *pipeline = g_steal_pointer (&ingest->pipeline);

  unwatch (&ingest->watch);
  g_signal_handlers_disconnect_by_data (ingest->webrtc, ingest->media);
  gst_object_unref (ingest->webrtc);
  media_unref (ingest->media);
  g_free (ingest);
  return pipeline;
}

static void
ingest_free (Ingest * ingest)
{
  dispose_async (ingest_detach (ingest));
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
stop_ingest (DrtcGatewayMedia * media)
{
  media->publish_serial++;      /* offers still negotiating lose too */
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
  n = g_new0 (Negotiation, 1);
  n->media = media_ref (media);
  n->webrtc = gst_object_ref (ingest->webrtc);
  n->offer = offer;
  n->func = func;
  n->user_data = user_data;
  n->publisher_gen = ingest->gen;
  n->ingest = ingest;
  negotiate (n);
}

gboolean
drtc_gateway_media_add_candidate (DrtcGatewayMedia * media, guint mline,
    const gchar * candidate)
{
  if (!media->ingest)
    return FALSE;
  g_signal_emit_by_name (media->ingest->webrtc, "add-ice-candidate", mline,
      candidate);
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

typedef struct
{
  DrtcGatewayMedia *media;
  gchar *id;
} ViewerCall;

static void
viewer_call_free (gpointer data)
{
  ViewerCall *call = data;

  media_unref (call->media);
  g_free (call->id);
  g_free (call);
}

static gboolean
report_viewer_gone (gpointer data)
{
  ViewerCall *call = data;

  if (!call->media->closed
      && g_hash_table_contains (call->media->viewers, call->id))
    call->media->events (call->media, DRTC_MEDIA_VIEWER_GONE, call->id,
        call->media->user_data);
  return G_SOURCE_REMOVE;
}

static void
on_viewer_state (GstElement * webrtc, GParamSpec * pspec, gpointer data)
{
  DrtcGatewayMedia *media = data;
  GstWebRTCPeerConnectionState state;
  ViewerCall *call;

  g_object_get (webrtc, "connection-state", &state, NULL);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) {
    /* a new viewer needs a keyframe to start decoding */
    GstEvent *ev = gst_video_event_new_upstream_force_key_unit
        (GST_CLOCK_TIME_NONE, TRUE, 0);
    GstPad *pad = gst_element_get_static_pad (media->tee, "sink");

    /* pushed from the sink pad: an upstream event goes to its peer */
    gst_pad_push_event (pad, ev);
    gst_object_unref (pad);
    return;
  }
  if (state != GST_WEBRTC_PEER_CONNECTION_STATE_FAILED
      && state != GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED)
    return;
  call = g_new0 (ViewerCall, 1);
  call->media = media_ref (media);
  call->id = g_strdup (g_object_get_data (G_OBJECT (webrtc), "drtc-viewer"));
  g_main_context_invoke_full (media->cfg.context, G_PRIORITY_DEFAULT,
      report_viewer_gone, call, viewer_call_free);
}

static gboolean
link_viewer (DrtcGatewayMedia * media, Viewer * v, GstCaps * caps,
    GError ** error)
{
  GstBin *bin = GST_BIN (media->egress);
  g_autoptr (GstPad) queue_sink = NULL;
  g_autoptr (GstPad) webrtc_sink = NULL;
  g_autoptr (GstPad) filter_src = NULL;

  if (!(v->queue = add (bin, "queue", NULL, error))
      || !(v->pay = add (bin, "rtph264pay", NULL, error))
      || !(v->filter = add (bin, "capsfilter", NULL, error)))
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
      G_CALLBACK (on_viewer_state), media_ref (media), media_closure_unref, 0);
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
  n = g_new0 (Negotiation, 1);
  n->media = media_ref (media);
  n->webrtc = gst_object_ref (v->webrtc);
  n->offer = offer;
  n->func = func;
  n->user_data = user_data;
  n->viewer_id = g_strdup (viewer_id);
  negotiate (n);
}

/* ---- viewers answering our offer (--whep-counter-offer) ---- */

static void
on_viewer_offer_created (GstPromise * promise, gpointer data)
{
  Negotiation *n = data;
  g_autoptr (GError) err = NULL;
  GstWebRTCSessionDescription *offer;

  if (!negotiation_wanted (n)) {
    negotiation_fail (n, DRTC_GATEWAY_MEDIA_ERROR_SUPERSEDED,
        "viewer removed", NULL);
    return;
  }
  if (!(offer = drtc_promise_description (promise, "offer", &err))) {
    negotiation_fail (n, DRTC_GATEWAY_MEDIA_ERROR_FAILED,
        "could not create an offer", err);
    return;
  }
  g_signal_emit_by_name (n->webrtc, "set-local-description", offer, NULL);
  gst_webrtc_session_description_free (offer);
  drtc_webrtc_when_gathered (n->webrtc, n->media->cfg.context,
      n->media->cfg.gather_timeout_ms, on_gathered, n, NULL);
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
  n = g_new0 (Negotiation, 1);
  n->media = media_ref (media);
  n->webrtc = gst_object_ref (v->webrtc);
  n->func = func;
  n->user_data = user_data;
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

  if (!negotiation_wanted (n)) {
    negotiation_fail (n, DRTC_GATEWAY_MEDIA_ERROR_SUPERSEDED,
        "viewer removed", NULL);
    return;
  }
  if (!drtc_promise_reply (promise, NULL, &err)) {
    negotiation_fail (n, DRTC_GATEWAY_MEDIA_ERROR_OFFER,
        "the answer was not accepted", err);
    return;
  }
  n->func ("", NULL, n->user_data);
  negotiation_free (n);
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
  n = g_new0 (Negotiation, 1);
  n->media = media_ref (media);
  n->webrtc = gst_object_ref (v->webrtc);
  n->func = func;
  n->user_data = user_data;
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
 * Removes the viewers that said BYE or sent no RTCP for @timeout_us.
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
  start_teardown ("drtc-viewer-teardown", remove_elements, r);
  viewer_free (v);
}

guint
drtc_gateway_media_n_viewers (DrtcGatewayMedia * media)
{
  return g_hash_table_size (media->viewers);
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
    set_null_and_unref (stop->ingest);
  if (stop->egress)
    set_null_and_unref (stop->egress);
  g_message ("media stopped");
  media_unref (stop->media);
  g_free (stop);
  return NULL;
}

/* Viewers go with the output as a whole: their branches stop with it. */
static void
forget_viewers (DrtcGatewayMedia * media)
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
  stop = g_new0 (MediaStop, 1);
  if (media->ingest)
    stop->ingest = ingest_detach (g_steal_pointer (&media->ingest));
  forget_viewers (media);
  g_clear_pointer (&media->viewers, g_hash_table_unref);
  unwatch (&media->egress_watch);
  stop->egress = g_steal_pointer (&media->egress);
  stop->media = media;          /* the owner's reference */
  start_teardown ("drtc-media-stop", stop_media, stop);
}
