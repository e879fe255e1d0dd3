/* daydream-rtc: whepsrc, a WHEP subscriber (webrtcbin -> depay -> decoder)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-whepsrc
 * @title: whepsrc
 *
 * Receives video from a WHEP endpoint (WebRTC-HTTP Egress Protocol) -
 * Daydream's output, the local `daydream-rtc gateway`, or any WHEP server -
 * and outputs it as raw video on its always "src" pad, so that it links
 * at launch like any source. With #GstDaydreamWhepSrc:decode set to %FALSE
 * the pad carries the encoded video instead (H.264 byte-stream or VP8), for
 * recording or relaying.
 *
 * The element offers to receive video only (H.264 first, then VP8, as
 * #GstDaydreamWhepSrc:video-caps orders them; audio when
 * #GstDaydreamWhepSrc:audio-caps is set, on a sometimes "audio" pad),
 * waits for ICE gathering to complete, POSTs the offer and applies the
 * answer. All HTTP runs on a private thread; no streaming thread ever
 * waits for the network.
 *
 * It copes with how real endpoints behave: 404, 409 and 503 (also other
 * 5xx, timeouts and refused connections) are retried with an exponential
 * backoff that honours Retry-After; 429 (too many viewers) is retried more
 * slowly; a 406 carrying an SDP offer (the WHEP counter-offer) is answered
 * with a PATCH to its Location. Everything is bounded by
 * #GstDaydreamWhepSrc:connect-timeout. Once connected, a decoder that
 * outputs nothing for #GstDaydreamWhepSrc:stall-timeout gets a keyframe
 * request (PLI) sent to the server, and a connection that fails or brings
 * no media for #GstDaydreamWhepSrc:media-timeout is replaced by a new one.
 * When the server gave a Location, the session is DELETEd on stop (and on
 * reconnect).
 *
 * Progress is posted as element messages named `whep-state`, with fields
 * `state` (waiting, connecting, connected, reconnecting, failed),
 * `attempt`, `http-status`, `retry-in-ms` and `reason`. Fatal problems
 * (a 4xx other than those retried, an unusable SDP answer, connect-timeout
 * expiry) are element errors; HTTP errors carry `http-status-code` in
 * their details. #GstDaydreamWhepSrc:stats has counters for applications.
 * Tokens and full URLs never appear in logs: only the endpoint's host.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 whepsrc whep-endpoint=http://127.0.0.1:8896/live/video-to-video/KEY-out/whep \
 *     ! videoconvert ! autovideosink
 * ]| Shows the local gateway's output of a stream.
 * |[
 * gst-launch-1.0 -e whepsrc whep-endpoint=https://example.com/whep auth-token=SECRET \
 *     decode=false ! h264parse ! mp4mux ! filesink location=out.mp4
 * ]| Records the H.264 stream without decoding it.
 * |[
 * gst-launch-1.0 whepsrc whep-endpoint=http://127.0.0.1:8080/whep \
 *     ice-local-addresses=127.0.0.1 ! videoconvert ! fakesink
 * ]| Receives on loopback only (libnice skips 127.0.0.1 unless told).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whepsrc-private.h"
#include "drtc-props.h"
#include "gstdaydreamcontrol.h"

#include <string.h>

GST_DEBUG_CATEGORY (gst_daydream_whep_src_debug);
#define GST_CAT_DEFAULT gst_daydream_whep_src_debug

#define DEFAULT_VIDEO_CAPS "video/x-h264; video/x-vp8"
#define DEFAULT_USE_LINK_HEADERS FALSE
#define DEFAULT_ICE_TRANSPORT_POLICY GST_WEBRTC_ICE_TRANSPORT_POLICY_ALL
#define DEFAULT_DECODE TRUE
#define DEFAULT_TIMEOUT_S 15
#define DEFAULT_CONNECT_TIMEOUT_S 120
#define DEFAULT_LATENCY_MS 50
#define DEFAULT_RETRY_INTERVAL_MS 500
#define DEFAULT_MAX_RETRY_INTERVAL_MS 5000
#define DEFAULT_BUSY_RETRY_INTERVAL_MS 5000
#define DEFAULT_STALL_TIMEOUT_MS 1000
#define DEFAULT_MEDIA_TIMEOUT_MS 5000

enum
{
  PROP_0,
  PROP_WHEP_ENDPOINT,
  PROP_AUTH_TOKEN,
  PROP_STUN_SERVER,
  PROP_TURN_SERVER,
  PROP_USE_LINK_HEADERS,
  PROP_ICE_TRANSPORT_POLICY,
  PROP_ICE_LOCAL_ADDRESSES,
  PROP_VIDEO_CAPS,
  PROP_AUDIO_CAPS,
  PROP_DECODE,
  PROP_TIMEOUT,
  PROP_CONNECT_TIMEOUT,
  PROP_LATENCY,
  PROP_RETRY_INTERVAL,
  PROP_MAX_RETRY_INTERVAL,
  PROP_BUSY_RETRY_INTERVAL,
  PROP_STALL_TIMEOUT,
  PROP_MEDIA_TIMEOUT,
  PROP_STATS,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("video/x-raw; video/x-h264; video/x-vp8"));

static GstStaticPadTemplate audio_template = GST_STATIC_PAD_TEMPLATE ("audio",
    GST_PAD_SRC, GST_PAD_SOMETIMES,
    GST_STATIC_CAPS ("audio/x-raw; audio/x-opus"));

#define gst_daydream_whep_src_parent_class parent_class
G_DEFINE_TYPE (GstDaydreamWhepSrc, gst_daydream_whep_src, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (whepsrc, "whepsrc", GST_RANK_NONE,
    GST_TYPE_DAYDREAM_WHEP_SRC,
    GST_DEBUG_CATEGORY_INIT (gst_daydream_whep_src_debug, "whepsrc", 0,
        "WHEP source"));

/* ---- settings ---- */

