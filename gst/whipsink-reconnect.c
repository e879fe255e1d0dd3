/* daydream-rtc: whipsink: connection state and the reconnect policy (HTTP thread)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A webrtcbin per session; its connection state, a connect deadline, a
 * grace period for a lost connection, a watchdog on packets from the peer,
 * and the exponential backoff before the next session, which is swapped in
 * from an idle probe while frames keep flowing.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whipsink-private.h"
#include "drtc-teardown.h"
#include "drtc-webrtc.h"

#include <gst/video/video.h>

/* a mid-stream disconnection this long is treated as a failure */
#define DISCONNECT_GRACE_MS 3000

#define GST_CAT_DEFAULT gst_daydream_whip_sink_debug

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

  whip_session_ref_free (sc->ref);
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
  sc->ref = whip_session_ref_for_webrtc (self, webrtc);
  g_object_get (webrtc, "connection-state", &sc->state, NULL);
  drtc_http_invoke (self->http, on_connection_state_cb, sc, state_change_free);
  gst_object_unref (self);
}


/* A new webrtcbin for session @gen with the current settings. */
GstElement *
whip_make_webrtc (GstDaydreamWhipSink * self, guint gen)
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
  whip_webrtc_tag_session (webrtc, gen);
  ref = whip_weak_ref_new (self);
  g_signal_connect_data (webrtc, "notify::connection-state",
      G_CALLBACK (on_connection_state), ref, whip_weak_ref_closure_free, 0);
  ref = whip_weak_ref_new (self);
  g_signal_connect_data (webrtc, "on-ice-candidate",
      G_CALLBACK (whip_on_ice_candidate), ref, whip_weak_ref_closure_free, 0);
  return webrtc;
}

/* ---- connection state, reconnection (HTTP thread) ---- */

static gboolean
on_connect_deadline (gpointer data)
{
  GstDaydreamWhipSink *self = whip_session_get (data);
  g_autofree gchar *reason = NULL;

  if (self) {
    g_clear_pointer (&self->connect_deadline, g_source_unref);
    reason = g_strdup_printf ("ICE/DTLS did not connect within %u s",
        self->timeout);
    whip_schedule_reconnect (self, reason);
    gst_object_unref (self);
  }
  return G_SOURCE_REMOVE;
}

/* The answer is applied: ICE and DTLS get `timeout` seconds, since a peer
 * that never answers a check (or a DTLS handshake) leaves webrtcbin
 * "connecting" for as long as it likes. */
void
whip_start_connect_deadline (GstDaydreamWhipSink * self)
{
  guint timeout;

  g_mutex_lock (&self->lock);
  timeout = MAX (self->timeout, 1);
  g_mutex_unlock (&self->lock);
  whip_clear_source (&self->connect_deadline);
  self->connect_deadline = g_timeout_source_new_seconds (timeout);
  g_source_set_callback (self->connect_deadline, on_connect_deadline,
      whip_session_ref_new (self), whip_session_ref_free);
  g_source_attach (self->connect_deadline, drtc_http_get_context (self->http));
}

static gboolean
on_grace_over (gpointer data)
{
  GstDaydreamWhipSink *self = whip_session_get (data);

  if (self) {
    g_clear_pointer (&self->grace, g_source_unref);
    whip_schedule_reconnect (self, "connection lost");
    gst_object_unref (self);
  }
  return G_SOURCE_REMOVE;
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
  GstDaydreamWhipSink *self = whip_session_get (data);
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

    whip_clear_source (&self->watchdog);
    whip_schedule_reconnect (self, reason);
  }
  gst_object_unref (self);
  return G_SOURCE_CONTINUE;
}

static void
start_watchdog (GstDaydreamWhipSink * self)
{
  g_autoptr (GstElement) webrtc = whip_current_webrtc (self);

  __atomic_store_n (&self->last_rx_us, g_get_monotonic_time (),
      __ATOMIC_RELAXED);
  whip_clear_source (&self->watchdog);
  if (!webrtc)
    return;
  watch_peer_packets (self, webrtc);
  self->watchdog = g_timeout_source_new (1000);
  g_source_set_callback (self->watchdog, on_watchdog,
      whip_session_ref_new (self), whip_session_ref_free);
  g_source_attach (self->watchdog, drtc_http_get_context (self->http));
}

