/* daydream-rtc: whipsink's RGB -> I420 converter (libyuv)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The frames a WHIP publisher gets are nearly always packed RGB (ComfyUI,
 * framebridgesrc, most test sources) and every H.264 encoder wants I420.
 * videoconvert's generic path costs about 0.9 ms per 512x512 frame here,
 * as much as x264 itself; libyuv's SIMD rows do it in 0.05 ms. This filter
 * converts the packed RGB formats and passes anything else through
 * untouched (a videoconvert behind it handles the rest), so it can sit in
 * front of the encoder whatever comes in. The output is BT.601 limited
 * range, as libyuv computes it, and the caps say so: the encoder signals
 * it in the stream.
 *
 * Not registered as a plugin feature: whipsink creates it by type.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whipsink-i420.h"

#include <libyuv.h>

GST_DEBUG_CATEGORY_STATIC (drtc_i420_debug);
#define GST_CAT_DEFAULT drtc_i420_debug

typedef int (*PackedToI420) (const uint8_t * src, int src_stride,
    uint8_t * y, int y_stride, uint8_t * u, int u_stride, uint8_t * v,
    int v_stride, int width, int height);

struct _DrtcI420Convert
{
  GstVideoFilter parent;
  PackedToI420 convert;         /* NULL: passthrough */
};

G_DEFINE_TYPE (DrtcI420Convert, drtc_i420_convert, GST_TYPE_VIDEO_FILTER);

/* GStreamer names bytes in memory order, libyuv names little-endian
 * words: GStreamer's RGB is libyuv's RAW, its BGRx libyuv's ARGB. */
static PackedToI420
converter_for (GstVideoFormat format)
{
  switch (format) {
    case GST_VIDEO_FORMAT_RGB:
      return RAWToI420;
    case GST_VIDEO_FORMAT_BGR:
      return RGB24ToI420;
    case GST_VIDEO_FORMAT_RGBA:
    case GST_VIDEO_FORMAT_RGBx:
      return ABGRToI420;
    case GST_VIDEO_FORMAT_BGRA:
    case GST_VIDEO_FORMAT_BGRx:
      return ARGBToI420;
    case GST_VIDEO_FORMAT_ARGB:
    case GST_VIDEO_FORMAT_xRGB:
      return BGRAToI420;
    case GST_VIDEO_FORMAT_ABGR:
    case GST_VIDEO_FORMAT_xBGR:
      return RGBAToI420;
    default:
      return NULL;
  }
}

