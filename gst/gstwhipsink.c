/* daydream-rtc: whipsink, a WHIP (RFC 9725) publisher on webrtcbin
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-whipsink
 * @title: whipsink
 *
 * Publishes video to a WHIP endpoint (RFC 9725): Daydream's gateway, the
 * local `daydream-rtc gateway`, or any WHIP server. Raw video is converted
 * (packed RGB with libyuv, other formats with videoconvert) and encoded to
 * H.264 with the best encoder available (hardware first, x264enc otherwise:
 * no B-frames, a keyframe every half second, tuned for latency); H.264
 * input is sent as it is.
 *
 * The offer is sent once ICE gathering completes (bounded by
 * #GstDaydreamWhipSink:timeout), with every candidate, as Daydream requires;
 * with `trickle=on` it is sent at once and candidates follow by PATCH.
 * Redirects (307/308) are followed with the Authorization header kept; a
 * relative Location is resolved; `Link: rel="ice-server"` headers are used
 * when #GstDaydreamWhipSink:use-link-headers is set; the session is
 * DELETEd when the element stops. A 4xx answer is an error; a 5xx answer,
 * a network error or a failed connection mid-stream reconnect with
 * exponential backoff while frames keep flowing.
 *
 * The element posts `whip-state` element messages (`state`: connecting,
 * connected, reconnecting, failed, closed; `detail`; `reconnects`).
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! \
 *     video/x-raw,width=512,height=512,framerate=30/1 ! \
 *     whipsink whip-endpoint=http://127.0.0.1:8896/live/video-to-video/KEY/whip
 * ]| Publish a test pattern to the local gateway.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwhipsink.h"
#include "gstdaydreamcontrol.h"
#ifdef HAVE_LIBYUV
#include "whipsink-i420.h"
#endif

#include <string.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>

#include "drtc-encoder.h"
#include "drtc-http.h"
#include "drtc-sdp.h"
#include "drtc-webrtc.h"

GST_DEBUG_CATEGORY_STATIC (gst_daydream_whip_sink_debug);
#define GST_CAT_DEFAULT gst_daydream_whip_sink_debug

#define DEFAULT_TIMEOUT 15
#define DEFAULT_BITRATE 1500
#define DEFAULT_RECONNECT TRUE
#define DEFAULT_MAX_RECONNECTS 10
#define DEFAULT_TRICKLE GST_DAYDREAM_WHIP_TRICKLE_AUTO
#define DEFAULT_POLICY GST_WEBRTC_ICE_TRANSPORT_POLICY_ALL
#define RTP_PAYLOAD 96
#define MAX_REDIRECTS 10
/* a mid-stream disconnection this long is treated as a failure */
#define DISCONNECT_GRACE_MS 3000
#define DEFAULT_PEER_TIMEOUT 10

typedef enum
{
  STATE_IDLE,
  STATE_CONNECTING,
  STATE_CONNECTED,
  STATE_RECONNECTING,
  STATE_FAILED,
  STATE_CLOSED,
} WhipState;

static const gchar *const state_names[] = {
  "idle", "connecting", "connected", "reconnecting", "failed", "closed"
};

struct _GstDaydreamWhipSink
{
  GstBin parent;

  GstPad *sinkpad;              /* ghost, targets input's sink */
  GstElement *input;            /* identity: where the chain starts */
  GstElement *encoder;          /* NULL for H.264 input */
  GstElement *chain_end;        /* capsfilter after the payloader */
  GstCaps *rtp_caps;            /* its caps, once they name the profile */

  GMutex lock;                  /* guards the settings and what follows */
  gchar *endpoint, *auth_token, *stun_server, *turn_servers;
  gchar *local_addresses, *video_encoder;
  gboolean use_link_headers, reconnect;
  GstWebRTCICETransportPolicy policy;
  GstDaydreamWhipTrickle trickle;
  guint timeout, bitrate, max_reconnects, peer_timeout;
  gchar *resource_url, *playback_url, *etag;
  GPtrArray *link_servers;      /* from Link headers, for later sessions */
  GstElement *webrtc;           /* the current session's */
  WhipState state;
  guint reconnects;
  guint64 frames;
  gint media_open;              /* atomic: the session is connected */

  /* HTTP thread only */
  DrtcHttp *http;
  guint gen;                    /* session generation */
  GSource *retry;
  GSource *grace;
  GSource *watchdog;
  GSource *connect_deadline;    /* answer applied, not connected yet */
  gint64 last_rx_us;            /* atomic: last packet from the peer */
  gboolean can_trickle, posted, stopping, waiting_endpoint;
  GPtrArray *pending_candidates;        /* "mline candidate" before 201 */
};

enum
{
  PROP_0,
  PROP_WHIP_ENDPOINT,
  PROP_AUTH_TOKEN,
  PROP_STUN_SERVER,
  PROP_TURN_SERVER,
  PROP_USE_LINK_HEADERS,
  PROP_ICE_TRANSPORT_POLICY,
  PROP_ICE_LOCAL_ADDRESSES,
  PROP_TIMEOUT,
  PROP_TRICKLE,
  PROP_VIDEO_ENCODER,
  PROP_BITRATE,
  PROP_RECONNECT,
  PROP_MAX_RECONNECTS,
  PROP_PEER_TIMEOUT,
  PROP_RESOURCE_URL,
  PROP_PLAYBACK_URL,
  PROP_STATS,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

enum
{
  SIGNAL_ENCODER_SETUP,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("video/x-raw; video/x-h264, "
        "stream-format = (string) { avc, avc3, byte-stream }, "
        "alignment = (string) { au, nal }"));

#define gst_daydream_whip_sink_parent_class parent_class
G_DEFINE_TYPE (GstDaydreamWhipSink, gst_daydream_whip_sink, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (whipsink, "whipsink", GST_RANK_NONE,
    GST_TYPE_DAYDREAM_WHIP_SINK,
    GST_DEBUG_CATEGORY_INIT (gst_daydream_whip_sink_debug, "whipsink", 0,
        "WHIP sink"));

#define GST_TYPE_DAYDREAM_WHIP_TRICKLE (trickle_get_type ())
static GType
trickle_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_DAYDREAM_WHIP_TRICKLE_AUTO,
          "Full offer after gathering; PATCH late candidates if accepted",
        "auto"},
    {GST_DAYDREAM_WHIP_TRICKLE_ON, "Offer at once, candidates by PATCH", "on"},
    {GST_DAYDREAM_WHIP_TRICKLE_OFF, "Full offer after gathering, no PATCH",
        "off"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstDaydreamWhipTrickle", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static void schedule_reconnect (GstDaydreamWhipSink * self,
    const gchar * reason);
static void start_connect_deadline (GstDaydreamWhipSink * self);
static gboolean on_endpoint_changed (gpointer data);
static void start_session (GstDaydreamWhipSink * self);

/* ---- state reporting ---- */

static void
set_state (GstDaydreamWhipSink * self, WhipState state, const gchar * detail)
{
  guint reconnects;

  g_mutex_lock (&self->lock);
  self->state = state;
  reconnects = self->reconnects;
  g_mutex_unlock (&self->lock);
  GST_INFO_OBJECT (self, "%s: %s", state_names[state], detail);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("whip-state", "state", G_TYPE_STRING,
              state_names[state], "detail", G_TYPE_STRING, detail,
              "reconnects", G_TYPE_UINT, reconnects, NULL)));
}

