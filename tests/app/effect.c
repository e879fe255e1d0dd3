/* daydream-rtc: tests of app/drtc-effect.c (the gateway's stand-in model) */
#include "drtc-effect.h"
#include "drtc-json.h"

#include <gst/app/gstappsink.h>
#include <string.h>

static void
settings_for (const gchar * json, DrtcEffectSettings * s)
{
  g_autoptr (JsonNode) node = drtc_json_parse (json, -1, NULL);

  g_assert_nonnull (node);
  drtc_effect_settings_from_params (json_node_get_object (node), s);
}

static void
test_keywords (void)
{
  DrtcEffectSettings s;

  settings_for ("{\"prompt\": \"An INVERTED city\", \"delta\": 1}", &s);
  g_assert_true (s.invert && !s.sepia && !s.edges);
  g_assert_cmpfloat (s.hue, ==, 0.0);
  settings_for ("{\"prompt\": \"old sepia photo with edges\"}", &s);
  g_assert_true (s.sepia && s.edges && !s.invert);
  settings_for ("{\"prompt\": \"black and white\", \"delta\": 0.25}", &s);
  g_assert_cmpfloat_with_epsilon (s.saturation, 0.75, 1e-9);
  settings_for ("{\"prompt\": [[\"negative\", 1.0], [\"x\", 0.5]]}", &s);
  g_assert_true (s.invert);
}

static void
test_tint_is_deterministic_and_follows_seed_and_delta (void)
{
  DrtcEffectSettings a, b, c, d, zero;

  settings_for ("{\"prompt\": \"oil painting\", \"seed\": 1, \"delta\": 1}",
      &a);
  settings_for ("{\"prompt\": \"oil painting\", \"seed\": 1, \"delta\": 1}",
      &b);
  settings_for ("{\"prompt\": \"oil painting\", \"seed\": 2, \"delta\": 1}",
      &c);
  settings_for ("{\"prompt\": \"oil painting\", \"seed\": 1, \"delta\": 0.5}",
      &d);
  settings_for ("{\"prompt\": \"oil painting\", \"delta\": 0}", &zero);
  g_assert_cmpfloat (a.hue, ==, b.hue);
  g_assert_cmpfloat (a.hue, !=, c.hue);
  g_assert_cmpfloat_with_epsilon (d.hue, a.hue / 2, 1e-9);
  g_assert_cmpfloat_with_epsilon (a.saturation, 1.5, 1e-9);
  g_assert_true (a.hue >= -1.0 && a.hue <= 1.0);
  /* delta 0: the effect is the identity */
  g_assert_cmpfloat (zero.hue, ==, 0.0);
  g_assert_cmpfloat (zero.saturation, ==, 1.0);
  /* delta is a strength: clamped to 0..1, default 0.7 */
  settings_for ("{\"prompt\": \"x\", \"delta\": 7}", &a);
  g_assert_cmpfloat (a.strength, ==, 1.0);
  settings_for ("{\"prompt\": 5}", &a);
  g_assert_cmpfloat (a.strength, ==, 0.7);
}

/* one frame of @rgb through the effect bin set for @params */
static void
run_effect (const gchar * params, const guint8 rgb[3], guint8 out[3])
{
  g_autofree gchar *desc = g_strdup_printf ("videotestsrc num-buffers=1 "
      "pattern=solid-color foreground-color=0xff%02x%02x%02x ! "
      "video/x-raw,format=RGBA,width=16,height=16 ! identity name=fx ! "
      "videoconvert ! video/x-raw,format=RGB ! appsink name=sink",
      rgb[0], rgb[1], rgb[2]);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstElement *fx = gst_bin_get_by_name (GST_BIN (pipeline), "fx");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  GstElement *effect = drtc_effect_bin_new ("effect");
  GstElement *next;
  GstPad *src_pad, *peer;
  DrtcEffectSettings s;
  GstSample *sample;

  /* swap the identity for the effect bin */
  src_pad = gst_element_get_static_pad (fx, "src");
  peer = gst_pad_get_peer (src_pad);
  next = gst_pad_get_parent_element (peer);
  gst_element_unlink (fx, next);
  gst_bin_add (GST_BIN (pipeline), effect);
  g_assert_true (gst_element_link_many (fx, effect, next, NULL));
  settings_for (params, &s);
  drtc_effect_bin_apply (effect, &s);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
  g_assert_nonnull (sample);
  g_assert_cmpint (gst_buffer_extract (gst_sample_get_buffer (sample),
          16 * 3 * 8 + 8 * 3, out, 3), ==, 3);
  gst_sample_unref (sample);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (peer);
  gst_object_unref (src_pad);
  gst_object_unref (next);
  gst_object_unref (fx);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

static void
assert_close (const guint8 got[3], guint r, guint g, guint b)
{
  g_assert_cmpint (ABS ((gint) got[0] - (gint) r), <=, 4);
  g_assert_cmpint (ABS ((gint) got[1] - (gint) g), <=, 4);
  g_assert_cmpint (ABS ((gint) got[2] - (gint) b), <=, 4);
}

static void
test_bin_output_matches_the_documented_table (void)
{
  const guint8 red[3] = { 255, 0, 0 }, dark[3] = { 32, 64, 128 };
  guint8 out[3];

  if (!gst_element_factory_find ("frei0r-filter-invert0r")) {
    g_test_skip ("frei0r-plugins not installed");
    return;
  }
  run_effect ("{\"prompt\": \"plain\", \"delta\": 0}", red, out);
  assert_close (out, 255, 0, 0);
  run_effect ("{\"prompt\": \"invert\"}", dark, out);
  assert_close (out, 223, 191, 127);
  run_effect ("{\"prompt\": \"edges\"}", red, out);
  assert_close (out, 0, 0, 0);
  run_effect ("{\"prompt\": \"grayscale\", \"delta\": 1}", red, out);
  g_assert_cmpint (ABS (out[0] - out[1]), <=, 2);
  g_assert_cmpint (ABS (out[1] - out[2]), <=, 2);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/effect/params/keywords", test_keywords);
  g_test_add_func ("/effect/params/tint",
      test_tint_is_deterministic_and_follows_seed_and_delta);
  g_test_add_func ("/effect/bin/table",
      test_bin_output_matches_the_documented_table);
  return g_test_run ();
}