/* "127.0.0.1, 10.0.0.2" -> {"127.0.0.1", "10.0.0.2"}; NULL when empty */
static gchar **
split_addresses (const gchar * text)
{
  g_auto (GStrv) parts = text ? g_strsplit (text, ",", -1) : NULL;
  g_autoptr (GPtrArray) out = g_ptr_array_new ();

  for (guint i = 0; parts && parts[i]; i++) {
    g_strstrip (parts[i]);
    if (*parts[i])
      g_ptr_array_add (out, g_strdup (parts[i]));
  }
  if (out->len == 0)
    return NULL;
  g_ptr_array_add (out, NULL);
  return (gchar **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

/* ---- properties ---- */

static gboolean
settable (GstDaydreamWhepSrc * self, GParamSpec * pspec)
{
  GstState state, pending;

  GST_OBJECT_LOCK (self);
  state = GST_STATE (self);
  pending = GST_STATE_PENDING (self);
  GST_OBJECT_UNLOCK (self);
  if (state <= GST_STATE_READY && pending <= GST_STATE_READY)
    return TRUE;
  GST_WARNING_OBJECT (self, "'%s' can only change in the NULL or READY "
      "state: ignored", pspec->name);
  return FALSE;
}

static gboolean on_endpoint_changed (gpointer data);

static void
weak_ref_free (gpointer data)
{
  g_weak_ref_clear (data);
  g_free (data);
}

/* whep-endpoint may change in any state: daydreamcontrol sets it once the
 * Daydream stream exists. While running, the session moves to the new
 * endpoint (on the HTTP thread). */
static void
set_endpoint (GstDaydreamWhepSrc * self, const gchar * endpoint)
{
  gboolean changed, running;
  DrtcHttp *http;

  g_mutex_lock (&self->lock);
  changed = g_strcmp0 (self->settings.endpoint, endpoint) != 0;
  g_free (self->settings.endpoint);
  self->settings.endpoint = g_strdup (endpoint);
  running = self->running;
  http = self->http;
  g_mutex_unlock (&self->lock);
  if (changed && running && http) {
    GWeakRef *ref = g_new0 (GWeakRef, 1);

    g_weak_ref_init (ref, self);
    drtc_http_invoke (http, on_endpoint_changed, ref, weak_ref_free);
  }
}

/* the properties that are a field of the settings */
#define FIELD(prop, member) \
    DRTC_PROP_FIELD (prop, GstDaydreamWhepSrc, settings.member)
static const DrtcPropField fields[] = {
  FIELD (PROP_WHEP_ENDPOINT, endpoint),
  FIELD (PROP_AUTH_TOKEN, auth_token),
  FIELD (PROP_STUN_SERVER, stun_server),
  FIELD (PROP_TURN_SERVER, turn_server),
  FIELD (PROP_USE_LINK_HEADERS, use_link_headers),
  FIELD (PROP_ICE_TRANSPORT_POLICY, ice_transport_policy),
  FIELD (PROP_VIDEO_CAPS, video_caps),
  FIELD (PROP_AUDIO_CAPS, audio_caps),
  FIELD (PROP_DECODE, decode),
  FIELD (PROP_TIMEOUT, timeout_s),
  FIELD (PROP_CONNECT_TIMEOUT, connect_timeout_s),
  FIELD (PROP_LATENCY, latency_ms),
  FIELD (PROP_RETRY_INTERVAL, retry_interval_ms),
  FIELD (PROP_MAX_RETRY_INTERVAL, max_retry_interval_ms),
  FIELD (PROP_BUSY_RETRY_INTERVAL, busy_retry_interval_ms),
  FIELD (PROP_STALL_TIMEOUT, stall_timeout_ms),
  FIELD (PROP_MEDIA_TIMEOUT, media_timeout_ms),
};

#undef FIELD
/* enum fields are stored as gint */
G_STATIC_ASSERT (sizeof (GstWebRTCICETransportPolicy) == sizeof (gint));

static void
gst_daydream_whep_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstDaydreamWhepSrc *self = GST_DAYDREAM_WHEP_SRC (object);
  WhepSettings *s = &self->settings;

  if (prop_id == PROP_WHEP_ENDPOINT) {
    set_endpoint (self, g_value_get_string (value));
  } else if (prop_id != PROP_STATS && prop_id != PROP_AUTH_TOKEN
      && !settable (self, pspec)) {
    /* a token set while playing is for the next connection: daydreamcontrol
     * gives it with the endpoint, once the stream exists */
    return;
  } else if (prop_id == PROP_ICE_LOCAL_ADDRESSES) {
    g_mutex_lock (&self->lock);
    g_strfreev (s->local_addresses);
    s->local_addresses = split_addresses (g_value_get_string (value));
    g_mutex_unlock (&self->lock);
  } else {
    drtc_props_set_locked (object, &self->lock, fields, G_N_ELEMENTS (fields),
        prop_id, value, pspec);
  }
}

static void
gst_daydream_whep_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstDaydreamWhepSrc *self = GST_DAYDREAM_WHEP_SRC (object);
  WhepSettings *s = &self->settings;

  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, whep_src_make_stats (self));
  } else if (prop_id == PROP_ICE_LOCAL_ADDRESSES) {
    g_mutex_lock (&self->lock);
    g_value_take_string (value, s->local_addresses ?
        g_strjoinv (",", s->local_addresses) : NULL);
    g_mutex_unlock (&self->lock);
  } else {
    drtc_props_get_locked (object, &self->lock, fields, G_N_ELEMENTS (fields),
        prop_id, value, pspec);
  }
}