static void
set_string_prop (GstDaydreamWhipSink * self, gchar ** field, gchar * value,
    guint prop)
{
  g_mutex_lock (&self->lock);
  g_free (*field);
  *field = value;
  g_mutex_unlock (&self->lock);
  if (prop < N_PROPS)           /* N_PROPS: a field with no property */
    g_object_notify_by_pspec (G_OBJECT (self), props[prop]);
}

static gchar *
dup_locked (GstDaydreamWhipSink * self, gchar ** field)
{
  gchar *v;

  g_mutex_lock (&self->lock);
  v = g_strdup (*field);
  g_mutex_unlock (&self->lock);
  return v;
}

static GstElement *
current_webrtc (GstDaydreamWhipSink * self)
{
  GstElement *webrtc;

  g_mutex_lock (&self->lock);
  webrtc = self->webrtc ? gst_object_ref (self->webrtc) : NULL;
  g_mutex_unlock (&self->lock);
  return webrtc;
}

/* ---- the webrtcbin of a session ---- */

typedef struct
{
  GWeakRef self;
  guint gen;
} SessionRef;

static SessionRef *
session_ref_new (GstDaydreamWhipSink * self)
{
  SessionRef *ref = g_new0 (SessionRef, 1);

  g_weak_ref_init (&ref->self, self);
  ref->gen = self->gen;
  return ref;
}

static void
session_ref_free (gpointer data)
{
  SessionRef *ref = data;

  g_weak_ref_clear (&ref->self);
  g_free (ref);
}

/* The element, if @ref's session is still the current one (HTTP thread). */
static GstDaydreamWhipSink *
session_get (SessionRef * ref)
{
  GstDaydreamWhipSink *self = g_weak_ref_get (&ref->self);

  if (self && (ref->gen != self->gen || self->stopping)) {
    gst_object_unref (self);
    return NULL;
  }
  return self;
}

static gboolean
on_webrtc_caps_cb (gpointer data)
{
  GstDaydreamWhipSink *self = session_get (data);

  if (self) {
    start_session (self);
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
     * them from the transceiver's codec-preferences instead (start_session) */
    g_mutex_lock (&self->lock);
    gst_caps_replace (&self->rtp_caps, caps);
    g_mutex_unlock (&self->lock);
  }
  drtc_http_invoke (self->http, on_webrtc_caps_cb, session_ref_new (self),
      session_ref_free);
  gst_object_unref (self);
  return GST_PAD_PROBE_REMOVE;
}

static void weak_ref_free (gpointer data);

static gboolean
keep_field (GQuark field, GValue * value, gpointer data)
{
  return g_strv_contains (data, g_quark_to_string (field));
}

/* Links the end of the input chain to a new sink pad of @webrtc. */
static gboolean
link_to_webrtc (GstDaydreamWhipSink * self, GstElement * webrtc)
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
  ref = g_new0 (GWeakRef, 1);
  g_weak_ref_init (ref, self);
  gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      on_webrtc_sink_event, ref, weak_ref_free);
  return gst_pad_link (src, sink) == GST_PAD_LINK_OK;
}

static void
weak_ref_free (gpointer data)
{
  g_weak_ref_clear (data);
  g_free (data);
}

static void
weak_ref_closure_free (gpointer data, GClosure * closure)
{
  weak_ref_free (data);
}

static gboolean on_connection_state_cb (gpointer data);

typedef struct
{
  SessionRef *ref;
  GstWebRTCPeerConnectionState state;
} StateChange;

static void
state_change_free (gpointer data)
{
  StateChange *sc = data;

  session_ref_free (sc->ref);
  g_free (sc);
}

static void
on_connection_state (GstElement * webrtc, GParamSpec * pspec, gpointer data)
{
  GstDaydreamWhipSink *self = g_weak_ref_get (data);
  StateChange *sc;

  if (!self)
    return;
  sc = g_new0 (StateChange, 1);
  sc->ref = session_ref_new (self);
  sc->ref->gen = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (webrtc),
          "drtc-gen"));
  g_object_get (webrtc, "connection-state", &sc->state, NULL);
  drtc_http_invoke (self->http, on_connection_state_cb, sc, state_change_free);
  gst_object_unref (self);
}

static void on_ice_candidate (GstElement * webrtc, guint mline,
    const gchar * candidate, gpointer data);

/* A new webrtcbin for session @gen with the current settings. */
static GstElement *
make_webrtc (GstDaydreamWhipSink * self, guint gen)
{
  g_auto (GStrv) turn = NULL;
  g_auto (GStrv) local = NULL;
  DrtcWebrtcConfig cfg = { 0 };
  GstElement *webrtc;
  GWeakRef *ref;

  g_mutex_lock (&self->lock);
  turn = self->turn_servers ? g_strsplit (self->turn_servers, ",", -1) : NULL;
  local = self->local_addresses ?
      g_strsplit (self->local_addresses, ",", -1) : NULL;
  cfg.stun_server = self->stun_server;
  cfg.turn_servers = (const gchar * const *) turn;
  cfg.local_addresses = (const gchar * const *) local;
  cfg.latency_ms = 50;
  webrtc = drtc_webrtc_new (NULL, &cfg);
  if (webrtc) {
    g_object_set (webrtc, "ice-transport-policy", self->policy, NULL);
    for (guint i = 0; self->link_servers && i < self->link_servers->len; i++) {
      const gchar *url = g_ptr_array_index (self->link_servers, i);
      gboolean ok;

      if (g_str_has_prefix (url, "stun"))
        g_object_set (webrtc, "stun-server", url, NULL);
      else
        g_signal_emit_by_name (webrtc, "add-turn-server", url, &ok);
    }
  }
  g_mutex_unlock (&self->lock);
  if (!webrtc)
    return NULL;
  g_object_set_data (G_OBJECT (webrtc), "drtc-gen", GUINT_TO_POINTER (gen));
  ref = g_new0 (GWeakRef, 1);
  g_weak_ref_init (ref, self);
  g_signal_connect_data (webrtc, "notify::connection-state",
      G_CALLBACK (on_connection_state), ref, weak_ref_closure_free, 0);
  ref = g_new0 (GWeakRef, 1);
  g_weak_ref_init (ref, self);
  g_signal_connect_data (webrtc, "on-ice-candidate",
      G_CALLBACK (on_ice_candidate), ref, weak_ref_closure_free, 0);
  return webrtc;
}

/* ---- the input chain (built when the first caps arrive) ---- */

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
  g_autofree gchar *factory = dup_locked (self, &self->video_encoder);
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
  g_signal_emit (self, signals[SIGNAL_ENCODER_SETUP], 0, encoder);
  gst_bin_add (GST_BIN (self), encoder);
  gst_object_unref (encoder);   /* the bin's now */
  return encoder;
}

static void clear_source (GSource ** source);

/* HTTP thread: after the end of the stream there is nothing to reconnect
 * for; the session stays until PAUSED->READY DELETEs it. */
