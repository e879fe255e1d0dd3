/* daydream-rtc: one pushed frame of framebridgesrc, validated
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Callers hand over frames either with GStreamer's default row strides (RGB
 * rows padded to 4 bytes) or tightly packed (numpy, PIL, OpenCV). Both are
 * accepted; a tightly packed frame whose layout differs from the default is
 * repacked once here, so everything downstream sees default strides.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "framebridge-frame.h"
#include "daydreamrtc/framebridge.h"

static const GstVideoFormat supported_formats[] = {
  GST_VIDEO_FORMAT_RGB, GST_VIDEO_FORMAT_BGR, GST_VIDEO_FORMAT_RGBA,
  GST_VIDEO_FORMAT_BGRA, GST_VIDEO_FORMAT_RGBx, GST_VIDEO_FORMAT_BGRx,
  GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_NV12,
};

gboolean
framebridge_format_supported (GstVideoFormat format)
{
  for (guint i = 0; i < G_N_ELEMENTS (supported_formats); i++) {
    if (supported_formats[i] == format)
      return TRUE;
  }
  return FALSE;
}

gboolean
framebridge_info_same_frame (const GstVideoInfo * a, const GstVideoInfo * b)
{
  return GST_VIDEO_INFO_FORMAT (a) == GST_VIDEO_INFO_FORMAT (b)
      && GST_VIDEO_INFO_WIDTH (a) == GST_VIDEO_INFO_WIDTH (b)
      && GST_VIDEO_INFO_HEIGHT (a) == GST_VIDEO_INFO_HEIGHT (b);
}

/* @info with rows of exactly (component width * pixel stride) bytes. */
static void
tight_layout (const GstVideoInfo * info, GstVideoInfo * tight)
{
  const GstVideoFormatInfo *finfo = info->finfo;
  gsize offset = 0;

  *tight = *info;
  for (guint plane = 0; plane < GST_VIDEO_INFO_N_PLANES (info); plane++) {
    gint comp[GST_VIDEO_MAX_COMPONENTS];
    gint width, height;

    gst_video_format_info_component (finfo, plane, comp);
    width = GST_VIDEO_INFO_COMP_WIDTH (info, comp[0]);
    height = GST_VIDEO_INFO_COMP_HEIGHT (info, comp[0]);
    tight->stride[plane] = width * GST_VIDEO_INFO_COMP_PSTRIDE (info, comp[0]);
    tight->offset[plane] = offset;
    offset += (gsize) tight->stride[plane] * height;
  }
  tight->size = offset;
}

static GstBuffer *
repack (GstBuffer * in, const GstVideoInfo * in_info,
    const GstVideoInfo * out_info)
{
  GstBuffer *out = gst_buffer_new_allocate (NULL, out_info->size, NULL);
  GstVideoFrame src, dst;

  if (!out)
    return NULL;
  if (!gst_video_frame_map (&src, (GstVideoInfo *) in_info, in, GST_MAP_READ)) {
    gst_buffer_unref (out);
    return NULL;
  }
  if (!gst_video_frame_map (&dst, (GstVideoInfo *) out_info, out,
          GST_MAP_WRITE)) {
    gst_video_frame_unmap (&src);
    gst_buffer_unref (out);
    return NULL;
  }
  gst_video_frame_copy (&dst, &src);
  gst_video_frame_unmap (&dst);
  gst_video_frame_unmap (&src);
  return out;
}

/* *INDENT-OFF* */
static gboolean
invalid (GError ** error, const gchar * format, ...) G_GNUC_PRINTF (2, 3);
/* *INDENT-ON* */

static gboolean
invalid (GError ** error, const gchar * format, ...)
{
  va_list args;

  va_start (args, format);
  if (error)
    *error = g_error_new_valist (GST_DAYDREAM_FRAME_BRIDGE_ERROR,
        GST_DAYDREAM_FRAME_BRIDGE_INVALID, format, args);
  va_end (args);
  return FALSE;
}

static gboolean
read_caps (GstCaps * caps, GstVideoFormat * format, gint * width,
    gint * height, GError ** error)
{
  GstStructure *s;
  const gchar *name;

  if (!caps || gst_caps_get_size (caps) != 1)
    return invalid (error, "a frame needs caps with exactly one structure");
  s = gst_caps_get_structure (caps, 0);
  if (!gst_structure_has_name (s, "video/x-raw"))
    return invalid (error, "frames must be raw video (video/x-raw), not %s",
        gst_structure_get_name (s));
  name = gst_structure_get_string (s, "format");
  *format = name ? gst_video_format_from_string (name) :
      GST_VIDEO_FORMAT_UNKNOWN;
  if (!framebridge_format_supported (*format))
    return invalid (error, "pixel format '%s' is not supported (use one of "
        "%s)", GST_STR_NULL (name), FRAMEBRIDGE_FORMATS);
  if (!gst_structure_get_int (s, "width", width)
      || !gst_structure_get_int (s, "height", height))
    return invalid (error, "frame caps need integer width and height");
  if (*width < 1 || *height < 1 || *width > FRAMEBRIDGE_MAX_DIMENSION
      || *height > FRAMEBRIDGE_MAX_DIMENSION)
    return invalid (error, "frame size %dx%d is out of range (1..%d)", *width,
        *height, FRAMEBRIDGE_MAX_DIMENSION);
  return TRUE;
}

/* (transfer full): the frame, or NULL with @error (INVALID) set. The buffer
 * is referenced, not copied, unless its rows need repacking. */
FrameBridgeFrame *
framebridge_frame_new (GstBuffer * buffer, GstCaps * caps, GError ** error)
{
  g_autoptr (FrameBridgeFrame) frame = g_new0 (FrameBridgeFrame, 1);
  GstVideoFormat format = GST_VIDEO_FORMAT_UNKNOWN;
  GstVideoInfo tight;
  gint width = 0, height = 0;
  gsize size;

  if (!buffer) {
    invalid (error, "no frame data");
    return NULL;
  }
  if (!read_caps (caps, &format, &width, &height, error))
    return NULL;
  gst_video_info_set_format (&frame->info, format, width, height);
  GST_VIDEO_INFO_PAR_N (&frame->info) = 1;
  GST_VIDEO_INFO_PAR_D (&frame->info) = 1;
  tight_layout (&frame->info, &tight);
  size = gst_buffer_get_size (buffer);
  if (size == frame->info.size) {
    frame->buffer = gst_buffer_ref (buffer);
  } else if (size == tight.size) {
    frame->buffer = repack (buffer, &tight, &frame->info);
    if (!frame->buffer) {
      invalid (error, "could not read the frame data");
      return NULL;
    }
  } else if (tight.size == frame->info.size) {
    invalid (error, "%s %dx%d frame must be %" G_GSIZE_FORMAT " bytes, got %"
        G_GSIZE_FORMAT, gst_video_format_to_string (format), width, height,
        frame->info.size, size);
    return NULL;
  } else {
    invalid (error, "%s %dx%d frame must be %" G_GSIZE_FORMAT " bytes (or %"
        G_GSIZE_FORMAT " with rows padded to 4 bytes), got %" G_GSIZE_FORMAT,
        gst_video_format_to_string (format), width, height, tight.size,
        frame->info.size, size);
    return NULL;
  }
  return g_steal_pointer (&frame);
}

void
framebridge_frame_free (FrameBridgeFrame * frame)
{
  if (!frame)
    return;
  gst_clear_buffer (&frame->buffer);
  g_free (frame);
}
