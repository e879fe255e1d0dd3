/* daydream-rtc: whepsrc's WHEP connection, shared by its signalling files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   whepsrc-conn.c     the connection: lifetime, jobs and promises, state
 *                      and errors, backoff, SDP/HTTP checks, start/stop
 *   whepsrc-session.c  one session (a webrtcbin): the offer path, its
 *                      peer connection, losing it
 *   whepsrc-counter.c  the WHEP counter-offer (406 + offer; PATCH answer)
 *   whepsrc-watch.c    once connected: stalls, media-timeout, stats
 *
 * Everything here runs on the element's DrtcHttp thread, except where a
 * comment says otherwise (webrtcbin's signal handlers).
 */
#pragma once

#include "whepsrc-private.h"
#include "drtc-sdp.h"
#include "drtc-webrtc.h"

G_BEGIN_DECLS
#define GATHER_TIMEOUT_MS 3000
#define WATCH_INTERVAL_MS 100
#define STATS_INTERVAL_US G_USEC_PER_SEC
#define MAX_REDIRECTS 5
#define MAX_RETRY_AFTER_S 3600
#define BUSY_CAP_FACTOR 4
#define RTCP_INTERVAL_NS GST_SECOND
    struct _WhepConn
{
  GWeakRef self;
  DrtcHttp *http;               /* the element's; outlives every live job */
  GMainContext *context;
  WhepSettings *cfg;
  gchar *host;                  /* endpoint, redacted: for logs */
  GstCaps *video_rtp, *audio_rtp;       /* codec preferences */
  void (*attempt_fn) (WhepConn * conn); /* what a retry calls (up) */
  gint gen;                     /* atomic: bumped when a session starts/ends */

  /* below: the DrtcHttp thread only */
  gboolean stopped, failed;
  GstElement *webrtc;           /* the session's; the bin holds it too */
  gchar *offer_sdp;             /* posted again while the endpoint waits */
  gchar *location, *etag;
  GPtrArray *link_servers;      /* from Link rel="ice-server" */
  GPtrArray *promises;          /* ours that webrtcbin has not answered */
  GSource *retry, *watch;
  guint attempt;                /* since the last connection */
  guint failures, busy;         /* consecutive, for the backoff */
  gboolean was_connected;
  gint64 deadline_us;           /* connect-timeout, 0: none */
  gint64 answered_us, connected_us;
  gint64 last_pli_us, last_poll_us;
  guint64 last_bytes;
  guint last_status;
  gchar *last_reason;
};

/* GST_*_OBJECT for code that holds a WhepConn: the element is looked up
 * (through the weak reference) only when the level is on. */
#define WHEP_CONN_LOG(conn, level, ...) G_STMT_START {                   \
    if (G_UNLIKELY ((level) <=                                           \
            gst_debug_category_get_threshold (GST_CAT_DEFAULT))) {       \
      GstDaydreamWhepSrc *log_self_ = whep_conn_self (conn);             \
      GST_CAT_LEVEL_LOG (GST_CAT_DEFAULT, level, log_self_, __VA_ARGS__); \
      g_clear_object (&log_self_);                                       \
    }                                                                    \
  } G_STMT_END
#define WHEP_CONN_WARNING(conn, ...) \
    WHEP_CONN_LOG (conn, GST_LEVEL_WARNING, __VA_ARGS__)
#define WHEP_CONN_INFO(conn, ...) WHEP_CONN_LOG (conn, GST_LEVEL_INFO, __VA_ARGS__)
#define WHEP_CONN_DEBUG(conn, ...) \
    WHEP_CONN_LOG (conn, GST_LEVEL_DEBUG, __VA_ARGS__)

/* What a callback carries: the connection and the session it was for. */
typedef struct
{
  WhepConn *conn;
  guint gen;
} WhepJob;

/* whepsrc-conn.c */
WhepConn *whep_conn_ref (WhepConn * conn);
WhepJob *whep_job_new (WhepConn * conn);
void whep_job_free (gpointer data);
void whep_job_closure_free (gpointer data, GClosure * closure);
gboolean whep_job_live (WhepJob * job);
GstPromise *whep_conn_promise (WhepConn * conn, DrtcPromiseFunc func);
void whep_conn_interrupt_promises (WhepConn * conn);
GstDaydreamWhepSrc *whep_conn_self (WhepConn * conn);
void whep_destroy_source (GSource ** source);
GSource *whep_conn_timeout (WhepConn * conn, guint ms, GSourceFunc func,
    gpointer data, GDestroyNotify notify);
void whep_conn_post_state (WhepConn * conn, WhepState state, guint status,
    guint retry_ms, const gchar * reason);
gint64 whep_retry_after_ms (SoupMessageHeaders * headers);
void whep_conn_retry_later (WhepConn * conn, guint status, gint64 retry_after,
    gboolean busy, const gchar * reason);
gchar *whep_sdp_video_codec (const GstSDPMessage * sdp,
    const GstCaps * accepted);
gchar *whep_body_text (GBytes * body);
gboolean whep_is_sdp (DrtcHttpResponse * r);
void whep_conn_keep_resource (WhepConn * conn, DrtcHttpResponse * r);
gboolean whep_retryable (guint status);
void whep_apply_ice_server (GstElement * webrtc, const gchar * url);

/* whepsrc-session.c */
GstElement *whep_session_new (WhepConn * conn, GstDaydreamWhepSrc * self);
void whep_session_end (WhepConn * conn, gboolean delete_resource);
void whep_session_lost (WhepConn * conn, const gchar * reason);
void whep_session_fail (WhepConn * conn, GQuark domain, gint code,
    guint status, const gchar * text, const gchar * debug);
void whep_session_fail_answer (WhepConn * conn, guint status,
    const gchar * why, GBytes * body);
void whep_session_fail_http (WhepConn * conn, const gchar * method,
    DrtcHttpResponse * r);
void whep_session_fail_negotiation (WhepConn * conn, const GError * error,
    const gchar * what);
gboolean whep_session_response (WhepJob * job, DrtcHttpResponse * r,
    const GError * error, const gchar * request, gboolean end_session);

/* whepsrc-counter-offer.c */
void whep_counter_offer_take (WhepConn * conn, DrtcHttpResponse * r);

/* whepsrc-offer.c */
void whep_offer_attempt (WhepConn * conn);

/* whepsrc-watch.c */
gboolean whep_watch_tick (gpointer data);

G_END_DECLS