static gboolean
on_end_of_stream (gpointer data)
{
  GstDaydreamWhipSink *self = g_weak_ref_get (data);

  if (!self)
    return G_SOURCE_REMOVE;
  self->stopping = TRUE;
  clear_source (&self->retry);
  clear_source (&self->grace);
  clear_source (&self->watchdog);
  clear_source (&self->connect_deadline);
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
  ref = g_new0 (GWeakRef, 1);
  g_weak_ref_init (ref, self);
  drtc_http_invoke (self->http, on_end_of_stream, ref, weak_ref_free);
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

/* Streaming thread, first caps: raw video is converted and encoded, H.264
 * is parsed; then payloaded and linked into the session's webrtcbin. */
static gboolean
build_chain (GstDaydreamWhipSink * self, GstCaps * caps)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);
  gboolean raw = gst_structure_has_name (s, "video/x-raw");
  GstElement *convert = NULL, *raw_filter = NULL, *enc_filter = NULL;
  GstElement *fast_convert = NULL;
  GstElement *parse, *pay, *rtp_filter;
  g_autoptr (GstCaps) i420 = gst_caps_from_string ("video/x-raw,format=I420");
  g_autoptr (GstCaps) h264 = gst_caps_from_string ("video/x-h264,"
      "stream-format=byte-stream,alignment=au,"
      "profile=(string){constrained-baseline,baseline}");
  g_autoptr (GstCaps) rtp = gst_caps_new_simple ("application/x-rtp",
      "media", G_TYPE_STRING, "video", "encoding-name", G_TYPE_STRING, "H264",
      "payload", G_TYPE_INT, RTP_PAYLOAD, "clock-rate", G_TYPE_INT, 90000,
      NULL);
  g_autoptr (GstElement) webrtc = NULL;
  g_autoptr (GstPad) probe_pad = NULL;
  GstElement *first, *last;

  if (raw) {
    if (!(convert = add_element (self, "videoconvert"))
        || !(raw_filter = add_element (self, "capsfilter"))
        || !(self->encoder = make_encoder (self, s))
        || !(enc_filter = add_element (self, "capsfilter")))
      return FALSE;
    g_object_set (raw_filter, "caps", i420, NULL);
    g_object_set (enc_filter, "caps", h264, NULL);
#ifdef HAVE_LIBYUV
    /* packed RGB becomes I420 here, 20x faster than in videoconvert, which
     * then passes it through (and still converts any other format) */
    fast_convert = g_object_new (DRTC_TYPE_I420_CONVERT, NULL);
    gst_bin_add (GST_BIN (self), fast_convert);
    if (!gst_element_link (fast_convert, convert))
      return FALSE;
#endif
  }
  if (!(parse = add_element (self, "h264parse"))
      || !(pay = add_element (self, "rtph264pay"))
      || !(rtp_filter = add_element (self, "capsfilter")))
    return FALSE;
  g_object_set (parse, "config-interval", -1, NULL);
  g_object_set (pay, "config-interval", -1, "aggregate-mode", 1 /* zero
                                                                   latency */ ,
      "pt", RTP_PAYLOAD, NULL);
  g_object_set (rtp_filter, "caps", rtp, NULL);
  self->chain_end = rtp_filter;
  first = fast_convert ? fast_convert : raw ? convert : parse;
  last = rtp_filter;
  if (raw && !gst_element_link_many (convert, raw_filter, self->encoder,
          enc_filter, parse, NULL))
    return FALSE;
  if (!gst_element_link_many (parse, pay, rtp_filter, NULL))
    return FALSE;
  {
    g_autoptr (GstPad) end = gst_element_get_static_pad (rtp_filter, "src");

    gst_pad_add_probe (end, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
        on_chain_end_event, self, NULL);
    gst_pad_add_probe (end, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_BUFFER_LIST, on_chain_output, self, NULL);
  }
  probe_pad = gst_element_get_static_pad (pay, "sink");
  gst_pad_add_probe (probe_pad, GST_PAD_PROBE_TYPE_BUFFER, on_encoded_frame,
      self, NULL);
  webrtc = current_webrtc (self);
  if (!webrtc || !link_to_webrtc (self, webrtc)) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Could not link the encoded stream to webrtcbin"), (NULL));
    return FALSE;
  }
  for (GstElement * e = last;;) {
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

static GstPadProbeReturn
on_input_event (GstPad * pad, GstPadProbeInfo * info, gpointer data)
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

/* ---- negotiation (HTTP thread) ---- */

static void
fail (GstDaydreamWhipSink * self, const gchar * detail)
{
  set_state (self, STATE_FAILED, detail);
}

static void
on_set_remote (GstPromise * promise, gpointer data)
{
  GstDaydreamWhipSink *self = session_get (data);
  g_autoptr (GError) err = NULL;

  if (!self)
    return;
  /* not replied at all: the session is being torn down, no error */
  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED) {
  } else if (!drtc_promise_reply (promise, NULL, &err)) {
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED,
        ("The WHIP endpoint's answer was not accepted"), ("%s", err->message));
    fail (self, "answer not accepted");
  } else {
    start_connect_deadline (self);
  }
  gst_object_unref (self);
}

static void send_trickle (GstDaydreamWhipSink * self, gboolean end);

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
  g_autoptr (GstElement) webrtc = current_webrtc (self);
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
    fail (self, "bad answer");
    return;
  }
  set_string_prop (self, &self->resource_url,
      drtc_http_resolve (response->uri, location), PROP_RESOURCE_URL);
  set_string_prop (self, &self->etag, g_strdup (etag), N_PROPS);
  if (playback)
    set_string_prop (self, &self->playback_url, g_strdup (playback),
        PROP_PLAYBACK_URL);
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
      on_set_remote, session_ref_new (self), session_ref_free);
  g_signal_emit_by_name (webrtc, "set-remote-description", desc, promise);
  gst_promise_unref (promise);
  gst_webrtc_session_description_free (desc);
  self->posted = TRUE;
  send_trickle (self, FALSE);
}

static void
on_post_response (DrtcHttpResponse * response, const GError * error,
    gpointer data)
{
  GstDaydreamWhipSink *self = session_get (data);
  g_autofree gchar *excerpt = NULL;
  g_autofree gchar *reason = NULL;

  if (!self)
    return;
  if (!response) {
    reason = g_strdup_printf ("POST failed: %s", error->message);
    schedule_reconnect (self, reason);
  } else if (response->status >= 200 && response->status < 300) {
    handle_created (self, response);
  } else if (response->status >= 500 || response->status == 408
      || response->status == 429) {
    reason = g_strdup_printf ("the WHIP endpoint answered %u",
        response->status);
    schedule_reconnect (self, reason);
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
    fail (self, "offer rejected");
  }
  gst_object_unref (self);
}

