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

#include "whipsink-private.h"
#include "gstdaydreamcontrol.h"
#include "drtc-props.h"

GST_DEBUG_CATEGORY (gst_daydream_whip_sink_debug);
#define GST_CAT_DEFAULT gst_daydream_whip_sink_debug

#define DEFAULT_TIMEOUT 15
#define DEFAULT_BITRATE 1500
#define DEFAULT_RECONNECT TRUE
#define DEFAULT_MAX_RECONNECTS 10
#define DEFAULT_TRICKLE GST_DAYDREAM_WHIP_TRICKLE_AUTO
#define DEFAULT_POLICY GST_WEBRTC_ICE_TRANSPORT_POLICY_ALL
#define DEFAULT_PEER_TIMEOUT 10


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

/* HTTP thread: whip-endpoint changed while running */
static gboolean
on_endpoint_changed (gpointer data)
{
  GstDaydreamWhipSink *self = g_weak_ref_get (data);
  g_autoptr (GstElement) webrtc = NULL;

  if (!self)
    return G_SOURCE_REMOVE;
  if (self->waiting_endpoint && (webrtc = whip_current_webrtc (self)))
    whip_post_offer (self, webrtc);
  else if (self->posted)
    whip_reconnect_after (self, "new whip-endpoint", TRUE);
  gst_object_unref (self);
  return G_SOURCE_REMOVE;
}

/* ---- state changes ---- */

static gboolean
validate_endpoint (GstDaydreamWhipSink * self)
{
  g_autofree gchar *url = whip_dup_locked (self, &self->endpoint);
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
      webrtc = whip_make_webrtc (self, self->gen);
      if (!webrtc) {
        GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
            ("webrtcbin is missing (gstreamer1.0-plugins-bad)"), (NULL));
        return GST_STATE_CHANGE_FAILURE;
      }
      gst_bin_add (GST_BIN (self), webrtc);
      g_mutex_lock (&self->lock);
      self->webrtc = gst_object_ref (webrtc);
      self->state = WHIP_STATE_IDLE;
      g_mutex_unlock (&self->lock);
      break;
    }
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* no new session from here on; in-flight requests are cancelled
       * before the children stop */
      self->stopping = TRUE;
      whip_stop_timers (self);
      g_atomic_int_set (&self->media_open, FALSE);
      drtc_http_cancel_all (self->http);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      whip_delete_resource (self, TRUE);
      whip_set_state (self, WHIP_STATE_CLOSED, "stopped");
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

/* the properties that are a field; whip-endpoint and stats are more */
#define FIELD(prop, member) DRTC_PROP_FIELD (prop, GstDaydreamWhipSink, member)
static const DrtcPropField fields[] = {
  FIELD (PROP_WHIP_ENDPOINT, endpoint),
  FIELD (PROP_AUTH_TOKEN, auth_token),
  FIELD (PROP_STUN_SERVER, stun_server),
  FIELD (PROP_TURN_SERVER, turn_servers),
  FIELD (PROP_USE_LINK_HEADERS, use_link_headers),
  FIELD (PROP_ICE_TRANSPORT_POLICY, policy),
  FIELD (PROP_ICE_LOCAL_ADDRESSES, local_addresses),
  FIELD (PROP_TIMEOUT, timeout),
  FIELD (PROP_TRICKLE, trickle),
  FIELD (PROP_VIDEO_ENCODER, video_encoder),
  FIELD (PROP_BITRATE, bitrate),
  FIELD (PROP_RECONNECT, reconnect),
  FIELD (PROP_MAX_RECONNECTS, max_reconnects),
  FIELD (PROP_PEER_TIMEOUT, peer_timeout),
  FIELD (PROP_RESOURCE_URL, resource_url),
  FIELD (PROP_PLAYBACK_URL, playback_url),
};

#undef FIELD
/* enum fields are stored as gint */
G_STATIC_ASSERT (sizeof (GstDaydreamWhipTrickle) == sizeof (gint));
G_STATIC_ASSERT (sizeof (GstWebRTCICETransportPolicy) == sizeof (gint));

/* A new endpoint while running moves the session there (HTTP thread). */
static void
set_endpoint (GstDaydreamWhipSink * self, const GValue * value)
{
  gboolean changed;
  DrtcHttp *http;

  g_mutex_lock (&self->lock);
  changed = g_strcmp0 (self->endpoint, g_value_get_string (value)) != 0;
  drtc_props_set (self, fields, G_N_ELEMENTS (fields), PROP_WHIP_ENDPOINT,
      value);
  http = self->http;
  g_mutex_unlock (&self->lock);
  if (changed && http && GST_STATE (self) >= GST_STATE_READY)
    drtc_http_invoke (http, on_endpoint_changed, whip_weak_ref_new (self),
        whip_weak_ref_free);
}

static void
gst_daydream_whip_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstDaydreamWhipSink *self = GST_DAYDREAM_WHIP_SINK (object);

  if (!drtc_props_settable (GST_ELEMENT (self), pspec, GST_CAT_DEFAULT))
    return;
  if (prop_id == PROP_WHIP_ENDPOINT)
    set_endpoint (self, value);
  else
    drtc_props_set_locked (object, &self->lock, fields, G_N_ELEMENTS (fields),
        prop_id, value, pspec);
}

static void
gst_daydream_whip_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstDaydreamWhipSink *self = GST_DAYDREAM_WHIP_SINK (object);

  if (prop_id == PROP_STATS)
    g_value_take_boxed (value, whip_make_stats (self));
  else
    drtc_props_get_locked (object, &self->lock, fields, G_N_ELEMENTS (fields),
        prop_id, value, pspec);
}

static void
gst_daydream_whip_sink_init (GstDaydreamWhipSink * self)
{
  g_autoptr (GstPad) target = NULL;
  g_autoptr (GstPad) src = NULL;

  g_mutex_init (&self->lock);
  self->on_caps_ready = whip_start_session;
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
      whip_chain_on_input_event, self, NULL);
  /* a sink that posts EOS like any other, and no preroll wait on webrtcbin */
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SINK);
}

static void
gst_daydream_whip_sink_finalize (GObject * object)
{
  GstDaydreamWhipSink *self = GST_DAYDREAM_WHIP_SINK (object);

  g_clear_pointer (&self->http, drtc_http_free);
  gst_clear_object (&self->webrtc);
  drtc_props_clear (self, fields, G_N_ELEMENTS (fields), props);
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