static const gchar *const packed_formats[] = { "RGB", "BGR", "RGBA", "RGBx",
  "BGRA", "BGRx", "ARGB", "xRGB", "ABGR", "xBGR"
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw"));

/* Is @format (a string value) packed RGB, or I420 when not @packed? */
static gboolean
format_is (const GValue * format, gboolean packed)
{
  const gchar *name = G_VALUE_HOLDS_STRING (format) ?
      g_value_get_string (format) : NULL;

  if (!name)
    return FALSE;
  return packed ? converter_for (gst_video_format_from_string (name)) != NULL
      : g_str_equal (name, "I420");
}

/* Does @s (a format or a list of formats) hold a packed RGB format, or I420
 * (looking from the src side)? */
static gboolean
structure_has (const GstStructure * s, gboolean packed)
{
  const GValue *format = gst_structure_get_value (s, "format");

  if (!format)
    return TRUE;                /* any format: that one too */
  if (!GST_VALUE_HOLDS_LIST (format))
    return format_is (format, packed);
  for (guint i = 0; i < gst_value_list_get_size (format); i++)
    if (format_is (gst_value_list_get_value (format, i), packed))
      return TRUE;
  return FALSE;
}

/* Every structure stays (passthrough); where packed RGB can come in, I420
 * can go out, and where I420 goes out, packed RGB can come in. Downstream,
 * I420 comes first: it is what this element is for (a videoconvert behind
 * it would otherwise take the RGB and convert it slowly). */
static GstCaps *
drtc_i420_convert_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter)
{
  GstCaps *out = gst_caps_new_empty ();
  GstCaps *converted = gst_caps_new_empty ();
  GstCaps *result;

  for (guint i = 0; i < gst_caps_get_size (caps); i++) {
    const GstStructure *s = gst_caps_get_structure (caps, i);
    GstCapsFeatures *f = gst_caps_get_features (caps, i);
    GstStructure *other;

    gst_caps_append_structure_full (out, gst_structure_copy (s),
        gst_caps_features_copy (f));
    if (!gst_caps_features_is_equal (f, GST_CAPS_FEATURES_MEMORY_SYSTEM_MEMORY)
        || !structure_has (s, direction == GST_PAD_SINK))
      continue;
    other = gst_structure_copy (s);
    gst_structure_remove_fields (other, "colorimetry", "chroma-site", NULL);
    if (direction == GST_PAD_SINK) {
      gst_structure_set (other, "format", G_TYPE_STRING, "I420",
          "colorimetry", G_TYPE_STRING, "bt601", "chroma-site", G_TYPE_STRING,
          "jpeg", NULL);
    } else {
      GValue formats = G_VALUE_INIT, name = G_VALUE_INIT;

      gst_value_list_init (&formats, G_N_ELEMENTS (packed_formats));
      g_value_init (&name, G_TYPE_STRING);
      for (guint k = 0; k < G_N_ELEMENTS (packed_formats); k++) {
        g_value_set_static_string (&name, packed_formats[k]);
        gst_value_list_append_value (&formats, &name);
      }
      g_value_unset (&name);
      gst_structure_take_value (other, "format", &formats);
    }
    gst_caps_append_structure (converted, other);
  }
  if (direction == GST_PAD_SINK)
    out = gst_caps_merge (converted, out);
  else
    out = gst_caps_merge (out, converted);
  if (filter) {
    result = gst_caps_intersect_full (filter, out, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (out);
  } else {
    result = out;
  }
  GST_DEBUG_OBJECT (trans, "%s %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
      direction == GST_PAD_SINK ? "sink" : "src", caps, result);
  return result;
}

static gboolean
drtc_i420_convert_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  DrtcI420Convert *self = DRTC_I420_CONVERT (filter);
  GstVideoFormat in = GST_VIDEO_INFO_FORMAT (in_info);
  GstVideoFormat out = GST_VIDEO_INFO_FORMAT (out_info);

  if (GST_VIDEO_INFO_WIDTH (in_info) != GST_VIDEO_INFO_WIDTH (out_info)
      || GST_VIDEO_INFO_HEIGHT (in_info) != GST_VIDEO_INFO_HEIGHT (out_info))
    return FALSE;
  /* the same format passes through; packed RGB becomes I420 */
  self->convert = in == out ? NULL : converter_for (in);
  if (in != out && (out != GST_VIDEO_FORMAT_I420 || !self->convert)) {
    GST_WARNING_OBJECT (self, "cannot convert %s to %s",
        gst_video_format_to_string (in), gst_video_format_to_string (out));
    return FALSE;
  }
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self),
      self->convert == NULL);
  GST_INFO_OBJECT (self, "%s -> %s%s", gst_video_format_to_string (in),
      gst_video_format_to_string (out), self->convert ? " (libyuv)" : "");
  return TRUE;
}

static GstFlowReturn
drtc_i420_convert_transform_frame (GstVideoFilter * filter,
    GstVideoFrame * in, GstVideoFrame * out)
{
  DrtcI420Convert *self = DRTC_I420_CONVERT (filter);

  if (self->convert (GST_VIDEO_FRAME_PLANE_DATA (in, 0),
          GST_VIDEO_FRAME_PLANE_STRIDE (in, 0),
          GST_VIDEO_FRAME_PLANE_DATA (out, 0),
          GST_VIDEO_FRAME_PLANE_STRIDE (out, 0),
          GST_VIDEO_FRAME_PLANE_DATA (out, 1),
          GST_VIDEO_FRAME_PLANE_STRIDE (out, 1),
          GST_VIDEO_FRAME_PLANE_DATA (out, 2),
          GST_VIDEO_FRAME_PLANE_STRIDE (out, 2),
          GST_VIDEO_FRAME_WIDTH (in), GST_VIDEO_FRAME_HEIGHT (in)) != 0) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Could not convert a frame "
            "to I420"), ("libyuv refused %dx%d",
            GST_VIDEO_FRAME_WIDTH (in), GST_VIDEO_FRAME_HEIGHT (in)));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

static void
drtc_i420_convert_class_init (DrtcI420ConvertClass * klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (drtc_i420_debug, "whipsinki420", 0,
      "whipsink's RGB to I420 converter");
  gst_element_class_set_static_metadata (element_class,
      "RGB to I420 (libyuv)", "Filter/Converter/Video",
      "Packed RGB to I420 with libyuv; anything else passes through",
      "daydream-rtc");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  trans_class->transform_caps =
      GST_DEBUG_FUNCPTR (drtc_i420_convert_transform_caps);
  trans_class->passthrough_on_same_caps = TRUE;
  filter_class->set_info = GST_DEBUG_FUNCPTR (drtc_i420_convert_set_info);
  filter_class->transform_frame =
      GST_DEBUG_FUNCPTR (drtc_i420_convert_transform_frame);
}

static void
drtc_i420_convert_init (DrtcI420Convert * self)
{
}
