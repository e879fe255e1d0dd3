/* daydream-rtc: push API of the framebridgesrc element
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * This header needs no library to link against: the functions are thin inline
 * wrappers over the element's action signals, so any program that loads the
 * "daydreamrtc" plugin (GST_PLUGIN_PATH or the system plugin directory) can
 * use them. From Python (gi), emit the signals directly:
 *
 *   res = src.emit ("push-frame", "RGB", 512, 512, GLib.Bytes.new (data), 0)
 *
 * Frames are raw video in one of the formats listed in the element
 * documentation (RGB, BGR, RGBA, BGRA, RGBx, BGRx, I420, NV12), either with
 * GStreamer's default strides (rows of RGB padded to 4 bytes) or tightly
 * packed (rows of exactly width * bytes-per-pixel, as numpy and PIL give).
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

/**
 * GstDaydreamFrameBridgeResult:
 * @GST_DAYDREAM_FRAME_BRIDGE_OK: the frame was queued
 * @GST_DAYDREAM_FRAME_BRIDGE_FULL: the queue is full (backpressure mode) and
 *   no room appeared within the timeout; nothing was queued, push again later
 * @GST_DAYDREAM_FRAME_BRIDGE_INVALID: the frame was rejected: unsupported
 *   format, bad size, or a byte size that does not match the format and size
 * @GST_DAYDREAM_FRAME_BRIDGE_FLUSHING: the element stopped while the push
 *   waited for room; nothing was queued
 *
 * Result of a push. The values double as #GError codes in the
 * GST_DAYDREAM_FRAME_BRIDGE_ERROR domain.
 */
typedef enum
{
  GST_DAYDREAM_FRAME_BRIDGE_OK = 0,
  GST_DAYDREAM_FRAME_BRIDGE_FULL = 1,
  GST_DAYDREAM_FRAME_BRIDGE_INVALID = 2,
  GST_DAYDREAM_FRAME_BRIDGE_FLUSHING = 3,
} GstDaydreamFrameBridgeResult;

#define GST_DAYDREAM_FRAME_BRIDGE_ERROR \
  (g_quark_from_static_string ("gst-daydream-frame-bridge-error-quark"))

/**
 * gst_daydream_frame_bridge_push_sample:
 * @src: a framebridgesrc element
 * @sample: (transfer none): raw video: caps with format, width and height,
 *   and a buffer holding one frame
 * @timeout_us: how long to wait for room when the queue is full in
 *   backpressure mode: 0 = do not wait, -1 = until room or stop
 * @error: (out) (optional): why the frame was not queued
 *
 * Queues one frame. Thread-safe; any number of threads may push at once.
 * The buffer is referenced, not copied, unless its rows need repacking.
 *
 * Returns: %GST_DAYDREAM_FRAME_BRIDGE_OK when queued.
 */
static inline GstDaydreamFrameBridgeResult
gst_daydream_frame_bridge_push_sample (GstElement * src, GstSample * sample,
    gint64 timeout_us, GError ** error)
{
  gint res = GST_DAYDREAM_FRAME_BRIDGE_INVALID;

  g_signal_emit_by_name (src, "push-sample", sample, timeout_us,
      (gpointer) error, &res);
  return (GstDaydreamFrameBridgeResult) res;
}

/**
 * gst_daydream_frame_bridge_push_bytes:
 * @src: a framebridgesrc element
 * @format: pixel format of @data
 * @width: frame width in pixels
 * @height: frame height in pixels
 * @data: (transfer none): the pixels; referenced, not copied
 * @timeout_us: as for gst_daydream_frame_bridge_push_sample()
 * @error: (out) (optional): why the frame was not queued
 *
 * Queues one frame given as bytes.
 *
 * Returns: %GST_DAYDREAM_FRAME_BRIDGE_OK when queued.
 */
static inline GstDaydreamFrameBridgeResult
gst_daydream_frame_bridge_push_bytes (GstElement * src, GstVideoFormat format,
    guint width, guint height, GBytes * data, gint64 timeout_us,
    GError ** error)
{
  GstBuffer *buf;
  GstCaps *caps;
  GstSample *sample;
  GstDaydreamFrameBridgeResult res;

  /* no or empty data: an empty buffer, which the element rejects */
  buf = data && g_bytes_get_size (data) ? gst_buffer_new_wrapped_bytes (data) :
      gst_buffer_new ();
  caps = gst_caps_new_simple ("video/x-raw",
      "format", G_TYPE_STRING, gst_video_format_to_string (format),
      "width", G_TYPE_INT, (gint) MIN (width, G_MAXINT),
      "height", G_TYPE_INT, (gint) MIN (height, G_MAXINT), NULL);
  sample = gst_sample_new (buf, caps, NULL, NULL);
  res = gst_daydream_frame_bridge_push_sample (src, sample, timeout_us, error);
  gst_sample_unref (sample);
  gst_caps_unref (caps);
  gst_buffer_unref (buf);
  return res;
}

G_END_DECLS