static void
post_offer (GstDaydreamWhipSink * self, GstElement * webrtc)
{
  g_autofree gchar *sdp = drtc_webrtc_local_sdp (webrtc);
  g_autofree gchar *url = dup_locked (self, &self->endpoint);
  g_autofree gchar *token = dup_locked (self, &self->auth_token);
  g_autofree gchar *host = drtc_http_redact_url (url);
  g_autoptr (GBytes) body = NULL;
  DrtcHttpRequest req = { 0 };
  gboolean trickle_all;
  gsize len;

  if (!sdp) {
    schedule_reconnect (self, "no local description");
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
    set_state (self, STATE_CONNECTING, "waiting for whip-endpoint");
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
  drtc_http_send (self->http, &req, on_post_response, session_ref_new (self),
      session_ref_free);
}

static void
on_gathered (GstElement * webrtc, gboolean complete, gpointer data)
{
  GstDaydreamWhipSink *self = session_get (data);

  if (!self)
    return;
  if (!complete)
    GST_INFO_OBJECT (self, "ICE gathering not complete after the timeout: "
        "sending the candidates found so far");
  post_offer (self, webrtc);
  gst_object_unref (self);
}

/* The offer is in place: send it now (trickle=on) or once gathered. */
static void
on_local_set (GstPromise * promise, gpointer data)
{
  GstDaydreamWhipSink *self = session_get (data);
  g_autoptr (GstElement) webrtc = NULL;
  GstDaydreamWhipTrickle trickle;
  guint timeout;

  if (!self)
    return;
  webrtc = current_webrtc (self);
  g_mutex_lock (&self->lock);
  trickle = self->trickle;
  timeout = self->timeout;
  g_mutex_unlock (&self->lock);
  if (!webrtc) {
    gst_object_unref (self);
    return;
  }
  if (trickle == GST_DAYDREAM_WHIP_TRICKLE_ON)
    post_offer (self, webrtc);
  else
    drtc_webrtc_when_gathered (webrtc, drtc_http_get_context (self->http),
        MIN (timeout, 5) * 1000, on_gathered, session_ref_new (self),
        session_ref_free);
  gst_object_unref (self);
}

static void
on_offer_created (GstPromise * promise, gpointer data)
{
  GstDaydreamWhipSink *self = session_get (data);
  GstWebRTCSessionDescription *offer;
  g_autoptr (GstElement) webrtc = NULL;
  g_autoptr (GError) err = NULL;
  GstPromise *next;

  if (!self)
    return;
  webrtc = current_webrtc (self);
  offer = drtc_promise_description (promise, "offer", &err);
  if (!offer || !webrtc) {
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED,
        ("webrtcbin could not create an offer"),
        ("%s", err ? err->message : "webrtcbin is gone"));
    if (offer)
      gst_webrtc_session_description_free (offer);
    fail (self, "no offer");
    gst_object_unref (self);
    return;
  }
  next = drtc_promise_new (drtc_http_get_context (self->http), on_local_set,
      session_ref_new (self), session_ref_free);
  g_signal_emit_by_name (webrtc, "set-local-description", offer, next);
  gst_promise_unref (next);
  gst_webrtc_session_description_free (offer);
  gst_object_unref (self);
}

/* HTTP thread: the pad has caps, make the offer */
/* The offer names exactly what the payloader sends (profile-level-id,
 * packetization-mode): webrtcbin alone would only know it once the caps
 * event has reached it, which races with the offer. */
static void
set_codec_preferences (GstDaydreamWhipSink * self, GstElement * webrtc)
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

static void
start_session (GstDaydreamWhipSink * self)
{
  g_autoptr (GstElement) webrtc = current_webrtc (self);
  GstPromise *promise;

  if (!webrtc)
    return;
  set_codec_preferences (self, webrtc);
  set_state (self, self->reconnects ? STATE_RECONNECTING : STATE_CONNECTING,
      "sending the offer");
  self->posted = FALSE;
  self->can_trickle = FALSE;
  g_ptr_array_set_size (self->pending_candidates, 0);
  promise = drtc_promise_new (drtc_http_get_context (self->http),
      on_offer_created, session_ref_new (self), session_ref_free);
  g_signal_emit_by_name (webrtc, "create-offer", NULL, promise);
  gst_promise_unref (promise);
}

/* ---- trickle (RFC 8840 fragments by PATCH) ---- */

typedef struct
{
  SessionRef *ref;
  guint mline;
  gchar *candidate;
} Candidate;

static void
candidate_free (gpointer data)
{
  Candidate *c = data;

  session_ref_free (c->ref);
  g_free (c->candidate);
  g_free (c);
}

static void
on_patch_response (DrtcHttpResponse * response, const GError * error,
    gpointer data)
{
  GstDaydreamWhipSink *self = session_get (data);

  if (!self)
    return;
  if (response && response->status == 405) {
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
        ("The WHIP endpoint does not accept trickled candidates"),
        ("PATCH answered 405; use trickle=auto or off with this server"));
    self->can_trickle = FALSE;
  } else if (!response || response->status >= 300) {
    GST_WARNING_OBJECT (self, "PATCH failed: %s", response ?
        soup_status_get_phrase (response->status) : error->message);
  }
  gst_object_unref (self);
}

/* Sends the queued candidates (and end-of-candidates when @end). */
static void
send_trickle (GstDaydreamWhipSink * self, gboolean end)
{
  g_autofree gchar *url = dup_locked (self, &self->resource_url);
  g_autofree gchar *token = dup_locked (self, &self->auth_token);
  g_autofree gchar *etag = dup_locked (self, &self->etag);
  GString *frag;
  DrtcHttpRequest req = { 0 };
  g_autoptr (GBytes) body = NULL;
  gsize len;

  if (!self->posted || !self->can_trickle || !url
      || (self->pending_candidates->len == 0 && !end))
    return;
  frag = g_string_new (NULL);
  for (guint i = 0; i < self->pending_candidates->len; i++)
    g_string_append_printf (frag, "a=%s\r\n",
        (gchar *) g_ptr_array_index (self->pending_candidates, i));
  if (end)
    g_string_append (frag, "a=end-of-candidates\r\n");
  g_ptr_array_set_size (self->pending_candidates, 0);
  len = frag->len;
  body = g_bytes_new_take (g_string_free (frag, FALSE), len);
  req.method = "PATCH";
  req.url = url;
  req.bearer = token;
  req.content_type = "application/trickle-ice-sdpfrag";
  req.body = body;
  req.if_match = etag;
  req.timeout_s = self->timeout;
  req.max_redirects = 0;
  drtc_http_send (self->http, &req, on_patch_response, session_ref_new (self),
      session_ref_free);
}

static gboolean
on_candidate_cb (gpointer data)
{
  Candidate *c = data;
  GstDaydreamWhipSink *self = session_get (c->ref);
  GstDaydreamWhipTrickle trickle;

  if (!self)
    return G_SOURCE_REMOVE;
  g_mutex_lock (&self->lock);
  trickle = self->trickle;
  g_mutex_unlock (&self->lock);
  /* in auto mode only what came after the offer left is trickled */
  if (trickle == GST_DAYDREAM_WHIP_TRICKLE_ON
      || (trickle == GST_DAYDREAM_WHIP_TRICKLE_AUTO && self->posted)) {
    if (c->candidate && *c->candidate)
      g_ptr_array_add (self->pending_candidates, g_strdup (c->candidate));
    send_trickle (self, !c->candidate || !*c->candidate);
  }
  gst_object_unref (self);
  return G_SOURCE_REMOVE;
}

static void
on_ice_candidate (GstElement * webrtc, guint mline, const gchar * candidate,
    gpointer data)
{
  GstDaydreamWhipSink *self = g_weak_ref_get (data);
  Candidate *c;

  if (!self)
    return;
  c = g_new0 (Candidate, 1);
  c->ref = session_ref_new (self);
  c->ref->gen = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (webrtc),
          "drtc-gen"));
  c->mline = mline;
  c->candidate = g_strdup (candidate);
  drtc_http_invoke (self->http, on_candidate_cb, c, candidate_free);
  gst_object_unref (self);
}

/* ---- connection state, reconnection (HTTP thread) ---- */

static gboolean
on_connect_deadline (gpointer data)
{
  GstDaydreamWhipSink *self = session_get (data);
  g_autofree gchar *reason = NULL;

  if (self) {
    g_clear_pointer (&self->connect_deadline, g_source_unref);
    reason = g_strdup_printf ("ICE/DTLS did not connect within %u s",
        self->timeout);
    schedule_reconnect (self, reason);
    gst_object_unref (self);
  }
  return G_SOURCE_REMOVE;
}

/* The answer is applied: ICE and DTLS get `timeout` seconds, since a peer
 * that never answers a check (or a DTLS handshake) leaves webrtcbin
 * "connecting" for as long as it likes. */
