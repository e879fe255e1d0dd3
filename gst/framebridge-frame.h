/* daydream-rtc: one pushed frame of framebridgesrc, validated
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

/* The largest width or height accepted (bigger input is surely a mistake). */
#define FRAMEBRIDGE_MAX_DIMENSION 16384

#define FRAMEBRIDGE_FORMATS "{ RGB, BGR, RGBA, BGRA, RGBx, BGRx, I420, NV12 }"

typedef struct
{
  GstBuffer *buffer;            /* default GStreamer strides, always */
  GstVideoInfo info;
} FrameBridgeFrame;

FrameBridgeFrame *framebridge_frame_new (GstBuffer * buffer, GstCaps * caps,
    GError ** error);
void framebridge_frame_free (FrameBridgeFrame * frame);
gboolean framebridge_format_supported (GstVideoFormat format);
gboolean framebridge_info_same_frame (const GstVideoInfo * a,
    const GstVideoInfo * b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FrameBridgeFrame, framebridge_frame_free)

G_END_DECLS