/* ---- states ---- */

static gboolean
valid_server_url (const gchar * url, const gchar * const *schemes)
{
  for (guint i = 0; schemes[i]; i++)
    if (g_str_has_prefix (url, schemes[i]) && url[strlen (schemes[i])])
      return TRUE;
  return FALSE;
}

static gboolean
endpoint_ok (const gchar * endpoint)
{
  g_autoptr (GUri) uri = g_uri_parse (endpoint, G_URI_FLAGS_NONE, NULL);

  return drtc_http_uri_is_http (uri) && g_uri_get_host (uri);
}

/* NULL->READY: every setting checked, an error posted for the first bad
 * one. Element lock held. */
static gboolean
check_settings (GstDaydreamWhepSrc * self, WhepSettings * s)
{
  static const gchar *const stun[] = { "stun://", "stuns://", NULL };
  static const gchar *const turn[] = { "turn://", "turns://", NULL };
  g_autoptr (GstCaps) rtp = NULL;
  g_autoptr (GstElementFactory) webrtc = NULL;
  g_autofree gchar *missing = NULL;

  if ((!s->endpoint || !*s->endpoint) && !self->managed) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("No WHEP endpoint set"), ("set the whep-endpoint property"));
    return FALSE;
  }
  if (s->endpoint && *s->endpoint && !endpoint_ok (s->endpoint)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("whep-endpoint is not an http(s) URL"), (NULL));
    return FALSE;
  }
  if (s->stun_server && !valid_server_url (s->stun_server, stun)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("stun-server must look like stun://host:port"), (NULL));
    return FALSE;
  }
  if (s->turn_server && !valid_server_url (s->turn_server, turn)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("turn-server must look like turn(s)://user:password@host:port"),
        (NULL));
    return FALSE;
  }
  for (guint i = 0; s->local_addresses && s->local_addresses[i]; i++) {
    g_autoptr (GInetAddress) a =
        g_inet_address_new_from_string (s->local_addresses[i]);

    if (!a) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("ice-local-addresses: '%s' is not an IP address",
              s->local_addresses[i]), (NULL));
      return FALSE;
    }
  }
  if (s->retry_interval_ms > s->max_retry_interval_ms) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("retry-interval is above max-retry-interval"), (NULL));
    return FALSE;
  }
  webrtc = gst_element_factory_find ("webrtcbin");
  if (!webrtc) {
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
        ("webrtcbin is missing"), ("install gstreamer1.0-plugins-bad"));
    return FALSE;
  }
  rtp = whep_chain_rtp_caps (s->video_caps, "video", s->decode, &missing);
  if (gst_caps_is_empty (rtp)) {
    if (missing)
      GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
          ("No element to receive any codec of video-caps"),
          ("missing: %s", missing));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("video-caps names no codec whepsrc can receive"),
          ("whepsrc receives video/x-h264 and video/x-vp8"));
    return FALSE;
  }
  return TRUE;
}

