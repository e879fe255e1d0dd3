/* daydream-rtc: framebridgesrc, a paced live source fed by application pushes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstpushsrc.h>

#include "daydreamrtc/framebridge.h"

G_BEGIN_DECLS

#define GST_TYPE_DAYDREAM_FRAME_BRIDGE_SRC (gst_daydream_frame_bridge_src_get_type ())
G_DECLARE_FINAL_TYPE (GstDaydreamFrameBridgeSrc, gst_daydream_frame_bridge_src,
    GST, DAYDREAM_FRAME_BRIDGE_SRC, GstPushSrc)

/**
 * GstDaydreamFrameBridgeQueueMode:
 * @GST_DAYDREAM_FRAME_BRIDGE_QUEUE_BACKPRESSURE: keep every frame; a push into
 *   a full queue waits (up to its timeout) or reports "full"; output on a
 *   fixed grid at the frame rate, so a batch plays at its real speed
 * @GST_DAYDREAM_FRAME_BRIDGE_QUEUE_LEAKY: keep the newest max-frames frames,
 *   drop (and count) the oldest; output on the fixed grid
 * @GST_DAYDREAM_FRAME_BRIDGE_QUEUE_LATEST: keep only the newest frame and send
 *   it as soon as it arrives (at most one new frame per frame interval)
 */
typedef enum
{
  GST_DAYDREAM_FRAME_BRIDGE_QUEUE_BACKPRESSURE,
  GST_DAYDREAM_FRAME_BRIDGE_QUEUE_LEAKY,
  GST_DAYDREAM_FRAME_BRIDGE_QUEUE_LATEST,
} GstDaydreamFrameBridgeQueueMode;

/**
 * GstDaydreamFrameBridgeFallback:
 * @GST_DAYDREAM_FRAME_BRIDGE_FALLBACK_PATTERN: a videotestsrc pattern
 * @GST_DAYDREAM_FRAME_BRIDGE_FALLBACK_IMAGES: the images of a folder, in name
 *   order, one per frame, looping
 * @GST_DAYDREAM_FRAME_BRIDGE_FALLBACK_VIDEO: a video file, looping
 */
typedef enum
{
  GST_DAYDREAM_FRAME_BRIDGE_FALLBACK_PATTERN,
  GST_DAYDREAM_FRAME_BRIDGE_FALLBACK_IMAGES,
  GST_DAYDREAM_FRAME_BRIDGE_FALLBACK_VIDEO,
} GstDaydreamFrameBridgeFallback;

GST_ELEMENT_REGISTER_DECLARE (framebridgesrc);

G_END_DECLS
