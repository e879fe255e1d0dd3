/* daydream-rtc: whipsink's libyuv RGB -> I420 converter (gst/whipsink-i420.c)
 *
 * Every packed RGB layout, odd sizes and padded rows against videoconvert's
 * own BT.601 conversion of the same frame; passthrough of what it does not
 * convert; the caps it offers.
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include "whipsink-i420.h"

typedef struct
{
  guint8 r, g, b;
} Rgb;

/* A frame of @format whose left half is @left and right half @right, with
 * the row stride GStreamer gives the format (rows are padded to 4 bytes). */
static GstBuffer *
make_frame (GstVideoInfo * info, Rgb left, Rgb right)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, info->size, NULL);
  GstVideoFrame frame;
  const GstVideoFormatInfo *f = info->finfo;

  fail_unless (gst_video_frame_map (&frame, info, buf, GST_MAP_WRITE));
  for (gint y = 0; y < GST_VIDEO_INFO_HEIGHT (info); y++) {
    guint8 *row = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
        y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);

    for (gint x = 0; x < GST_VIDEO_INFO_WIDTH (info); x++) {
      Rgb c = x < GST_VIDEO_INFO_WIDTH (info) / 2 ? left : right;
      guint8 *px = row + x * GST_VIDEO_FORMAT_INFO_PSTRIDE (f, 0);

      if (GST_VIDEO_FORMAT_INFO_PSTRIDE (f, 0) == 4)
        memset (px, 0xff, 4);   /* alpha or padding: opaque */
      px[GST_VIDEO_FORMAT_INFO_POFFSET (f, 0)] = c.r;
      px[GST_VIDEO_FORMAT_INFO_POFFSET (f, 1)] = c.g;
      px[GST_VIDEO_FORMAT_INFO_POFFSET (f, 2)] = c.b;
    }
  }
  gst_video_frame_unmap (&frame);
  return buf;
}

/* videoconvert's BT.601 I420 of @in, the reference */
static GstBuffer *
reference_i420 (GstCaps * in_caps, GstBuffer * in, GstCaps * out_caps)
{
  GstHarness *h = gst_harness_new ("videoconvert");
  GstBuffer *out;

  gst_harness_set_caps (h, gst_caps_ref (in_caps), gst_caps_ref (out_caps));
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  gst_harness_teardown (h);
  return out;
}

static void
assert_planes_close (GstVideoInfo * info, GstBuffer * a, GstBuffer * b,
    gint tolerance, const gchar * what)
{
  GstVideoFrame fa, fb;

  fail_unless (gst_video_frame_map (&fa, info, a, GST_MAP_READ));
  fail_unless (gst_video_frame_map (&fb, info, b, GST_MAP_READ));
  for (guint p = 0; p < 3; p++) {
    guint w = GST_VIDEO_FRAME_COMP_WIDTH (&fa, p);
    guint hgt = GST_VIDEO_FRAME_COMP_HEIGHT (&fa, p);

    for (guint y = 0; y < hgt; y++) {
      const guint8 *ra = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fa, p) +
          y * GST_VIDEO_FRAME_PLANE_STRIDE (&fa, p);
      const guint8 *rb = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fb, p) +
          y * GST_VIDEO_FRAME_PLANE_STRIDE (&fb, p);

      for (guint x = 0; x < w; x++) {
        /* where the two colours meet, the two chroma filters differ */
        if (p > 0 && (x + 1 == w / 2 || x == w / 2))
          continue;
        if (ABS ((gint) ra[x] - (gint) rb[x]) > tolerance)
          fail ("%s: plane %u at %u,%u: %u, videoconvert %u", what, p, x, y,
              ra[x], rb[x]);
      }
    }
  }
  gst_video_frame_unmap (&fa);
  gst_video_frame_unmap (&fb);
}

static GstHarness *
converter_harness (void)
{
  GstElement *e = gst_object_ref_sink (g_object_new (DRTC_TYPE_I420_CONVERT,
          NULL));
  GstHarness *h = gst_harness_new_with_element (e, "sink", "src");

  gst_object_unref (e);
  return h;
}