static void
stop_connection (GstDaydreamWhepSrc * self, gchar ** location)
{
  WhepConn *conn;

  g_mutex_lock (&self->lock);
  conn = g_steal_pointer (&self->conn);
  g_mutex_unlock (&self->lock);
  if (!conn)
    return;
  drtc_http_cancel_all (self->http);
  *location = whep_conn_stop (conn);
  whep_conn_unref (conn);
}

/* HTTP thread: whep-endpoint changed while running. The old session (if
 * any) ends and is DELETEd; a new one starts at the new endpoint. */
static gboolean
on_endpoint_changed (gpointer data)
{
  GstDaydreamWhepSrc *self = g_weak_ref_get (data);
  WhepSettings *copy = NULL;
  WhepConn *old = NULL, *conn;
  g_autofree gchar *location = NULL, *token = NULL;
  gboolean bad = FALSE;
  guint timeout = 0;

  if (!self)
    return G_SOURCE_REMOVE;
  g_mutex_lock (&self->lock);
  if (self->running) {
    old = g_steal_pointer (&self->conn);
    token = g_strdup (self->settings.auth_token);
    timeout = self->settings.timeout_s;
    if (self->settings.endpoint && *self->settings.endpoint
        && !whep_src_has_ended (self)) {
      bad = !endpoint_ok (self->settings.endpoint);
      if (!bad)
        copy = whep_settings_copy (&self->settings);
    }
  }
  g_mutex_unlock (&self->lock);
  if (old) {
    location = whep_conn_stop (old);
    whep_conn_unref (old);
    /* on this thread the DELETE is sent, not waited for */
    whep_conn_delete_sync (self, location, token, timeout);
  }
  if (bad)
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("whep-endpoint is not an http(s) URL"), (NULL));
  if (copy) {
    conn = whep_conn_start (self, copy);
    g_mutex_lock (&self->lock);
    if (self->running && !self->conn)
      self->conn = g_steal_pointer (&conn);
    g_mutex_unlock (&self->lock);
    if (conn) {                 /* stopped meanwhile */
      g_free (whep_conn_stop (conn));
      whep_conn_unref (conn);
    }
  }
  gst_object_unref (self);
  return G_SOURCE_REMOVE;
}

static void
remove_audio_pad (GstDaydreamWhepSrc * self)
{
  GstPad *pad = g_steal_pointer (&self->audiopad);

  if (pad) {
    gst_pad_set_active (pad, FALSE);
    gst_element_remove_pad (GST_ELEMENT (self), pad);
  }
}