static void
start_connect_deadline (GstDaydreamWhipSink * self)
{
  guint timeout;

  g_mutex_lock (&self->lock);
  timeout = MAX (self->timeout, 1);
  g_mutex_unlock (&self->lock);
  clear_source (&self->connect_deadline);
  self->connect_deadline = g_timeout_source_new_seconds (timeout);
  g_source_set_callback (self->connect_deadline, on_connect_deadline,
      session_ref_new (self), session_ref_free);
  g_source_attach (self->connect_deadline, drtc_http_get_context (self->http));
}

static gboolean
on_grace_over (gpointer data)
{
  GstDaydreamWhipSink *self = session_get (data);

  if (self) {
    g_clear_pointer (&self->grace, g_source_unref);
    schedule_reconnect (self, "connection lost");
    gst_object_unref (self);
  }
  return G_SOURCE_REMOVE;
}

static void
clear_source (GSource ** source)
{
  if (*source) {
    g_source_destroy (*source);
    g_source_unref (*source);
    *source = NULL;
  }
}

static GstPadProbeReturn
on_peer_packet (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstDaydreamWhipSink *self = data;

  __atomic_store_n (&self->last_rx_us, g_get_monotonic_time (),
      __ATOMIC_RELAXED);
  return GST_PAD_PROBE_OK;
}

/* Every packet the peer sends (RTCP, STUN) passes a nicesrc inside
 * webrtcbin: count them, since libnice notices a vanished peer only after
 * tens of seconds. */
static void
watch_peer_packets (GstDaydreamWhipSink * self, GstElement * webrtc)
{
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (webrtc));
  GValue item = G_VALUE_INIT;

  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&item);
    GstElementFactory *f = gst_element_get_factory (e);

    if (f && g_str_equal (GST_OBJECT_NAME (f), "nicesrc")) {
      g_autoptr (GstPad) pad = gst_element_get_static_pad (e, "src");

      gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
          GST_PAD_PROBE_TYPE_BUFFER_LIST, on_peer_packet, self, NULL);
    }
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
}

static gboolean
on_watchdog (gpointer data)
{
  GstDaydreamWhipSink *self = session_get (data);
  gint64 idle_us;
  guint limit;

  if (!self)
    return G_SOURCE_REMOVE;
  g_mutex_lock (&self->lock);
  limit = self->peer_timeout;
  g_mutex_unlock (&self->lock);
  idle_us = g_get_monotonic_time () - __atomic_load_n (&self->last_rx_us,
      __ATOMIC_RELAXED);
  if (limit && idle_us > (gint64) limit * G_USEC_PER_SEC) {
    g_autofree gchar *reason = g_strdup_printf ("nothing from the peer for "
        "%u s", limit);

    clear_source (&self->watchdog);
    schedule_reconnect (self, reason);
  }
  gst_object_unref (self);
  return G_SOURCE_CONTINUE;
}

static void
start_watchdog (GstDaydreamWhipSink * self)
{
  g_autoptr (GstElement) webrtc = current_webrtc (self);

  __atomic_store_n (&self->last_rx_us, g_get_monotonic_time (),
      __ATOMIC_RELAXED);
  clear_source (&self->watchdog);
  if (!webrtc)
    return;
  watch_peer_packets (self, webrtc);
  self->watchdog = g_timeout_source_new (1000);
  g_source_set_callback (self->watchdog, on_watchdog, session_ref_new (self),
      session_ref_free);
  g_source_attach (self->watchdog, drtc_http_get_context (self->http));
}

static gboolean
on_connection_state_cb (gpointer data)
{
  StateChange *sc = data;
  GstDaydreamWhipSink *self = session_get (sc->ref);

  if (!self)
    return G_SOURCE_REMOVE;
  GST_DEBUG_OBJECT (self, "peer connection %s",
      drtc_webrtc_state_name (sc->state));
  switch (sc->state) {
    case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED:{
      g_autoptr (GstPad) pad = self->encoder ?
          gst_element_get_static_pad (self->encoder, "src") : NULL;

      clear_source (&self->grace);
      clear_source (&self->connect_deadline);
      g_mutex_lock (&self->lock);
      self->reconnects = 0;
      g_mutex_unlock (&self->lock);
      g_atomic_int_set (&self->media_open, TRUE);
      set_state (self, STATE_CONNECTED, "media flowing");
      start_watchdog (self);
      /* start the receiver with a keyframe */
      if (pad)
        gst_pad_send_event (pad, gst_video_event_new_upstream_force_key_unit
            (GST_CLOCK_TIME_NONE, TRUE, 0));
      break;
    }
    case GST_WEBRTC_PEER_CONNECTION_STATE_DISCONNECTED:
      if (!self->grace) {
        self->grace = g_timeout_source_new (DISCONNECT_GRACE_MS);
        g_source_set_callback (self->grace, on_grace_over,
            session_ref_new (self), session_ref_free);
        g_source_attach (self->grace, drtc_http_get_context (self->http));
      }
      break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_FAILED:
    case GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED:
      schedule_reconnect (self, "peer connection failed");
      break;
    default:
      break;
  }
  gst_object_unref (self);
  return G_SOURCE_REMOVE;
}

/* Best effort; @wait blocks the caller (not the HTTP thread) until the
 * answer or the timeout. */
static void
delete_resource (GstDaydreamWhipSink * self, gboolean wait)
{
  g_autofree gchar *url = NULL;
  g_autofree gchar *token = dup_locked (self, &self->auth_token);
  DrtcHttpRequest req = { 0 };

  g_mutex_lock (&self->lock);
  url = g_steal_pointer (&self->resource_url);
  g_mutex_unlock (&self->lock);
  if (!url || !self->http)
    return;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RESOURCE_URL]);
  req.method = "DELETE";
  req.url = url;
  req.bearer = token;
  req.timeout_s = self->timeout;
  if (!wait)
    drtc_http_send (self->http, &req, NULL, NULL, NULL);
  else if (!drtc_http_send_and_wait (self->http, &req, MAX (self->timeout, 1),
          NULL))
    GST_INFO_OBJECT (self, "no answer to DELETE within %u s", self->timeout);
}

static gpointer
dispose_webrtc (gpointer data)
{
  GstElement *webrtc = data;
  GstObject *parent = gst_object_get_parent (GST_OBJECT (webrtc));

  gst_element_set_locked_state (webrtc, TRUE);
  gst_element_set_state (webrtc, GST_STATE_NULL);
  if (parent) {
    gst_bin_remove (GST_BIN (parent), webrtc);
    gst_object_unref (parent);
  }
  gst_object_unref (webrtc);
  return NULL;
}

typedef struct
{
  GstDaydreamWhipSink *self;
  GstElement *old, *new_webrtc;
} Swap;

static GstPadProbeReturn
on_chain_idle (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Swap *swap = data;
  GstPad *peer = gst_pad_get_peer (pad);

  if (peer) {
    gst_pad_unlink (pad, peer);
    gst_element_release_request_pad (swap->old, peer);
    gst_object_unref (peer);
  }
  if (!link_to_webrtc (swap->self, swap->new_webrtc))
    GST_ELEMENT_ERROR (swap->self, CORE, NEGOTIATION,
        ("Could not link the stream to the new connection"), (NULL));
  g_thread_unref (g_thread_new ("whipsink-teardown", dispose_webrtc,
          swap->old));
  gst_object_unref (swap->new_webrtc);
  g_free (swap);
  return GST_PAD_PROBE_REMOVE;
}

