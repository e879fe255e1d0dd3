/* daydream-rtc: whepsrc internals shared by its source files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Layers, each calling only those below it (upward: callbacks only, the
 * watch_output hook here and WhepConn's attempt_fn):
 *   gstwhepsrc.c             the element: properties, state changes, bus
 *   whepsrc-eos.c            end of stream, sent or met downstream
 *   whepsrc-run.c            one run of the connection: start, stop, finish
 *   whepsrc-watch.c          watchdog: timeouts, stalls, stats polling
 *   whepsrc-offer.c          offer -> gather -> POST -> answer
 *   whepsrc-counter-offer.c  406 with the server's offer: answer, PATCH
 *   whepsrc-session.c        one webrtcbin: made, connected, lost, ended
 *   whepsrc-conn.c           the connection's state, jobs, backoff, helpers
 *   whepsrc-chain.c          media: codecs, depayloader/decoder chains
 *   whepsrc-status.c         whep-state messages, the stats property
 *   whepsrc-settings.c       the settings a run takes a copy of
 */
#pragma once

#include "gstwhepsrc.h"
#include "drtc-http.h"

#include <gst/webrtc/webrtc.h>

G_BEGIN_DECLS GST_DEBUG_CATEGORY_EXTERN (gst_daydream_whep_src_debug);

typedef enum
{
  WHEP_STATE_IDLE,
  WHEP_STATE_CONNECTING,
  WHEP_STATE_WAITING,
  WHEP_STATE_CONNECTED,
  WHEP_STATE_RECONNECTING,
  WHEP_STATE_FAILED,
} WhepState;

/* What a connection runs with: a copy of the properties taken when it
 * starts (READY->PAUSED), so the signalling thread needs no lock. */
typedef struct
{
  gchar *endpoint;
  gchar *auth_token;
  gchar *stun_server;
  gchar *turn_server;
  gchar **local_addresses;
  GstWebRTCICETransportPolicy ice_transport_policy;
  gboolean use_link_headers;
  GstCaps *video_caps;          /* video/x-h264, video/x-vp8, in order */
  GstCaps *audio_caps;          /* NULL or empty: no audio */
  gboolean decode;
  guint timeout_s;
  guint connect_timeout_s;
  guint latency_ms;
  guint retry_interval_ms;
  guint max_retry_interval_ms;
  guint busy_retry_interval_ms;
  guint stall_timeout_ms;
  guint media_timeout_ms;
} WhepSettings;

WhepSettings *whep_settings_copy (const WhepSettings * s);
void whep_settings_clear (WhepSettings * s);
void whep_settings_free (WhepSettings * s);

typedef struct _WhepChain WhepChain;
typedef struct _WhepConn WhepConn;

struct _GstDaydreamWhepSrc
{
  GstBin parent;

  GstPad *srcpad;               /* ghost, always; retargeted per session */
  GstPad *audiopad;             /* ghost, added with the first audio stream */

  GMutex lock;                  /* guards settings and the status below */
  WhepSettings settings;
  WhepState state;
  guint last_http_status;
  gchar *codec;                 /* of the current video stream */
  GstStructure *rtc_stats;      /* from webrtcbin, polled once a second */
  guint attempts, reconnects;

  GMutex chain_lock;            /* guards these; held while a chain is built */
  GstElement *current_webrtc;   /* chains are built for this one only */
  GPtrArray *chains;            /* (element-type WhepChain) */
  WhepChain *video;             /* in chains, or NULL */
  WhepChain *audio;

  /* written by streaming threads: atomic */
  guint64 frames_out;
  guint64 bytes_in;
  guint64 keyframe_requests;
  gint64 last_in_us;
  gint64 last_out_us;
  guint64 bitrate;

  DrtcHttp *http;               /* NULL->READY until READY->NULL */
  WhepConn *conn;               /* READY->PAUSED until PAUSED->READY */
  gboolean running;             /* READY->PAUSED until PAUSED->READY */
  gboolean managed;             /* a daydreamcontrol sets whep-endpoint */
  gint ended;                   /* atomic: EOS sent or met (whepsrc-eos.c) */
  gint downstream_failed;       /* atomic: downstream answered an error */

  /* set by gstwhepsrc.c: what the lower files call back up */
  void (*watch_output) (GstDaydreamWhepSrc * self, GstPad * ghost);
};

/* whepsrc-status.c: from any thread */
void whep_src_post_state (GstDaydreamWhepSrc * self, WhepState state,
    guint attempt, guint http_status, guint retry_ms, const gchar * reason);
void whep_src_count (GstDaydreamWhepSrc * self, gboolean attempt,
    gboolean reconnect);
void whep_src_set_rtc_stats (GstDaydreamWhepSrc * self, GstStructure * stats);
GstStructure *whep_src_make_stats (GstDaydreamWhepSrc * self);
void whep_src_reset_status (GstDaydreamWhepSrc * self);

/* whepsrc-chain.c */
GstCaps *whep_chain_rtp_caps (const GstCaps * caps, const gchar * media,
    gboolean decode, gchar ** missing);
gboolean whep_chain_rtp_caps_has (const GstCaps * rtp_caps,
    const gchar * encoding);
void whep_chain_attach (GstDaydreamWhepSrc * self, GstElement * webrtc);
void whep_chain_on_pad_added (GstElement * webrtc, GstPad * pad, gpointer data);
void whep_chain_dispose (GstDaydreamWhepSrc * self, GstElement * webrtc);
gboolean whep_chain_request_keyframe (GstDaydreamWhepSrc * self);

/* whepsrc-eos.c */
gboolean whep_src_send_eos (GstDaydreamWhepSrc * self, GstEvent * eos);
void whep_src_watch_output (GstDaydreamWhepSrc * self, GstPad * ghost);
GstPad *whep_chain_sink_pad (WhepChain * chain);

/* the chain's probe lets an EOS pass only once the stream has ended */
static inline gboolean
whep_src_has_ended (GstDaydreamWhepSrc * self)
{
  return g_atomic_int_get (&self->ended);
}

/* downstream answered an error (whepsrc-eos.c): no new session fixes it */
static inline gboolean
whep_src_downstream_failed (GstDaydreamWhepSrc * self)
{
  return g_atomic_int_get (&self->downstream_failed);
}

/* whepsrc-run.c: the connection lives on self->http's thread */
WhepConn *whep_conn_start (GstDaydreamWhepSrc * self, WhepSettings * settings);
gchar *whep_conn_stop (WhepConn * conn);
void whep_conn_finish (WhepConn * conn);
void whep_conn_unref (WhepConn * conn);
void whep_conn_session_error (WhepConn * conn, guint gen, const gchar * what);
guint whep_conn_current_gen (WhepConn * conn);

/* whepsrc-conn.c */
void whep_conn_delete_sync (GstDaydreamWhepSrc * self, const gchar * location,
    const gchar * token, guint timeout_s);

#define WHEP_GEN_KEY "drtc-whep-gen"

G_END_DECLS