/* NULL->READY: settings checked, the HTTP thread made */
static gboolean
prepare (GstDaydreamWhepSrc * self)
{
  /* before our lock: this looks through the bins above us */
  gboolean managed = gst_daydream_control_is_managing (GST_ELEMENT (self));
  gboolean ok;

  g_mutex_lock (&self->lock);
  self->managed = managed;
  ok = check_settings (self, &self->settings);
  g_mutex_unlock (&self->lock);
  if (ok)
    self->http = drtc_http_new ("whepsrc-http");
  return ok;
}

/* READY->PAUSED: the connection starts, or waits for its endpoint */
static void
start_connection (GstDaydreamWhepSrc * self)
{
  WhepSettings *copy;
  WhepConn *conn;
  g_autofree gchar *host = NULL;

  whep_src_reset_status (self);
  g_atomic_int_set (&self->ended, FALSE);
  g_atomic_int_set (&self->downstream_failed, FALSE);
  g_mutex_lock (&self->lock);
  self->running = TRUE;
  copy = self->settings.endpoint && *self->settings.endpoint ?
      whep_settings_copy (&self->settings) : NULL;
  g_mutex_unlock (&self->lock);
  if (!copy) {
    /* daydreamcontrol gives the endpoint once the stream exists */
    whep_src_post_state (self, WHEP_STATE_WAITING, 0, 0, 0,
        "waiting for daydreamcontrol to set whep-endpoint");
    return;
  }
  host = drtc_http_redact_url (copy->endpoint);
  GST_INFO_OBJECT (self, "connecting to %s", host);
  conn = whep_conn_start (self, copy);
  g_mutex_lock (&self->lock);
  self->conn = conn;
  g_mutex_unlock (&self->lock);
}

/* PAUSED->READY, after the children: the session's resource is deleted */
static void
release_session (GstDaydreamWhepSrc * self, const gchar * location)
{
  guint timeout;
  g_autofree gchar *token = NULL;

  g_mutex_lock (&self->lock);
  timeout = self->settings.timeout_s;
  token = g_strdup (self->settings.auth_token);
  self->state = WHEP_STATE_IDLE;
  g_mutex_unlock (&self->lock);
  /* bounded: a server that does not answer cannot hold the pipeline */
  whep_conn_delete_sync (self, location, token, timeout);
  remove_audio_pad (self);
}

static GstStateChangeReturn
gst_daydream_whep_src_change_state (GstElement * element,
    GstStateChange transition)
{
  GstDaydreamWhepSrc *self = GST_DAYDREAM_WHEP_SRC (element);
  GstStateChangeReturn ret;
  g_autofree gchar *location = NULL;
  gint64 now;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      if (!prepare (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      /* time spent paused is no stall */
      now = g_get_monotonic_time ();
      __atomic_store_n (&self->last_in_us, now, __ATOMIC_RELAXED);
      __atomic_store_n (&self->last_out_us, now, __ATOMIC_RELAXED);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* requests in flight are cancelled, the session leaves the bin */
      g_mutex_lock (&self->lock);
      self->running = FALSE;
      g_mutex_unlock (&self->lock);
      stop_connection (self, &location);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_NULL_TO_READY)
      g_clear_pointer (&self->http, drtc_http_free);
    return ret;
  }

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      start_connection (self);
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      release_session (self, location);
      break;
    case GST_STATE_CHANGE_READY_TO_NULL:
      g_clear_pointer (&self->http, drtc_http_free);
      break;
    default:
      break;
  }
  return ret;
}

/* The direct child of @self that @object is in, or NULL. */
static GstObject *
direct_child (GstDaydreamWhepSrc * self, GstObject * object)
{
  GstObject *cur = gst_object_ref (object);

  while (cur) {
    GstObject *parent = gst_object_get_parent (cur);

    if (parent == GST_OBJECT (self)) {
      gst_object_unref (parent);
      return cur;
    }
    gst_object_unref (cur);
    cur = parent;
  }
  return NULL;
}

/* An error inside a session (webrtcbin, depayloader, decoder) ends that
 * session and starts a new one rather than the pipeline; errors of
 * sessions already gone are dropped. One that follows downstream's error
 * (a flow error out of src) is the element's. */