static gboolean
on_retry (gpointer data)
{
  GstDaydreamWhipSink *self = g_weak_ref_get (data);
  GstElement *webrtc, *old;
  Swap *swap;
  g_autoptr (GstPad) src = NULL;

  if (!self)
    return G_SOURCE_REMOVE;
  g_clear_pointer (&self->retry, g_source_unref);
  if (self->stopping) {
    gst_object_unref (self);
    return G_SOURCE_REMOVE;
  }
  self->gen++;
  webrtc = make_webrtc (self, self->gen);
  gst_bin_add (GST_BIN (self), webrtc);
  gst_element_sync_state_with_parent (webrtc);
  g_mutex_lock (&self->lock);
  old = self->webrtc;
  self->webrtc = gst_object_ref (webrtc);
  g_mutex_unlock (&self->lock);
  if (!self->chain_end) {
    /* no media yet: the new webrtcbin waits for the first caps */
    g_thread_unref (g_thread_new ("whipsink-teardown", dispose_webrtc, old));
    gst_object_unref (self);
    return G_SOURCE_REMOVE;
  }
  swap = g_new0 (Swap, 1);
  swap->self = self;
  swap->old = old;
  swap->new_webrtc = gst_object_ref (webrtc);
  src = gst_element_get_static_pad (self->chain_end, "src");
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_IDLE, on_chain_idle, swap, NULL);
  gst_object_unref (self);
  return G_SOURCE_REMOVE;
}

/* Drops the session; unless reconnecting is off or used up, a new one
 * follows after an exponential backoff (0.5 s, 1 s, 2 s ... 10 s). A restart
 * (a new endpoint) follows at once and counts as no failure. */
static void
reconnect_after (GstDaydreamWhipSink * self, const gchar * reason,
    gboolean restart)
{
  gboolean allowed;
  guint attempt, max;
  guint delay_ms;
  GWeakRef *ref;
  g_autofree gchar *detail = NULL;

  if (self->retry || self->stopping)
    return;
  g_atomic_int_set (&self->media_open, FALSE);
  clear_source (&self->grace);
  clear_source (&self->watchdog);
  clear_source (&self->connect_deadline);
  g_mutex_lock (&self->lock);
  allowed = self->reconnect || restart;
  max = self->max_reconnects;
  attempt = restart ? 1 : ++self->reconnects;
  g_mutex_unlock (&self->lock);
  self->gen++;                  /* answers for the old session are stale */
  delete_resource (self, FALSE);
  if (!restart && (!allowed || attempt > max)) {
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
        ("WHIP session lost: %s", reason),
        ("%s", allowed ? "no reconnect attempts left" : "reconnect=false"));
    fail (self, reason);
    return;
  }
  delay_ms = restart ? 0 : MIN (500u << MIN (attempt - 1, 5u), 10000u);
  delay_ms += restart ? 0 : g_random_int_range (0, delay_ms / 4 + 1);
  detail = g_strdup_printf ("%s; attempt %u of %u in %u ms", reason, attempt,
      max, delay_ms);
  set_state (self, STATE_RECONNECTING, detail);
  ref = g_new0 (GWeakRef, 1);
  g_weak_ref_init (ref, self);
  self->retry = g_timeout_source_new (delay_ms);
  g_source_set_callback (self->retry, on_retry, ref, weak_ref_free);
  g_source_attach (self->retry, drtc_http_get_context (self->http));
}

static void
schedule_reconnect (GstDaydreamWhipSink * self, const gchar * reason)
{
  reconnect_after (self, reason, FALSE);
}

/* HTTP thread: whip-endpoint changed while running */
static gboolean
on_endpoint_changed (gpointer data)
{
  GstDaydreamWhipSink *self = g_weak_ref_get (data);
  g_autoptr (GstElement) webrtc = NULL;

  if (!self)
    return G_SOURCE_REMOVE;
  if (self->waiting_endpoint && (webrtc = current_webrtc (self)))
    post_offer (self, webrtc);
  else if (self->posted)
    reconnect_after (self, "new whip-endpoint", TRUE);
  gst_object_unref (self);
  return G_SOURCE_REMOVE;
}

/* ---- stats ---- */

static gboolean
copy_rtp_stats (GQuark field, const GValue * value, gpointer data)
{
  GstStructure *out = data;
  const GstStructure *s;
  GstWebRTCStatsType type;

  if (!GST_VALUE_HOLDS_STRUCTURE (value))
    return TRUE;
  s = gst_value_get_structure (value);
  if (!gst_structure_get (s, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, NULL))
    return TRUE;
  if (type == GST_WEBRTC_STATS_OUTBOUND_RTP) {
    guint64 packets = 0, bytes = 0;

    gst_structure_get_uint64 (s, "packets-sent", &packets);
    gst_structure_get_uint64 (s, "bytes-sent", &bytes);
    gst_structure_set (out, "packets-sent", G_TYPE_UINT64, packets,
        "bytes-sent", G_TYPE_UINT64, bytes, NULL);
  } else if (type == GST_WEBRTC_STATS_REMOTE_INBOUND_RTP) {
    gdouble rtt = 0, jitter = 0;
    gint64 lost = 0;

    gst_structure_get_double (s, "round-trip-time", &rtt);
    gst_structure_get_double (s, "jitter", &jitter);
    gst_structure_get_int64 (s, "packets-lost", &lost);
    gst_structure_set (out, "round-trip-time", G_TYPE_DOUBLE, rtt,
        "jitter", G_TYPE_DOUBLE, jitter, "packets-lost", G_TYPE_INT64, lost,
        NULL);
  }
  return TRUE;
}

static GstStructure *
make_stats (GstDaydreamWhipSink * self)
{
  g_autoptr (GstElement) webrtc = current_webrtc (self);
  GstStructure *out;

  g_mutex_lock (&self->lock);
  out = gst_structure_new ("whipsink-stats",
      "state", G_TYPE_STRING, state_names[self->state],
      "reconnects", G_TYPE_UINT, self->reconnects,
      "frames-sent", G_TYPE_UINT64, self->frames,
      "packets-sent", G_TYPE_UINT64, (guint64) 0,
      "bytes-sent", G_TYPE_UINT64, (guint64) 0,
      "round-trip-time", G_TYPE_DOUBLE, 0.0, NULL);
  g_mutex_unlock (&self->lock);
  if (webrtc && GST_STATE (webrtc) >= GST_STATE_READY) {
    GstPromise *promise = gst_promise_new ();

    g_signal_emit_by_name (webrtc, "get-stats", NULL, promise);
    if (gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED
        && gst_promise_get_reply (promise))
      gst_structure_foreach (gst_promise_get_reply (promise), copy_rtp_stats,
          out);
    gst_promise_unref (promise);
  }
  return out;
}

/* ---- state changes ---- */

static gboolean
validate_endpoint (GstDaydreamWhipSink * self)
{
  g_autofree gchar *url = dup_locked (self, &self->endpoint);
  g_autoptr (GUri) uri = url ? g_uri_parse (url, G_URI_FLAGS_NONE, NULL) : NULL;

  if ((!url || !*url)
      && gst_daydream_control_is_managing (GST_ELEMENT (self)))
    return TRUE;                /* it will set one */
  if (!url || !*url) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("No WHIP endpoint: set whip-endpoint"), (NULL));
    return FALSE;
  }
  if (!drtc_http_uri_is_http (uri)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("whip-endpoint must be an http(s) URL"), (NULL));
    return FALSE;
  }
  return TRUE;
}

