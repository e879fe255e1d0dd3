/* daydream-rtc: framebridgesrc: rendering: frames and fallback in the output format
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A frame of another size or format renegotiates when downstream accepts
 * it, else it is converted to the negotiated format; the fallback (still
 * image, pattern, video) is prepared ahead of its deadline.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "framebridge-private.h"

#define GST_CAT_DEFAULT gst_daydream_frame_bridge_src_debug

static GstCaps *
current_caps (GstDaydreamFrameBridgeSrc * self)
{
  return gst_pad_get_current_caps (GST_BASE_SRC_PAD (self));
}

/* Called without the lock. Replaces self->fallback_buf with the next frame;
 * when the source is late the previous one stays and is sent again. */
gboolean
fb_prepare_fallback (GstDaydreamFrameBridgeSrc * self)
{
  g_autoptr (GstCaps) caps = current_caps (self);
  g_autoptr (GError) err = NULL;
  GstBuffer *buf;

  if (!caps)
    return FALSE;
  buf = framebridge_fallback_next (self->fb, caps, self->duration, &err);
  if (!buf && err) {
    if (self->fb_failed) {
      GST_ELEMENT_ERROR (self, STREAM, FAILED,
          ("The fallback test pattern failed too"), ("%s", err->message));
      return FALSE;
    }
    GST_ELEMENT_WARNING (self, RESOURCE, READ,
        ("Fallback failed, sending a test pattern instead"),
        ("%s", err->message));
    framebridge_fallback_free (self->fb);
    self->fb = framebridge_fallback_new
        (GST_DAYDREAM_FRAME_BRIDGE_FALLBACK_PATTERN, NULL,
        DEFAULT_FALLBACK_PATTERN);
    self->fb_failed = TRUE;
    return fb_prepare_fallback (self);
  }
  if (buf) {
    gst_buffer_replace (&self->fallback_buf, buf);
    self->fallback_fresh = TRUE;
  }
  gst_clear_buffer (&buf);
  return TRUE;
}

static GstCaps *
caps_for_info (GstDaydreamFrameBridgeSrc * self, const GstVideoInfo * info)
{
  return gst_caps_new_simple ("video/x-raw",
      "format", G_TYPE_STRING,
      gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (info)),
      "width", G_TYPE_INT, GST_VIDEO_INFO_WIDTH (info),
      "height", G_TYPE_INT, GST_VIDEO_INFO_HEIGHT (info),
      "framerate", GST_TYPE_FRACTION, self->fps_n, self->fps_d,
      "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
}

/* Follows a frame of new size or format by renegotiating, when allowed. */
static void
maybe_renegotiate (GstDaydreamFrameBridgeSrc * self, const GstVideoInfo * info)
{
  g_autoptr (GstCaps) caps = NULL;

  if (self->fixed_output || framebridge_info_same_frame (info, &self->out_info))
    return;
  caps = caps_for_info (self, info);
  if (gst_pad_peer_query_accept_caps (GST_BASE_SRC_PAD (self), caps)
      && gst_base_src_set_caps (GST_BASE_SRC (self), caps)) {
    GST_INFO_OBJECT (self, "output follows the frames: %" GST_PTR_FORMAT, caps);
    g_mutex_lock (&self->lock);
    self->stats.caps_changes++;
    g_mutex_unlock (&self->lock);
    return;
  }
  if (!self->warned_refused_caps) {
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("Downstream refused a new frame size or format; converting frames "
            "to the negotiated one"), ("refused %" GST_PTR_FORMAT, caps));
    self->warned_refused_caps = TRUE;
  }
}

/* (transfer full): @frame in the negotiated output format and size */
GstBuffer *
fb_render_frame (GstDaydreamFrameBridgeSrc * self, FrameBridgeFrame * frame)
{
  GstVideoInfo in_info;
  GstVideoFrame in, out;
  GstBuffer *buf;

  maybe_renegotiate (self, &frame->info);
  if (framebridge_info_same_frame (&frame->info, &self->out_info))
    return gst_buffer_ref (frame->buffer);

  /* pushed frames carry no rate; the converter wants equal ones */
  in_info = frame->info;
  GST_VIDEO_INFO_FPS_N (&in_info) = GST_VIDEO_INFO_FPS_N (&self->out_info);
  GST_VIDEO_INFO_FPS_D (&in_info) = GST_VIDEO_INFO_FPS_D (&self->out_info);
  if (!self->conv || !gst_video_info_is_equal (&self->conv_in, &in_info)
      || !gst_video_info_is_equal (&self->conv_out, &self->out_info)) {
    g_clear_pointer (&self->conv, gst_video_converter_free);
    self->conv = gst_video_converter_new (&in_info, &self->out_info, NULL);
    if (!self->conv)
      return NULL;
    self->conv_in = in_info;
    self->conv_out = self->out_info;
  }
  buf = gst_buffer_new_allocate (NULL, self->out_info.size, NULL);
  if (!gst_video_frame_map (&in, &in_info, frame->buffer, GST_MAP_READ)) {
    gst_buffer_unref (buf);
    return NULL;
  }
  if (!gst_video_frame_map (&out, &self->out_info, buf, GST_MAP_WRITE)) {
    gst_video_frame_unmap (&in);
    gst_buffer_unref (buf);
    return NULL;
  }
  gst_video_converter_frame (self->conv, &in, &out);
  gst_video_frame_unmap (&out);
  gst_video_frame_unmap (&in);
  g_mutex_lock (&self->lock);
  self->stats.converted++;
  g_mutex_unlock (&self->lock);
  return buf;
}
