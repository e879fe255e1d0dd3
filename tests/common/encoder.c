/* daydream-rtc: tests of common/drtc-encoder.c (H.264 encoder choice) */
#include "drtc-encoder.h"

#include <string.h>

/* A stand-in registered under made-up names and ranks: the choice must go by
 * what is registered, not by a fixed list. */
typedef struct
{
  GstElement parent;
} FakeEnc;
typedef struct
{
  GstElementClass parent_class;
} FakeEncClass;

static GType fake_enc_get_type (void);
G_DEFINE_TYPE (FakeEnc, fake_enc, GST_TYPE_ELEMENT);

static GstStaticPadTemplate fake_src = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-h264"));
static GstStaticPadTemplate fake_sink = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw"));

static void
fake_enc_class_init (FakeEncClass * klass)
{
  GstElementClass *ec = GST_ELEMENT_CLASS (klass);

  gst_element_class_add_static_pad_template (ec, &fake_src);
  gst_element_class_add_static_pad_template (ec, &fake_sink);
  gst_element_class_set_static_metadata (ec, "Fake H.264 encoder",
      "Codec/Encoder/Video", "test", "test");
}

static void
fake_enc_init (FakeEnc * self)
{
}

static void
test_higher_rank_wins (void)
{
  g_autoptr (GError) err = NULL;
  DrtcEncoderSettings settings = { 30, 1000, 0 };
  GList *names;
  GstElement *enc;

  g_assert_true (gst_element_register (NULL, "drtctesthwh264enc",
          GST_RANK_PRIMARY + 10, fake_enc_get_type ()));
  g_assert_true (gst_element_register (NULL, "drtctestunrankedh264enc",
          GST_RANK_NONE, fake_enc_get_type ()));
  names = drtc_encoder_candidates ();
  g_assert_nonnull (names);
  g_assert_cmpstr (names->data, ==, "drtctesthwh264enc");
  /* unranked and unknown: never chosen */
  g_assert_null (g_list_find_custom (names, "drtctestunrankedh264enc",
          (GCompareFunc) g_strcmp0));
  /* x264enc (PRIMARY) still comes after the higher-ranked one */
  if (gst_element_factory_find ("x264enc"))
    g_assert_nonnull (g_list_find_custom (names, "x264enc",
            (GCompareFunc) g_strcmp0));
  g_list_free_full (names, g_free);

  enc = drtc_encoder_make (NULL, &settings, &err);
  g_assert_no_error (err);
  g_assert_cmpstr (G_OBJECT_TYPE_NAME (enc), ==, "FakeEnc");
  gst_object_unref (enc);
}

static void
test_x264_gets_low_latency_settings (void)
{
  g_autoptr (GError) err = NULL;
  DrtcEncoderSettings settings = { 30, 1500, 0 };
  GstElement *enc;
  guint bframes = 99, keyint = 0, bitrate = 0, threads = 99;
  gboolean trellis = TRUE, sliced = TRUE;

  if (!gst_element_factory_find ("x264enc")) {
    g_test_skip ("x264enc not installed");
    return;
  }
  enc = drtc_encoder_make ("x264enc", &settings, &err);
  g_assert_no_error (err);
  g_object_get (enc, "bframes", &bframes, "key-int-max", &keyint, "bitrate",
      &bitrate, NULL);
  g_assert_cmpuint (bframes, ==, 0);
  g_assert_cmpuint (keyint, ==, 15);    /* fps / 2, for Daydream's segmenter */
  g_assert_cmpuint (bitrate, ==, 1500);
  g_object_get (enc, "trellis", &trellis, "threads", &threads,
      "sliced-threads", &sliced, NULL);
  g_assert_false (trellis);     /* x264enc's default would undo ultrafast */
  g_assert_true (sliced);       /* size unknown: zerolatency's threads */
  g_assert_cmpuint (threads, ==, 0);
  gst_object_unref (enc);

  /* up to 720p: one thread, the least CPU per frame */
  settings.width = 512;
  settings.height = 512;
  enc = drtc_encoder_make ("x264enc", &settings, &err);
  g_assert_no_error (err);
  g_object_get (enc, "threads", &threads, "sliced-threads", &sliced, NULL);
  g_assert_cmpuint (threads, ==, 1);
  g_assert_false (sliced);
  gst_object_unref (enc);

  /* bigger: sliced threads, for latency */
  settings.width = 1920;
  settings.height = 1080;
  enc = drtc_encoder_make ("x264enc", &settings, &err);
  g_assert_no_error (err);
  g_object_get (enc, "threads", &threads, "sliced-threads", &sliced, NULL);
  g_assert_cmpuint (threads, ==, 0);
  g_assert_true (sliced);
  gst_object_unref (enc);
}

static void
test_unknown_override_is_an_error (void)
{
  g_autoptr (GError) err = NULL;
  DrtcEncoderSettings settings = { 30, 1000, 0 };

  g_assert_null (drtc_encoder_make ("nosuchh264enc", &settings, &err));
  g_assert_error (err, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN);
  g_assert_nonnull (strstr (err->message, "nosuchh264enc"));
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/encoder/override/unknown",
      test_unknown_override_is_an_error);
  g_test_add_func ("/encoder/x264/low-latency",
      test_x264_gets_low_latency_settings);
  g_test_add_func ("/encoder/rank/higher-wins", test_higher_rank_wins);
  return g_test_run ();
}
