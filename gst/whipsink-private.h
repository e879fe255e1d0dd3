/* daydream-rtc: whipsink internals shared by its source files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Layers, each calling only those below it:
 *   gstwhipsink.c          element, properties, state changes
 *   whipsink-chain.c       encoder chain (streaming thread)
 *   whipsink-stats.c       the stats property
 *   whipsink-signalling.c  offer -> gather -> POST -> answer
 *   whipsink-reconnect.c   webrtcbin per session, connection state, backoff
 *   whipsink-resource.c    the Location: trickle PATCH, DELETE
 *   whipsink-webrtc.c      linking the stream into a webrtcbin
 *   whipsink-util.c        state reporting, locked settings, SessionRef
 * Upward there is one hook: on_caps_ready, which whipsink-webrtc.c calls
 * when webrtcbin's pad has caps (set to whip_start_session).
 */
#pragma once

#include "gstwhipsink.h"
#include "drtc-http.h"

#include <gst/webrtc/webrtc.h>

G_BEGIN_DECLS GST_DEBUG_CATEGORY_EXTERN (gst_daydream_whip_sink_debug);

typedef enum
{
  WHIP_STATE_IDLE,
  WHIP_STATE_CONNECTING,
  WHIP_STATE_CONNECTED,
  WHIP_STATE_RECONNECTING,
  WHIP_STATE_FAILED,
  WHIP_STATE_CLOSED,
} WhipState;

struct _GstDaydreamWhipSink
{
  GstBin parent;

  GstPad *sinkpad;              /* ghost, targets input's sink */
  GstElement *input;            /* identity: where the chain starts */
  GstElement *encoder;          /* NULL for H.264 input */
  GstElement *chain_end;        /* capsfilter after the payloader */
  GstCaps *rtp_caps;            /* its caps, once they name the profile */

  /* set by gstwhipsink.c: what the lower files call back up (HTTP thread) */
  void (*on_caps_ready) (GstDaydreamWhipSink * self);

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

/* What a callback carries: the element and the session it was for. */
typedef struct
{
  GWeakRef self;
  guint gen;
} SessionRef;

/* whipsink-util.c */
extern const gchar *const whip_state_names[];
void whip_set_state (GstDaydreamWhipSink * self, WhipState state,
    const gchar * detail);
void whip_fail (GstDaydreamWhipSink * self, const gchar * detail);
void whip_set_string (GstDaydreamWhipSink * self, gchar ** field,
    gchar * value, const gchar * property);
gchar *whip_dup_locked (GstDaydreamWhipSink * self, gchar ** field);
GstElement *whip_current_webrtc (GstDaydreamWhipSink * self);
SessionRef *whip_session_ref_new (GstDaydreamWhipSink * self);
void whip_webrtc_tag_session (GstElement * webrtc, guint gen);
SessionRef *whip_session_ref_for_webrtc (GstDaydreamWhipSink * self,
    GstElement * webrtc);
void whip_session_ref_free (gpointer data);
GstDaydreamWhipSink *whip_session_get (SessionRef * ref);
GWeakRef *whip_weak_ref_new (GstDaydreamWhipSink * self);
void whip_weak_ref_free (gpointer data);
void whip_weak_ref_closure_free (gpointer data, GClosure * closure);
void whip_clear_source (GSource ** source);

/* whipsink-webrtc.c */
gboolean whip_link_to_webrtc (GstDaydreamWhipSink * self, GstElement * webrtc);
void whip_set_codec_preferences (GstDaydreamWhipSink * self,
    GstElement * webrtc);

/* whipsink-resource.c */
void whip_on_ice_candidate (GstElement * webrtc, guint mline,
    const gchar * candidate, gpointer data);
void whip_send_trickle (GstDaydreamWhipSink * self, gboolean end);
void whip_delete_resource (GstDaydreamWhipSink * self, gboolean wait);

/* whipsink-reconnect.c */
GstElement *whip_make_webrtc (GstDaydreamWhipSink * self, guint gen);
void whip_start_connect_deadline (GstDaydreamWhipSink * self);
void whip_schedule_reconnect (GstDaydreamWhipSink * self, const gchar * reason);
void whip_reconnect_after (GstDaydreamWhipSink * self, const gchar * reason,
    gboolean restart);
void whip_stop_timers (GstDaydreamWhipSink * self);

/* whipsink-signalling.c */
void whip_start_session (GstDaydreamWhipSink * self);
void whip_post_offer (GstDaydreamWhipSink * self, GstElement * webrtc);

/* whipsink-chain.c */
GstPadProbeReturn whip_chain_on_input_event (GstPad * pad,
    GstPadProbeInfo * info, gpointer data);

/* whipsink-stats.c */
GstStructure *whip_make_stats (GstDaydreamWhipSink * self);

G_END_DECLS
