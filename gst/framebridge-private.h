/* daydream-rtc: framebridgesrc internals shared by its source files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Layers, each calling only those below it:
 *   gstframebridgesrc.c     element, properties, caps, start/stop, create()
 *   framebridge-queue.c     the push side: frames into the queue
 *   framebridge-pacing.c    deadlines and the pick: live, repeat, fallback
 *   framebridge-render.c    frames and fallback in the output format
 *   framebridge-fallback.c  the fallback source (pattern, images, video)
 *   framebridge-frame.c     a pushed frame: buffer and video info
 */
#pragma once

#include "gstframebridgesrc.h"
#include "framebridge-fallback.h"
#include "framebridge-frame.h"

#include <gst/video/video.h>

G_BEGIN_DECLS GST_DEBUG_CATEGORY_EXTERN (gst_daydream_frame_bridge_src_debug);

#define DEFAULT_FALLBACK_PATTERN "smpte"

typedef enum
{
  PICK_LIVE,
  PICK_REPEAT,
  PICK_FALLBACK,
} Pick;

typedef struct
{
  guint64 pushed, rejected, refused, dropped, dropped_before_start;
  guint64 output, live, repeated, fallback, late, converted, caps_changes;
} Stats;

struct _GstDaydreamFrameBridgeSrc
{
  GstPushSrc parent;

  GMutex lock;                  /* guards everything down to "streaming" */
  GCond room;                   /* queue got room, or waiting pushes must end */
  GQueue queue;                 /* (element-type FrameBridgeFrame) */
  guint max_frames;
  GstDaydreamFrameBridgeQueueMode mode;
  gint fps_n, fps_d;
  gint width, height;
  GstVideoFormat format;
  GstDaydreamFrameBridgeFallback fallback;
  gchar *fallback_location;
  gchar *fallback_pattern;
  gboolean consuming;           /* between start() and stop() */
  gboolean flushing;            /* between unlock() and unlock_stop() */
  guint generation;             /* bumped by stop(): waiting pushes give up */
  guint waiting;                /* pushes waiting for room now */
  GstClockID clock_id;          /* what create() waits on, to unschedule */
  Stats stats;

  /* streaming: touched by the streaming thread (and start/stop) only */
  GstClockTime duration;
  GstClockTime anchor;          /* running time of grid tick 0 */
  guint64 ticks;
  GstClockTime last_out_rt;
  /* latest mode: when the next new frame is due at the frame rate (the
   * "theoretical arrival time" of a GCRA shaper), and when the last one left */
  GstClockTime live_due;
  GstClockTime last_live_rt;
  FrameBridgeFrame *last;       /* last live frame */
  GstBuffer *last_out;          /* ... as sent, in last_out_info */
  GstVideoInfo last_out_info;
  GstBuffer *fallback_buf;      /* prepared before its deadline */
  gboolean fallback_fresh;      /* fallback_buf not sent yet */
  FrameBridgeFallback *fb;
  gboolean fb_failed;
  GstVideoConverter *conv;
  GstVideoInfo conv_in, conv_out;
  GstVideoInfo out_info;        /* negotiated output */
  gboolean fixed_output;        /* width/height/format set: always convert */
  gboolean discont;
  gboolean warned_refused_caps;
};

/* framebridge-queue.c: any thread */
guint fb_capacity_locked (GstDaydreamFrameBridgeSrc * self);
GstDaydreamFrameBridgeResult fb_on_push_sample (GstDaydreamFrameBridgeSrc *
    self, GstSample * sample, gint64 timeout_us, gpointer error);
GstDaydreamFrameBridgeResult fb_on_push_frame (GstDaydreamFrameBridgeSrc *
    self, const gchar * format, guint width, guint height, GBytes * data,
    gint64 timeout_us);

/* framebridge-pacing.c: streaming thread, lock held */
GstFlowReturn fb_pick_locked (GstDaydreamFrameBridgeSrc * self, Pick * pick,
    FrameBridgeFrame ** live, GstClockTime * pts, guint64 * offset);

/* framebridge-render.c: streaming thread, lock not held */
gboolean fb_prepare_fallback (GstDaydreamFrameBridgeSrc * self);
GstBuffer *fb_render_frame (GstDaydreamFrameBridgeSrc * self,
    FrameBridgeFrame * frame);

G_END_DECLS