static void
gst_daydream_whep_src_handle_message (GstBin * bin, GstMessage * msg)
{
  GstDaydreamWhepSrc *self = GST_DAYDREAM_WHEP_SRC (bin);
  g_autoptr (GstObject) child = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *debug = NULL;
  WhepConn *conn = NULL;
  guint gen;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
    /* webrtcbin's own sinks: a source's stream ends by its src pads */
    gst_message_unref (msg);
    return;
  }
  if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ERROR || !GST_MESSAGE_SRC (msg)
      || !(child = direct_child (self, GST_MESSAGE_SRC (msg)))
      || !g_object_get_data (G_OBJECT (child), WHEP_GEN_KEY)) {
    GST_BIN_CLASS (parent_class)->handle_message (bin, msg);
    return;
  }
  gen = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (child), WHEP_GEN_KEY));
  gst_message_parse_error (msg, &err, &debug);
  if (whep_src_downstream_failed (self)) {
    /* downstream refused what came out: not the session's fault, and no
     * new session would fix it (whepsrc-eos.c) */
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Downstream refused the stream: %s", err->message),
        ("%s: %s", GST_MESSAGE_SRC_NAME (msg), GST_STR_NULL (debug)));
    gst_message_unref (msg);
    return;
  }
  g_mutex_lock (&self->lock);
  if (self->conn && gen == whep_conn_current_gen (self->conn))
    conn = g_atomic_rc_box_acquire (self->conn);
  g_mutex_unlock (&self->lock);
  if (conn) {
    GST_ELEMENT_WARNING (self, STREAM, FAILED,
        ("Session error, reconnecting: %s", err->message),
        ("%s: %s", GST_MESSAGE_SRC_NAME (msg), GST_STR_NULL (debug)));
    whep_conn_session_error (conn, gen, err->message);
    whep_conn_unref (conn);
  } else {
    GST_DEBUG_OBJECT (self, "error of an old session dropped: %s",
        err->message);
  }
  gst_message_unref (msg);
}

static gboolean
gst_daydream_whep_src_send_event (GstElement * element, GstEvent * event)
{
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS)
    return whep_src_send_eos (GST_DAYDREAM_WHEP_SRC (element), event);
  return GST_ELEMENT_CLASS (parent_class)->send_event (element, event);
}

/* webrtcbin holds sinks (nicesink), which would make the bin a sink that
 * the pipeline waits for at EOS, in vain: whepsrc is a source only. */
static gboolean
gst_daydream_whep_src_add_element (GstBin * bin, GstElement * element)
{
  if (!GST_BIN_CLASS (parent_class)->add_element (bin, element))
    return FALSE;
  GST_OBJECT_LOCK (bin);
  GST_OBJECT_FLAG_UNSET (bin, GST_ELEMENT_FLAG_SINK);
  GST_OBJECT_UNLOCK (bin);
  return TRUE;
}

/* Before the first session's pad, a latency query still has an answer:
 * live, with the jitterbuffer latency the chain will have. */
static gboolean
src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstDaydreamWhepSrc *self = GST_DAYDREAM_WHEP_SRC (parent);

  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    g_autoptr (GstPad) target = gst_ghost_pad_get_target (GST_GHOST_PAD (pad));

    if (!target) {
      guint ms;

      g_mutex_lock (&self->lock);
      ms = self->settings.latency_ms;
      g_mutex_unlock (&self->lock);
      gst_query_set_latency (query, TRUE, ms * GST_MSECOND,
          GST_CLOCK_TIME_NONE);
      return TRUE;
    }
  }
  return gst_pad_query_default (pad, parent, query);
}

/* ---- GObject ---- */