GST_START_TEST (test_every_packed_layout_matches_videoconvert)
{
  static const gchar *formats[] = { "RGB", "BGR", "RGBA", "RGBx", "BGRA",
    "BGRx", "ARGB", "xRGB", "ABGR", "xBGR"
  };
  /* odd sizes: rows padded, a last chroma column and row of one pixel */
  static const guint sizes[][2] = { {64, 48}, {250, 250}, {33, 17} };
  const Rgb red = { 255, 0, 0 }, teal = { 20, 160, 140 };

  for (guint f = 0; f < G_N_ELEMENTS (formats); f++) {
    for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
      g_autofree gchar *what = g_strdup_printf ("%s %ux%u", formats[f],
          sizes[s][0], sizes[s][1]);
      GstCaps *in_caps = gst_caps_new_simple ("video/x-raw",
          "format", G_TYPE_STRING, formats[f],
          "width", G_TYPE_INT, sizes[s][0], "height", G_TYPE_INT, sizes[s][1],
          "framerate", GST_TYPE_FRACTION, 30, 1, NULL);
      GstCaps *out_caps = gst_caps_new_simple ("video/x-raw",
          "format", G_TYPE_STRING, "I420",
          "width", G_TYPE_INT, sizes[s][0], "height", G_TYPE_INT, sizes[s][1],
          "framerate", GST_TYPE_FRACTION, 30, 1,
          "colorimetry", G_TYPE_STRING, "bt601",
          "chroma-site", G_TYPE_STRING, "jpeg", NULL);
      GstHarness *h = converter_harness ();
      GstVideoInfo in_info, out_info;
      GstBuffer *in, *out, *ref;
      GstCaps *negotiated;

      fail_unless (gst_video_info_from_caps (&in_info, in_caps));
      fail_unless (gst_video_info_from_caps (&out_info, out_caps));
      in = make_frame (&in_info, red, teal);
      gst_harness_set_src_caps (h, gst_caps_ref (in_caps));
      gst_harness_set_sink_caps_str (h, "video/x-raw,format=I420");
      out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
      fail_unless (out != NULL, "%s: no output", what);
      negotiated = gst_pad_get_current_caps (h->sinkpad);
      fail_unless (gst_caps_is_equal (negotiated, out_caps),
          "%s: %" GST_PTR_FORMAT, what, negotiated);
      ref = reference_i420 (in_caps, in, out_caps);
      assert_planes_close (&out_info, out, ref, 2, what);
      gst_caps_unref (negotiated);
      gst_buffer_unref (ref);
      gst_buffer_unref (out);
      gst_buffer_unref (in);
      gst_harness_teardown (h);
      gst_caps_unref (in_caps);
      gst_caps_unref (out_caps);
    }
  }
}

GST_END_TEST;

GST_START_TEST (test_red_is_bt601_red)
{
  GstHarness *h = converter_harness ();
  GstVideoInfo info;
  GstBuffer *in, *out;
  GstMapInfo map;
  const Rgb red = { 255, 0, 0 };

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 16, 16);
  in = make_frame (&info, red, red);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=16,"
      "height=16,framerate=30/1");
  gst_harness_set_sink_caps_str (h, "video/x-raw,format=I420");
  out = gst_harness_push_and_pull (h, in);
  fail_unless (gst_buffer_map (out, &map, GST_MAP_READ));
  /* BT.601 limited range: red is Y 81, U 90, V 240 */
  fail_unless (ABS (map.data[0] - 81) <= 1, "Y %u", map.data[0]);
  fail_unless (ABS (map.data[256] - 90) <= 1, "U %u", map.data[256]);
  fail_unless (ABS (map.data[256 + 64] - 240) <= 1, "V %u", map.data[256 + 64]);
  gst_buffer_unmap (out, &map);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_other_formats_pass_through)
{
  static const gchar *formats[] = { "I420", "NV12", "YUY2", "GRAY8" };

  for (guint f = 0; f < G_N_ELEMENTS (formats); f++) {
    GstHarness *h = converter_harness ();
    g_autofree gchar *caps = g_strdup_printf ("video/x-raw,format=%s,"
        "width=32,height=32,framerate=30/1", formats[f]);
    GstVideoInfo info;
    GstBuffer *in, *out;
    GstCaps *in_caps, *out_caps;

    gst_harness_set_src_caps_str (h, caps);
    in_caps = gst_pad_get_current_caps (h->srcpad);
    fail_unless (gst_video_info_from_caps (&info, in_caps));
    in = gst_buffer_new_allocate (NULL, info.size, NULL);
    out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
    /* the very same buffer: nothing was converted or copied */
    fail_unless (out == in, "%s was not passed through", formats[f]);
    out_caps = gst_pad_get_current_caps (h->sinkpad);
    fail_unless (gst_caps_is_equal (out_caps, in_caps), "%s", formats[f]);
    gst_caps_unref (in_caps);
    gst_caps_unref (out_caps);
    gst_buffer_unref (out);
    gst_buffer_unref (in);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

GST_START_TEST (test_rgb_stays_rgb_when_downstream_wants_it)
{
  GstHarness *h = converter_harness ();
  GstCaps *current;

  /* a sink that only takes RGB: passthrough, not a failure */
  gst_harness_set_sink_caps_str (h, "video/x-raw,format=RGB");
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=8,"
      "height=8,framerate=30/1");
  gst_harness_push (h, gst_buffer_new_allocate (NULL, 8 * 8 * 3, NULL));
  gst_buffer_unref (gst_harness_pull (h));
  current = gst_pad_get_current_caps (h->sinkpad);
  fail_unless_equals_string (gst_structure_get_string
      (gst_caps_get_structure (current, 0), "format"), "RGB");
  gst_caps_unref (current);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
i420convert_suite (void)
{
  Suite *s = suite_create ("i420convert");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_every_packed_layout_matches_videoconvert);
  tcase_add_test (tc, test_red_is_bt601_red);
  tcase_add_test (tc, test_other_formats_pass_through);
  tcase_add_test (tc, test_rgb_stays_rgb_when_downstream_wants_it);
  return s;
}

GST_CHECK_MAIN (i420convert);