static gpointer
ref_object (gconstpointer src, gpointer data)
{
  return gst_object_ref ((gpointer) src);
}

static void
remove_children (GstDaydreamWhipSink * self)
{
  GList *children, *l;

  GST_OBJECT_LOCK (self);
  children = g_list_copy_deep (GST_BIN_CHILDREN (self), ref_object, NULL);
  GST_OBJECT_UNLOCK (self);
  for (l = children; l; l = l->next) {
    if (l->data != (gpointer) self->input) {
      gst_element_set_state (l->data, GST_STATE_NULL);
      gst_bin_remove (GST_BIN (self), l->data);
    }
  }
  g_list_free_full (children, gst_object_unref);
  self->encoder = NULL;
  self->chain_end = NULL;
  g_mutex_lock (&self->lock);
  gst_clear_caps (&self->rtp_caps);
  g_mutex_unlock (&self->lock);
  g_mutex_lock (&self->lock);
  gst_clear_object (&self->webrtc);
  g_mutex_unlock (&self->lock);
}

static GstStateChangeReturn
gst_daydream_whip_sink_change_state (GstElement * element,
    GstStateChange transition)
{
  GstDaydreamWhipSink *self = GST_DAYDREAM_WHIP_SINK (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:{
      GstElement *webrtc;
      DrtcHttp *http;

      if (!validate_endpoint (self))
        return GST_STATE_CHANGE_FAILURE;
      http = drtc_http_new ("whipsink-http");
      g_mutex_lock (&self->lock);
      self->http = http;
      g_mutex_unlock (&self->lock);
      self->stopping = FALSE;
      self->gen = 1;
      self->reconnects = 0;
      self->frames = 0;
      webrtc = make_webrtc (self, self->gen);
      if (!webrtc) {
        GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
            ("webrtcbin is missing (gstreamer1.0-plugins-bad)"), (NULL));
        return GST_STATE_CHANGE_FAILURE;
      }
      gst_bin_add (GST_BIN (self), webrtc);
      g_mutex_lock (&self->lock);
      self->webrtc = gst_object_ref (webrtc);
      self->state = STATE_IDLE;
      g_mutex_unlock (&self->lock);
      break;
    }
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* no new session from here on; in-flight requests are cancelled
       * before the children stop */
      self->stopping = TRUE;
      clear_source (&self->retry);
      clear_source (&self->grace);
      clear_source (&self->watchdog);
      clear_source (&self->connect_deadline);
      g_atomic_int_set (&self->media_open, FALSE);
      drtc_http_cancel_all (self->http);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      delete_resource (self, TRUE);
      set_state (self, STATE_CLOSED, "stopped");
      break;
    case GST_STATE_CHANGE_READY_TO_NULL:{
      DrtcHttp *http;

      g_mutex_lock (&self->lock);
      http = g_steal_pointer (&self->http);
      g_mutex_unlock (&self->lock);
      drtc_http_free (http);
      remove_children (self);
      break;
    }
    default:
      break;
  }
  return ret;
}

/* ---- properties ---- */

static void
gst_daydream_whip_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstDaydreamWhipSink *self = GST_DAYDREAM_WHIP_SINK (object);

  if ((pspec->flags & GST_PARAM_MUTABLE_READY)
      && GST_STATE (self) > GST_STATE_READY) {
    GST_WARNING_OBJECT (self, "'%s' can only change in the NULL or READY "
        "state", pspec->name);
    return;
  }
  if (prop_id == PROP_WHIP_ENDPOINT) {
    gboolean changed;
    DrtcHttp *http;

    g_mutex_lock (&self->lock);
    changed = g_strcmp0 (self->endpoint, g_value_get_string (value)) != 0;
    g_free (self->endpoint);
    self->endpoint = g_value_dup_string (value);
    http = self->http;
    g_mutex_unlock (&self->lock);
    if (changed && http && GST_STATE (self) >= GST_STATE_READY) {
      GWeakRef *ref = g_new0 (GWeakRef, 1);

      g_weak_ref_init (ref, self);
      drtc_http_invoke (http, on_endpoint_changed, ref, weak_ref_free);
    }
    return;
  }
  g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_AUTH_TOKEN:
      g_free (self->auth_token);
      self->auth_token = g_value_dup_string (value);
      break;
    case PROP_STUN_SERVER:
      g_free (self->stun_server);
      self->stun_server = g_value_dup_string (value);
      break;
    case PROP_TURN_SERVER:
      g_free (self->turn_servers);
      self->turn_servers = g_value_dup_string (value);
      break;
    case PROP_USE_LINK_HEADERS:
      self->use_link_headers = g_value_get_boolean (value);
      break;
    case PROP_ICE_TRANSPORT_POLICY:
      self->policy = g_value_get_enum (value);
      break;
    case PROP_ICE_LOCAL_ADDRESSES:
      g_free (self->local_addresses);
      self->local_addresses = g_value_dup_string (value);
      break;
    case PROP_TIMEOUT:
      self->timeout = g_value_get_uint (value);
      break;
    case PROP_TRICKLE:
      self->trickle = g_value_get_enum (value);
      break;
    case PROP_VIDEO_ENCODER:
      g_free (self->video_encoder);
      self->video_encoder = g_value_dup_string (value);
      break;
    case PROP_BITRATE:
      self->bitrate = g_value_get_uint (value);
      break;
    case PROP_RECONNECT:
      self->reconnect = g_value_get_boolean (value);
      break;
    case PROP_MAX_RECONNECTS:
      self->max_reconnects = g_value_get_uint (value);
      break;
    case PROP_PEER_TIMEOUT:
      self->peer_timeout = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&self->lock);
}

static void
gst_daydream_whip_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstDaydreamWhipSink *self = GST_DAYDREAM_WHIP_SINK (object);

  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, make_stats (self));
    return;
  }
  g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_WHIP_ENDPOINT:
      g_value_set_string (value, self->endpoint);
      break;
    case PROP_STUN_SERVER:
      g_value_set_string (value, self->stun_server);
      break;
    case PROP_TURN_SERVER:
      g_value_set_string (value, self->turn_servers);
      break;
    case PROP_USE_LINK_HEADERS:
      g_value_set_boolean (value, self->use_link_headers);
      break;
    case PROP_ICE_TRANSPORT_POLICY:
      g_value_set_enum (value, self->policy);
      break;
    case PROP_ICE_LOCAL_ADDRESSES:
      g_value_set_string (value, self->local_addresses);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint (value, self->timeout);
      break;
    case PROP_TRICKLE:
      g_value_set_enum (value, self->trickle);
      break;
    case PROP_VIDEO_ENCODER:
      g_value_set_string (value, self->video_encoder);
      break;
    case PROP_BITRATE:
      g_value_set_uint (value, self->bitrate);
      break;
    case PROP_RECONNECT:
      g_value_set_boolean (value, self->reconnect);
      break;
    case PROP_MAX_RECONNECTS:
      g_value_set_uint (value, self->max_reconnects);
      break;
    case PROP_PEER_TIMEOUT:
      g_value_set_uint (value, self->peer_timeout);
      break;
    case PROP_RESOURCE_URL:
      g_value_set_string (value, self->resource_url);
      break;
    case PROP_PLAYBACK_URL:
      g_value_set_string (value, self->playback_url);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&self->lock);
}