static void
gst_daydream_whep_src_init (GstDaydreamWhepSrc * self)
{
  GstPadTemplate *templ = gst_static_pad_template_get (&src_template);
  WhepSettings *s = &self->settings;

  g_mutex_init (&self->lock);
  g_mutex_init (&self->chain_lock);
  s->use_link_headers = DEFAULT_USE_LINK_HEADERS;
  s->ice_transport_policy = DEFAULT_ICE_TRANSPORT_POLICY;
  s->video_caps = gst_caps_from_string (DEFAULT_VIDEO_CAPS);
  s->decode = DEFAULT_DECODE;
  s->timeout_s = DEFAULT_TIMEOUT_S;
  s->connect_timeout_s = DEFAULT_CONNECT_TIMEOUT_S;
  s->latency_ms = DEFAULT_LATENCY_MS;
  s->retry_interval_ms = DEFAULT_RETRY_INTERVAL_MS;
  s->max_retry_interval_ms = DEFAULT_MAX_RETRY_INTERVAL_MS;
  s->busy_retry_interval_ms = DEFAULT_BUSY_RETRY_INTERVAL_MS;
  s->stall_timeout_ms = DEFAULT_STALL_TIMEOUT_MS;
  s->media_timeout_ms = DEFAULT_MEDIA_TIMEOUT_MS;

  self->srcpad = gst_ghost_pad_new_no_target_from_template ("src", templ);
  gst_object_unref (templ);
  gst_pad_set_query_function (self->srcpad, src_query);
  self->watch_output = whep_src_watch_output;
  whep_src_watch_output (self, self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);
}

