/* daydream-rtc serve: a stream controller's state, shared by its files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * drtc-stream-controller.c (start, stop, update, the publishing pipeline)
 * calls down into drtc-stream-report.c (what /status and /metrics say,
 * the fps/bitrate sampling), never the other way.
 */
#pragma once

#include "drtc-serve-private.h"
#include "drtc-daydream-session.h"

G_BEGIN_DECLS struct _DrtcStreamController
{
  DrtcServe *serve;
  gchar *name;
  gchar *pipeline_cache;        /* the /pipeline cache file, given at birth */
  GstElement *src;              /* framebridgesrc, kept across starts */
  GstElement *pipeline;
  GSource *bus_watch;
  DrtcDaydreamSession *session; /* this start's Daydream stream */
  struct _Pending *pending_start;       /* the /start waiting on the create */
  DrtcWhepController *whep;
  guint generation;             /* bumped by every start and stop */
  guint jobs;                   /* Daydream calls in flight that hold us */

  /* what /status reports */
  gboolean running;
  gboolean frame_loop_ready;
  gchar *stream_id, *playback_id, *whip_url, *whep_url;
  gdouble started_at;
  JsonNode *remote_status;      /* the last phase or remote poll */
  DrtcRuntimeConfig config;     /* this stream's persisted runtime config */
  DrtcRuntimeConfig settings;   /* runtime config + this start's overrides */
  gboolean settings_float;      /* frame_rate shown as 30.0 after a start */
  const gchar *queue_mode;      /* set by /config; NULL: --queue-mode */
  const gchar *run_queue_mode;  /* this start's (a /start field may say) */
  guint64 output_at_start;
  guint reconnects;
  const gchar *state;           /* idle starting waiting streaming
                                 * reconnecting failed */
  gchar *state_detail;
  gdouble fps, bitrate;         /* sent, over the last second */
  gdouble rtt;                  /* s, to the WHIP peer (RTCP); 0: none yet */
  guint64 bytes_sent;
  guint64 last_frames, last_bytes;
  gint64 last_sample_us;

  GSource *rate;                /* 1 s: fps and bitrate */
  GThread *stopper;             /* pipeline going to NULL */
};

/* drtc-stream-report.c */
GstStructure *drtc_stream_report_src_stats (DrtcStreamController * ctl);
void drtc_stream_report_start_rates (DrtcStreamController * ctl);
void drtc_stream_report_stop_rates (DrtcStreamController * ctl);

G_END_DECLS