static void
gst_daydream_whip_sink_init (GstDaydreamWhipSink * self)
{
  g_autoptr (GstPad) target = NULL;
  g_autoptr (GstPad) src = NULL;

  g_mutex_init (&self->lock);
  self->timeout = DEFAULT_TIMEOUT;
  self->bitrate = DEFAULT_BITRATE;
  self->reconnect = DEFAULT_RECONNECT;
  self->max_reconnects = DEFAULT_MAX_RECONNECTS;
  self->peer_timeout = DEFAULT_PEER_TIMEOUT;
  self->trickle = DEFAULT_TRICKLE;
  self->policy = DEFAULT_POLICY;
  self->pending_candidates = g_ptr_array_new_with_free_func (g_free);
  self->input = gst_element_factory_make ("identity", "input");
  gst_bin_add (GST_BIN (self), self->input);
  target = gst_element_get_static_pad (self->input, "sink");
  self->sinkpad = gst_ghost_pad_new_from_template ("sink", target,
      gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (self),
          "sink"));
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);
  src = gst_element_get_static_pad (self->input, "src");
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      on_input_event, self, NULL);
  /* a sink that posts EOS like any other, and no preroll wait on webrtcbin */
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SINK);
}

static void
gst_daydream_whip_sink_finalize (GObject * object)
{
  GstDaydreamWhipSink *self = GST_DAYDREAM_WHIP_SINK (object);

  g_clear_pointer (&self->http, drtc_http_free);
  gst_clear_object (&self->webrtc);
  g_free (self->endpoint);
  g_free (self->auth_token);
  g_free (self->stun_server);
  g_free (self->turn_servers);
  g_free (self->local_addresses);
  g_free (self->video_encoder);
  g_free (self->resource_url);
  g_free (self->playback_url);
  g_free (self->etag);
  gst_clear_caps (&self->rtp_caps);
  g_clear_pointer (&self->link_servers, g_ptr_array_unref);
  g_ptr_array_unref (self->pending_candidates);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_daydream_whip_sink_class_init (GstDaydreamWhipSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  gobject_class->set_property = gst_daydream_whip_sink_set_property;
  gobject_class->get_property = gst_daydream_whip_sink_get_property;
  gobject_class->finalize = gst_daydream_whip_sink_finalize;

  props[PROP_WHIP_ENDPOINT] = g_param_spec_string ("whip-endpoint",
      "WHIP endpoint", "URL the offer is POSTed to (http or https); a change "
      "while playing moves the session to the new endpoint", NULL,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  props[PROP_AUTH_TOKEN] = g_param_spec_string ("auth-token", "Auth token",
      "Bearer token for every WHIP request; write-only, never logged; a "
      "change while playing applies from the next request", NULL,
      G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  props[PROP_STUN_SERVER] = g_param_spec_string ("stun-server", "STUN server",
      "STUN server, stun://host:port (none by default)", NULL, rw);
  props[PROP_TURN_SERVER] = g_param_spec_string ("turn-server",
      "TURN servers", "TURN servers, turn(s)://user:password@host:port, "
      "several separated by commas", NULL, rw);
  props[PROP_USE_LINK_HEADERS] = g_param_spec_boolean ("use-link-headers",
      "Use Link headers", "Use the STUN/TURN servers the endpoint announces "
      "in Link rel=\"ice-server\" headers (from the next connection on)",
      FALSE, rw);
  props[PROP_ICE_TRANSPORT_POLICY] = g_param_spec_enum
      ("ice-transport-policy", "ICE transport policy",
      "all candidates, or relay (TURN) only",
      GST_TYPE_WEBRTC_ICE_TRANSPORT_POLICY, DEFAULT_POLICY, rw);
  props[PROP_ICE_LOCAL_ADDRESSES] = g_param_spec_string
      ("ice-local-addresses", "ICE local addresses",
      "Gather candidates on these addresses only, comma-separated (e.g. "
      "127.0.0.1 to keep media on loopback); default all interfaces", NULL, rw);
  props[PROP_TIMEOUT] = g_param_spec_uint ("timeout", "Timeout",
      "Seconds for each HTTP request; ICE gathering waits at most 5 s of it",
      1, 3600, DEFAULT_TIMEOUT, rw);
  props[PROP_TRICKLE] = g_param_spec_enum ("trickle", "Trickle ICE",
      "When to send candidates by PATCH", GST_TYPE_DAYDREAM_WHIP_TRICKLE,
      DEFAULT_TRICKLE, rw);
  props[PROP_VIDEO_ENCODER] = g_param_spec_string ("video-encoder",
      "Video encoder", "H.264 encoder element to use for raw input "
      "(default: the best registered one, hardware first)", NULL, rw);
  props[PROP_BITRATE] = g_param_spec_uint ("bitrate", "Bitrate",
      "Encoder bitrate in kbit/s", 50, 100000, DEFAULT_BITRATE, rw);
  props[PROP_RECONNECT] = g_param_spec_boolean ("reconnect", "Reconnect",
      "Reconnect with backoff after 5xx, network errors and failed "
      "connections", DEFAULT_RECONNECT, rw);
  props[PROP_MAX_RECONNECTS] = g_param_spec_uint ("max-reconnects",
      "Max reconnects", "Reconnect attempts in a row before giving up", 0,
      1000, DEFAULT_MAX_RECONNECTS, rw);
  props[PROP_PEER_TIMEOUT] = g_param_spec_uint ("peer-timeout",
      "Peer timeout", "Seconds without a packet from the peer (RTCP, STUN) "
      "before the connection counts as lost and is reconnected; 0 = off", 0,
      3600, DEFAULT_PEER_TIMEOUT, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING);
  props[PROP_RESOURCE_URL] = g_param_spec_string ("resource-url",
      "Resource URL", "The WHIP session's URL (Location), DELETEd on stop",
      NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_PLAYBACK_URL] = g_param_spec_string ("playback-url",
      "Playback URL", "The Livepeer-Playback-URL header: Daydream's WHEP URL "
      "of the processed output", NULL,
      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_STATS] = g_param_spec_boxed ("stats", "Statistics",
      "state, reconnects, frames-sent, packets-sent, bytes-sent, "
      "round-trip-time (s), jitter, packets-lost", GST_TYPE_STRUCTURE,
      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (gobject_class, N_PROPS, props);

  /**
   * GstDaydreamWhipSink::encoder-setup:
   * @sink: the element
   * @encoder: the H.264 encoder chosen, already configured
   *
   * Emitted before the encoder is used, so an application can tune it.
   */
  signals[SIGNAL_ENCODER_SETUP] = g_signal_new ("encoder-setup",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, GST_TYPE_ELEMENT);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class, "WHIP sink",
      "Sink/Network/WebRTC", "Publishes video to a WHIP (RFC 9725) endpoint "
      "such as Daydream's gateway: H.264 over webrtcbin, reconnecting",
      "daydream-rtc developers");
  gst_element_class_add_static_metadata (element_class, "example",
      "gst-launch-1.0 videotestsrc is-live=true ! video/x-raw,width=512,"
      "height=512,framerate=30/1 ! whipsink whip-endpoint=http://127.0.0.1:"
      "8896/live/video-to-video/KEY/whip");
  gst_element_class_add_static_metadata (element_class,
      GST_ELEMENT_METADATA_DOC_URI, "docs/elements/whipsink.md");
  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_daydream_whip_sink_change_state);
  gst_type_mark_as_plugin_api (GST_TYPE_DAYDREAM_WHIP_TRICKLE, 0);
}