static void
gst_daydream_whep_src_finalize (GObject * object)
{
  GstDaydreamWhepSrc *self = GST_DAYDREAM_WHEP_SRC (object);

  g_clear_pointer (&self->http, drtc_http_free);
  whep_settings_clear (&self->settings);
  g_free (self->codec);
  g_clear_pointer (&self->rtc_stats, gst_structure_free);
  g_clear_pointer (&self->chains, g_ptr_array_unref);
  g_mutex_clear (&self->lock);
  g_mutex_clear (&self->chain_lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_daydream_whep_src_class_init (GstDaydreamWhepSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBinClass *bin_class = GST_BIN_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  gobject_class->set_property = gst_daydream_whep_src_set_property;
  gobject_class->get_property = gst_daydream_whep_src_get_property;
  gobject_class->finalize = gst_daydream_whep_src_finalize;

  props[PROP_WHEP_ENDPOINT] = g_param_spec_string ("whep-endpoint",
      "WHEP endpoint", "URL of the WHEP endpoint to POST the offer to "
      "(http or https; never logged, only its host). May change while "
      "playing: the session moves to the new endpoint. Unset with a "
      "daydreamcontrol in the pipeline: it sets this once the stream exists",
      NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING);
  props[PROP_AUTH_TOKEN] = g_param_spec_string ("auth-token", "Auth token",
      "Bearer token for every WHEP request, kept across redirects (write "
      "only, never logged; a change while playing applies from the next "
      "connection)", NULL, G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING);
  props[PROP_STUN_SERVER] = g_param_spec_string ("stun-server",
      "STUN server", "STUN server as stun://host:port (default: none, "
      "host candidates only)", NULL, rw);
  props[PROP_TURN_SERVER] = g_param_spec_string ("turn-server",
      "TURN server", "TURN server as turn(s)://user:password@host:port "
      "(default: none)", NULL, rw);
  props[PROP_USE_LINK_HEADERS] = g_param_spec_boolean ("use-link-headers",
      "Use Link headers", "Take STUN/TURN servers from the endpoint's Link "
      "rel=\"ice-server\" headers; they override stun-server/turn-server "
      "and apply from the next connection on", DEFAULT_USE_LINK_HEADERS, rw);
  props[PROP_ICE_TRANSPORT_POLICY] = g_param_spec_enum ("ice-transport-policy",
      "ICE transport policy", "all, or relay to use TURN relays only",
      GST_TYPE_WEBRTC_ICE_TRANSPORT_POLICY, DEFAULT_ICE_TRANSPORT_POLICY, rw);
  props[PROP_ICE_LOCAL_ADDRESSES] = g_param_spec_string
      ("ice-local-addresses", "ICE local addresses", "Comma-separated IP "
      "addresses to gather candidates on, e.g. 127.0.0.1 for loopback "
      "(default: every interface but loopback)", NULL, rw);
  props[PROP_VIDEO_CAPS] = g_param_spec_boxed ("video-caps", "Video caps",
      "Video codecs to offer, in order of preference: video/x-h264, "
      "video/x-vp8 (default \"" DEFAULT_VIDEO_CAPS "\")", GST_TYPE_CAPS, rw);
  props[PROP_AUDIO_CAPS] = g_param_spec_boxed ("audio-caps", "Audio caps",
      "Audio codecs to offer (audio/x-opus), output on the \"audio\" pad; "
      "default none: no audio", GST_TYPE_CAPS, rw);
  props[PROP_DECODE] = g_param_spec_boolean ("decode", "Decode",
      "Output raw video (TRUE) or the encoded stream as received (FALSE)",
      DEFAULT_DECODE, rw);
  props[PROP_TIMEOUT] = g_param_spec_uint ("timeout", "Timeout",
      "Seconds each HTTP request (and the DELETE on stop) may take, and "
      "the media connection after an answer (default 15)", 1, 3600,
      DEFAULT_TIMEOUT_S, rw);
  props[PROP_CONNECT_TIMEOUT] = g_param_spec_uint ("connect-timeout",
      "Connect timeout", "Seconds to keep trying (retries included) before "
      "an error, at start and after a connection is lost; 0 = forever "
      "(default 120)", 0, G_MAXUINT / G_USEC_PER_SEC,
      DEFAULT_CONNECT_TIMEOUT_S, rw);
  props[PROP_LATENCY] = g_param_spec_uint ("latency", "Latency",
      "Jitterbuffer latency in milliseconds (default 50)", 0, 10000,
      DEFAULT_LATENCY_MS, rw);
  props[PROP_RETRY_INTERVAL] = g_param_spec_uint ("retry-interval",
      "Retry interval", "Milliseconds before the first retry after 404, "
      "409, 5xx or a network error; doubles per retry; Retry-After wins if "
      "longer (default 500)", 1, 600000, DEFAULT_RETRY_INTERVAL_MS, rw);
  props[PROP_MAX_RETRY_INTERVAL] = g_param_spec_uint ("max-retry-interval",
      "Max retry interval", "Longest wait between retries in milliseconds "
      "(default 5000)", 1, 600000, DEFAULT_MAX_RETRY_INTERVAL_MS, rw);
  props[PROP_BUSY_RETRY_INTERVAL] = g_param_spec_uint ("busy-retry-interval",
      "Busy retry interval", "Milliseconds before retrying after 429 (too "
      "many viewers); doubles up to 4 times this (default 5000)", 1, 600000,
      DEFAULT_BUSY_RETRY_INTERVAL_MS, rw);
  props[PROP_STALL_TIMEOUT] = g_param_spec_uint ("stall-timeout",
      "Stall timeout", "Milliseconds without output frames before a "
      "keyframe request (PLI), repeated as long as it lasts; 0 = never "
      "(default 1000)", 0, 600000, DEFAULT_STALL_TIMEOUT_MS, rw);
  props[PROP_MEDIA_TIMEOUT] = g_param_spec_uint ("media-timeout",
      "Media timeout", "Milliseconds without any media before the "
      "connection counts as lost and is replaced; 0 = only when the peer "
      "connection fails (default 5000)", 0, 600000,
      DEFAULT_MEDIA_TIMEOUT_MS, rw);
  props[PROP_STATS] = g_param_spec_boxed ("stats", "Statistics",
      "state, codec, frames-out, frames-decoded, bitrate (bit/s), "
      "packets-received, packets-lost, jitter (s), rtt (s, -1: unknown), "
      "keyframe-requests, attempts, reconnects, http-status",
      GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (gobject_class, N_PROPS, props);

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_add_static_pad_template (element_class, &audio_template);
  gst_element_class_set_static_metadata (element_class, "WHEP source",
      "Source/Network/WebRTC",
      "Receives video from a WHEP endpoint (Daydream or any WHEP server) as "
      "raw or encoded video: retries, counter-offers, reconnects, PLI",
      "daydream-rtc developers");
  gst_element_class_add_static_metadata (element_class, "example",
      "gst-launch-1.0 whepsrc whep-endpoint=http://127.0.0.1:8896/live/"
      "video-to-video/KEY-out/whep ! videoconvert ! autovideosink");
  gst_element_class_add_static_metadata (element_class,
      GST_ELEMENT_METADATA_DOC_URI, "docs/elements/whepsrc.md");

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_daydream_whep_src_change_state);
  bin_class->handle_message =
      GST_DEBUG_FUNCPTR (gst_daydream_whep_src_handle_message);
  bin_class->add_element =
      GST_DEBUG_FUNCPTR (gst_daydream_whep_src_add_element);
  element_class->send_event =
      GST_DEBUG_FUNCPTR (gst_daydream_whep_src_send_event);
}