static gboolean
on_connection_state_cb (gpointer data)
{
  StateChange *sc = data;
  GstDaydreamWhipSink *self = whip_session_get (sc->ref);

  if (!self)
    return G_SOURCE_REMOVE;
  GST_DEBUG_OBJECT (self, "peer connection %s",
      drtc_webrtc_state_name (sc->state));
  switch (sc->state) {
    case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED:{
      g_autoptr (GstPad) pad = self->encoder ?
          gst_element_get_static_pad (self->encoder, "src") : NULL;

      whip_clear_source (&self->grace);
      whip_clear_source (&self->connect_deadline);
      g_mutex_lock (&self->lock);
      self->reconnects = 0;
      g_mutex_unlock (&self->lock);
      g_atomic_int_set (&self->media_open, TRUE);
      whip_set_state (self, WHIP_STATE_CONNECTED, "media flowing");
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
            whip_session_ref_new (self), whip_session_ref_free);
        g_source_attach (self->grace, drtc_http_get_context (self->http));
      }
      break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_FAILED:
    case GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED:
      whip_schedule_reconnect (self, "peer connection failed");
      break;
    default:
      break;
  }
  gst_object_unref (self);
  return G_SOURCE_REMOVE;
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
  if (!whip_link_to_webrtc (swap->self, swap->new_webrtc))
    GST_ELEMENT_ERROR (swap->self, CORE, NEGOTIATION,
        ("Could not link the stream to the new connection"), (NULL));
  drtc_teardown_element (swap->old, "whipsink-teardown");
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
  webrtc = whip_make_webrtc (self, self->gen);
  gst_bin_add (GST_BIN (self), webrtc);
  gst_element_sync_state_with_parent (webrtc);
  g_mutex_lock (&self->lock);
  old = self->webrtc;
  self->webrtc = gst_object_ref (webrtc);
  g_mutex_unlock (&self->lock);
  if (!self->chain_end) {
    /* no media yet: the new webrtcbin waits for the first caps */
    drtc_teardown_element (old, "whipsink-teardown");
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
void
whip_reconnect_after (GstDaydreamWhipSink * self, const gchar * reason,
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
  whip_clear_source (&self->grace);
  whip_clear_source (&self->watchdog);
  whip_clear_source (&self->connect_deadline);
  g_mutex_lock (&self->lock);
  allowed = self->reconnect || restart;
  max = self->max_reconnects;
  attempt = restart ? 1 : ++self->reconnects;
  g_mutex_unlock (&self->lock);
  self->gen++;                  /* answers for the old session are stale */
  whip_delete_resource (self, FALSE);
  if (!restart && (!allowed || attempt > max)) {
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
        ("WHIP session lost: %s", reason),
        ("%s", allowed ? "no reconnect attempts left" : "reconnect=false"));
    whip_fail (self, reason);
    return;
  }
  delay_ms = restart ? 0 : MIN (500u << MIN (attempt - 1, 5u), 10000u);
  delay_ms += restart ? 0 : g_random_int_range (0, delay_ms / 4 + 1);
  detail = g_strdup_printf ("%s; attempt %u of %u in %u ms", reason, attempt,
      max, delay_ms);
  whip_set_state (self, WHIP_STATE_RECONNECTING, detail);
  ref = whip_weak_ref_new (self);
  self->retry = g_timeout_source_new (delay_ms);
  g_source_set_callback (self->retry, on_retry, ref, whip_weak_ref_free);
  g_source_attach (self->retry, drtc_http_get_context (self->http));
}

void
whip_schedule_reconnect (GstDaydreamWhipSink * self, const gchar * reason)
{
  whip_reconnect_after (self, reason, FALSE);
}


/* No timer of the connection fires from here on (end of stream, stop). */
void
whip_stop_timers (GstDaydreamWhipSink * self)
{
  whip_clear_source (&self->retry);
  whip_clear_source (&self->grace);
  whip_clear_source (&self->watchdog);
  whip_clear_source (&self->connect_deadline);
}
