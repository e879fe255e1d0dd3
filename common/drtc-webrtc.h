/* daydream-rtc: webrtcbin set-up and signalling helpers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

G_BEGIN_DECLS

typedef struct
{
  const gchar *stun_server;     /* stun://host:port, or NULL */
  const gchar *const *turn_servers;     /* turn(s)://user:pass@host:port */
  const gchar *const *local_addresses;  /* gather on these only, or NULL */
  guint latency_ms;             /* jitterbuffer latency */
  gboolean upnp;                /* libnice UPnP (off: no multicast SSDP) */
  gboolean ice_tcp;             /* TCP candidates (off: faster gathering) */
} DrtcWebrtcConfig;

GstElement *drtc_webrtc_new (const gchar * name, const DrtcWebrtcConfig * cfg);

/* Called on the context given, with the promise replied (or interrupted). */
typedef void (*DrtcPromiseFunc) (GstPromise * promise, gpointer user_data);

GstPromise *drtc_promise_new (GMainContext * context, DrtcPromiseFunc func,
    gpointer user_data, GDestroyNotify notify);
gboolean drtc_promise_reply (GstPromise * promise,
    const GstStructure ** reply, GError ** error);
GstWebRTCSessionDescription *drtc_promise_description (GstPromise * promise,
    const gchar * field, GError ** error);

/* Called on the context given once gathering completed or @timeout_ms
 * passed (@complete FALSE), whichever comes first; exactly once. */
typedef void (*DrtcGatheredFunc) (GstElement * webrtc, gboolean complete,
    gpointer user_data);

void drtc_webrtc_when_gathered (GstElement * webrtc, GMainContext * context,
    guint timeout_ms, DrtcGatheredFunc func, gpointer user_data,
    GDestroyNotify notify);

gchar *drtc_webrtc_local_sdp (GstElement * webrtc);

GstWebRTCSessionDescription *drtc_webrtc_description_new (GstWebRTCSDPType type,
    GstSDPMessage * sdp);

const gchar *drtc_webrtc_state_name (GstWebRTCPeerConnectionState state);
const gchar *drtc_webrtc_ice_state_name (GstWebRTCICEConnectionState state);

G_END_DECLS
