/* daydream-rtc: tests of framebridgesrc (gst/gstframebridgesrc.c)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pacing is checked against a GstTestClock: each buffer waits on the clock
 * for its deadline, the test advances the clock to exactly that deadline, so
 * timestamps are compared for equality and nothing depends on how fast the
 * machine is.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/check/gsttestclock.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include <daydreamrtc/framebridge.h>

#define FPS 30
#define TICK(n) gst_util_uint64_scale ((n), GST_SECOND, FPS)

/* ---- helpers ---- */

static GstElement *
make_src (const gchar * first_prop, ...)
{
  GstElement *src = gst_element_factory_make ("framebridgesrc", NULL);
  va_list args;

  fail_unless (src != NULL,
      "framebridgesrc not found: is GST_PLUGIN_PATH set?");
  gst_object_ref_sink (src);
  if (first_prop) {
    va_start (args, first_prop);
    g_object_set_valist (G_OBJECT (src), first_prop, args);
    va_end (args);
  }
  return src;
}

/* An RGB frame of one grey value: v identifies the frame in the output. */
static GBytes *
grey_rgb (guint width, guint height, guint8 v)
{
  gsize stride = GST_ROUND_UP_4 (width * 3);
  guint8 *data = g_malloc (stride * height);

  memset (data, v, stride * height);
  return g_bytes_new_take (data, stride * height);
}

static GstDaydreamFrameBridgeResult
push_grey (GstElement * src, guint width, guint height, guint8 v,
    gint64 timeout_us)
{
  g_autoptr (GBytes) bytes = grey_rgb (width, height, v);
  g_autoptr (GError) err = NULL;
  GstDaydreamFrameBridgeResult res;

  res = gst_daydream_frame_bridge_push_bytes (src, GST_VIDEO_FORMAT_RGB,
      width, height, bytes, timeout_us, &err);
  fail_unless ((res == GST_DAYDREAM_FRAME_BRIDGE_OK) == (err == NULL));
  return res;
}

static guint64
get_stat (GstElement * src, const gchar * field)
{
  g_autoptr (GstStructure) s = NULL;
  guint64 v64 = 0;
  guint v = 0;

  g_object_get (src, "stats", &s, NULL);
  fail_unless (s != NULL);
  if (gst_structure_get_uint64 (s, field, &v64))
    return v64;
  fail_unless (gst_structure_get_uint (s, field, &v), "no stat %s", field);
  return v;
}

static GstHarness *
start_harness (GstElement * src)
{
  GstHarness *h = gst_harness_new_with_element (src, NULL, "src");

  gst_harness_use_testclock (h);
  gst_harness_play (h);
  return h;
}

static GstBuffer *
crank_and_pull (GstHarness * h)
{
  fail_unless (gst_harness_crank_single_clock_wait (h));
  return gst_harness_pull (h);
}

static guint8
first_byte (GstBuffer * buf)
{
  guint8 b = 0;

  fail_unless_equals_int (gst_buffer_extract (buf, 0, &b, 1), 1);
  return b;
}

static void
pull_expect_grey (GstHarness * h, gboolean crank, guint8 expected)
{
  GstBuffer *buf = crank ? crank_and_pull (h) : gst_harness_pull (h);

  fail_unless (buf != NULL);
  fail_unless_equals_int (first_byte (buf), expected);
  gst_buffer_unref (buf);
}

static void
current_size (GstHarness * h, const gchar ** format, gint * w, gint * ht)
{
  GstCaps *caps = gst_pad_get_current_caps (h->sinkpad);
  GstStructure *s;

  fail_unless (caps != NULL);
  s = gst_caps_get_structure (caps, 0);
  *format = g_intern_string (gst_structure_get_string (s, "format"));
  fail_unless (gst_structure_get_int (s, "width", w));
  fail_unless (gst_structure_get_int (s, "height", ht));
  gst_caps_unref (caps);
}

static void
run_to_eos (const gchar * desc, const gchar * location)
{
  g_autoptr (GError) err = NULL;
  GstElement *pipeline = gst_parse_launch (desc, &err);
  GstElement *sink;
  GstMessage *msg;
  GstBus *bus;

  fail_unless (pipeline != NULL, "%s", err ? err->message : desc);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  g_object_set (sink, "location", location, NULL);
  gst_object_unref (sink);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

static void
read_rgb (GstBuffer * buf, guint offset, guint8 rgb[3])
{
  fail_unless_equals_int (gst_buffer_extract (buf, offset, rgb, 3), 3);
}

/* ---- bad input ---- */

GST_START_TEST (test_invalid_frames_rejected)
{
  GstElement *src = make_src (NULL);
  g_autoptr (GBytes) small = g_bytes_new_static ("garbage", 7);
  g_autoptr (GBytes) frame = grey_rgb (64, 64, 1);
  g_autoptr (GError) err = NULL;
  GstDaydreamFrameBridgeResult res;
  GstCaps *png_caps;
  GstSample *sample;
  GstBuffer *buf;
  guint i;

  /* byte size does not match format and size */
  res = gst_daydream_frame_bridge_push_bytes (src, GST_VIDEO_FORMAT_RGB, 64,
      64, small, 0, &err);
  fail_unless_equals_int (res, GST_DAYDREAM_FRAME_BRIDGE_INVALID);
  fail_unless (g_error_matches (err, GST_DAYDREAM_FRAME_BRIDGE_ERROR,
          GST_DAYDREAM_FRAME_BRIDGE_INVALID));
  fail_unless (strstr (err->message, "12288 bytes") != NULL, "%s",
      err->message);
  g_clear_error (&err);

  /* a real frame, but declared as another size or format */
  res = gst_daydream_frame_bridge_push_bytes (src, GST_VIDEO_FORMAT_RGBA, 64,
      64, frame, 0, &err);
  fail_unless_equals_int (res, GST_DAYDREAM_FRAME_BRIDGE_INVALID);
  g_clear_error (&err);
  res = gst_daydream_frame_bridge_push_bytes (src, GST_VIDEO_FORMAT_RGB, 64,
      65, frame, 0, &err);
  fail_unless_equals_int (res, GST_DAYDREAM_FRAME_BRIDGE_INVALID);
  g_clear_error (&err);

  /* sizes out of range, unsupported formats */
  res = gst_daydream_frame_bridge_push_bytes (src, GST_VIDEO_FORMAT_RGB, 0,
      64, frame, 0, &err);
  fail_unless_equals_int (res, GST_DAYDREAM_FRAME_BRIDGE_INVALID);
  fail_unless (strstr (err->message, "out of range") != NULL);
  g_clear_error (&err);
  res = gst_daydream_frame_bridge_push_bytes (src, GST_VIDEO_FORMAT_RGB,
      100000, 1, frame, 0, &err);
  fail_unless_equals_int (res, GST_DAYDREAM_FRAME_BRIDGE_INVALID);
  g_clear_error (&err);
  res = gst_daydream_frame_bridge_push_bytes (src, GST_VIDEO_FORMAT_YUY2, 64,
      64, frame, 0, &err);
  fail_unless_equals_int (res, GST_DAYDREAM_FRAME_BRIDGE_INVALID);
  fail_unless (strstr (err->message, "not supported") != NULL);
  g_clear_error (&err);

  /* the gi-facing signal with junk arguments */
  g_signal_emit_by_name (src, "push-frame", "NOPE", 64, 64, frame,
      (gint64) 0, &res);
  fail_unless_equals_int (res, GST_DAYDREAM_FRAME_BRIDGE_INVALID);
  g_signal_emit_by_name (src, "push-frame", NULL, 64, 64, frame, (gint64) 0,
      &res);
  fail_unless_equals_int (res, GST_DAYDREAM_FRAME_BRIDGE_INVALID);
  g_signal_emit_by_name (src, "push-frame", "RGB", 64, 64, NULL, (gint64) 0,
      &res);
  fail_unless_equals_int (res, GST_DAYDREAM_FRAME_BRIDGE_INVALID);
  g_signal_emit_by_name (src, "push-frame", "RGB", G_MAXUINT, G_MAXUINT,
      frame, (gint64) 0, &res);
  fail_unless_equals_int (res, GST_DAYDREAM_FRAME_BRIDGE_INVALID);

  /* encoded data and samples without caps or buffer */
  buf = gst_buffer_new_wrapped_bytes (frame);
  png_caps = gst_caps_new_empty_simple ("image/png");
  sample = gst_sample_new (buf, png_caps, NULL, NULL);
  res = gst_daydream_frame_bridge_push_sample (src, sample, 0, &err);
  fail_unless_equals_int (res, GST_DAYDREAM_FRAME_BRIDGE_INVALID);
  fail_unless (strstr (err->message, "raw video") != NULL);
  g_clear_error (&err);
  gst_sample_unref (sample);
  sample = gst_sample_new (buf, NULL, NULL, NULL);
  res = gst_daydream_frame_bridge_push_sample (src, sample, 0, &err);
  fail_unless_equals_int (res, GST_DAYDREAM_FRAME_BRIDGE_INVALID);
  g_clear_error (&err);
  gst_sample_unref (sample);
  res = gst_daydream_frame_bridge_push_sample (src, NULL, 0, &err);
  fail_unless_equals_int (res, GST_DAYDREAM_FRAME_BRIDGE_INVALID);
  g_clear_error (&err);
  gst_caps_unref (png_caps);
  gst_buffer_unref (buf);

  /* random byte counts never crash and never get in; the first is none */
  for (i = 0; i < 200; i++) {
    gsize n = i == 0 ? 0 : g_random_int_range (0, 20000);
    g_autoptr (GBytes) junk = NULL;

    if (n == 12288)
      n = 12289;
    junk = g_bytes_new_take (g_malloc0 (n), n);
    res = gst_daydream_frame_bridge_push_bytes (src, GST_VIDEO_FORMAT_RGB, 64,
        64, junk, 0, NULL);
    fail_unless_equals_int (res, GST_DAYDREAM_FRAME_BRIDGE_INVALID);
  }

  fail_unless_equals_int (get_stat (src, "queue-depth"), 0);
  fail_unless_equals_int (get_stat (src, "pushed"), 0);
  /* twelve bad frames above (a missing sample is no frame), 200 here */
  fail_unless_equals_int (get_stat (src, "rejected"), 12 + 200);
  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_invalid_fallback_settings_fail_state_change)
{
  GstElement *src = make_src ("fallback", 2, "fallback-location",
      "/nonexistent/clip.mp4", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;

  gst_element_set_bus (src, bus);
  fail_unless_equals_int (gst_element_set_state (src, GST_STATE_READY),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_unref (msg);
  gst_element_set_state (src, GST_STATE_NULL);

  g_object_set (src, "fallback", 0, "fallback-pattern", "no-such-pattern",
      NULL);
  fail_unless_equals_int (gst_element_set_state (src, GST_STATE_READY),
      GST_STATE_CHANGE_FAILURE);
  gst_element_set_state (src, GST_STATE_NULL);

  g_object_set (src, "fallback", 1, "fallback-location", "/nonexistent", NULL);
  fail_unless_equals_int (gst_element_set_state (src, GST_STATE_READY),
      GST_STATE_CHANGE_FAILURE);
  gst_element_set_state (src, GST_STATE_NULL);
  gst_element_set_bus (src, NULL);
  gst_object_unref (bus);
  gst_object_unref (src);
}

GST_END_TEST;

/* ---- queue policy ---- */

GST_START_TEST (test_before_start_keeps_newest_up_to_bound)
{
  GstElement *src = make_src (NULL);
  GstHarness *h;
  guint i;

  for (i = 0; i < 100; i++)
    fail_unless_equals_int (push_grey (src, 16, 16, i, 0),
        GST_DAYDREAM_FRAME_BRIDGE_OK);
  fail_unless_equals_int (get_stat (src, "queue-depth"), 90);
  fail_unless_equals_int (get_stat (src, "dropped-before-start"), 10);
  fail_unless_equals_int (get_stat (src, "dropped"), 0);

  h = start_harness (src);
  /* the oldest ten went; the rest leave in order, one per tick */
  pull_expect_grey (h, FALSE, 10);
  for (i = 11; i < 15; i++)
    pull_expect_grey (h, TRUE, i);
  fail_unless_equals_int (get_stat (src, "queue-depth"), 85);
  gst_harness_teardown (h);
  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_backpressure_refuses_when_full_and_drops_nothing)
{
  GstElement *src = make_src ("max-frames", 3, NULL);
  GstHarness *h = start_harness (src);
  guint i;

  gst_buffer_unref (gst_harness_pull (h));      /* fallback at t=0 */
  for (i = 1; i <= 3; i++)
    fail_unless_equals_int (push_grey (src, 16, 16, i, 0),
        GST_DAYDREAM_FRAME_BRIDGE_OK);
  fail_unless_equals_int (push_grey (src, 16, 16, 4, 0),
      GST_DAYDREAM_FRAME_BRIDGE_FULL);
  /* waiting a while does not help while nothing is consumed */
  fail_unless_equals_int (push_grey (src, 16, 16, 4, 20000),
      GST_DAYDREAM_FRAME_BRIDGE_FULL);
  fail_unless_equals_int (get_stat (src, "refused"), 2);

  pull_expect_grey (h, TRUE, 1);
  fail_unless_equals_int (push_grey (src, 16, 16, 4, 0),
      GST_DAYDREAM_FRAME_BRIDGE_OK);
  for (i = 2; i <= 4; i++)
    pull_expect_grey (h, TRUE, i);
  pull_expect_grey (h, TRUE, 4);        /* queue empty: repeat */
  fail_unless_equals_int (get_stat (src, "dropped"), 0);
  fail_unless_equals_int (get_stat (src, "pushed"), 4);
  fail_unless_equals_int (get_stat (src, "live"), 4);
  fail_unless_equals_int (get_stat (src, "repeated"), 1);
  gst_harness_teardown (h);
  gst_object_unref (src);
}

GST_END_TEST;

typedef struct
{
  GstElement *src;
  guint8 value;
  gint64 timeout_us;
  GstDaydreamFrameBridgeResult result;
} PushJob;

static gpointer
push_in_thread (gpointer data)
{
  PushJob *job = data;

  job->result = push_grey (job->src, 16, 16, job->value, job->timeout_us);
  return NULL;
}

GST_START_TEST (test_backpressure_push_waits_for_room)
{
  GstElement *src = make_src ("max-frames", 1, NULL);
  GstHarness *h = start_harness (src);
  PushJob job = { src, 2, -1, GST_DAYDREAM_FRAME_BRIDGE_INVALID };
  GThread *thread;

  gst_buffer_unref (gst_harness_pull (h));
  fail_unless_equals_int (push_grey (src, 16, 16, 1, 0),
      GST_DAYDREAM_FRAME_BRIDGE_OK);
  thread = g_thread_new ("pusher", push_in_thread, &job);
  pull_expect_grey (h, TRUE, 1);        /* makes room: the push completes */
  g_thread_join (thread);
  fail_unless_equals_int (job.result, GST_DAYDREAM_FRAME_BRIDGE_OK);
  pull_expect_grey (h, TRUE, 2);
  gst_harness_teardown (h);
  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_stop_releases_waiting_push)
{
  GstElement *src = make_src ("max-frames", 1, NULL);
  GstHarness *h = start_harness (src);
  PushJob job = { src, 2, -1, GST_DAYDREAM_FRAME_BRIDGE_INVALID };
  GThread *thread;

  gst_buffer_unref (gst_harness_pull (h));
  fail_unless_equals_int (push_grey (src, 16, 16, 1, 0),
      GST_DAYDREAM_FRAME_BRIDGE_OK);
  thread = g_thread_new ("pusher", push_in_thread, &job);
  while (get_stat (src, "waiting") == 0)
    g_thread_yield ();
  gst_element_set_state (src, GST_STATE_NULL);
  g_thread_join (thread);
  fail_unless_equals_int (job.result, GST_DAYDREAM_FRAME_BRIDGE_FLUSHING);
  fail_unless_equals_int (get_stat (src, "waiting"), 0);
  /* what the stopped stream did not send is discarded and counted */
  fail_unless_equals_int (get_stat (src, "queue-depth"), 0);
  fail_unless_equals_int (get_stat (src, "dropped"), 1);
  fail_unless_equals_int (get_stat (src, "pushed"), 1);
  gst_harness_teardown (h);
  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_leaky_drops_oldest_after_start)
{
  GstElement *src = make_src ("max-frames", 3, "queue-mode", 1, NULL);
  GstHarness *h = start_harness (src);
  guint i;

  gst_buffer_unref (gst_harness_pull (h));
  for (i = 1; i <= 5; i++)
    fail_unless_equals_int (push_grey (src, 16, 16, i, 0),
        GST_DAYDREAM_FRAME_BRIDGE_OK);
  fail_unless_equals_int (get_stat (src, "dropped"), 2);
  fail_unless_equals_int (get_stat (src, "queue-depth"), 3);
  for (i = 3; i <= 5; i++)
    pull_expect_grey (h, TRUE, i);
  gst_harness_teardown (h);
  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_latest_sends_newest_at_once)
{
  GstElement *src = make_src ("queue-mode", 2, NULL);
  GstHarness *h = start_harness (src);
  GstBuffer *buf;
  guint i;

  buf = gst_harness_pull (h);   /* fallback at 0 */
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), 0);
  gst_buffer_unref (buf);
  buf = crank_and_pull (h);     /* nothing new: fallback again, one tick on */
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), TICK (1));
  gst_buffer_unref (buf);

  for (i = 1; i <= 3; i++)
    fail_unless_equals_int (push_grey (src, 16, 16, i, 0),
        GST_DAYDREAM_FRAME_BRIDGE_OK);
  fail_unless_equals_int (get_stat (src, "queue-depth"), 1);
  fail_unless_equals_int (get_stat (src, "dropped"), 2);

  /* the newest frame leaves 1 ms after the last buffer, not at tick 2 */
  buf = crank_and_pull (h);
  fail_unless_equals_int (first_byte (buf), 3);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), TICK (1) + GST_MSECOND);
  gst_buffer_unref (buf);
  /* then it repeats, a quarter interval late the first time (a producer
   * at the frame rate does not race the repeat), then at the frame rate */
  buf = crank_and_pull (h);
  fail_unless_equals_int (first_byte (buf), 3);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf),
      TICK (1) + GST_MSECOND + TICK (1) + TICK (1) / 4);
  gst_buffer_unref (buf);
  buf = crank_and_pull (h);
  fail_unless_equals_int (first_byte (buf), 3);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf),
      TICK (1) + GST_MSECOND + 2 * TICK (1) + TICK (1) / 4);
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
  gst_object_unref (src);
}

GST_END_TEST;

/* A producer at the frame rate, a little late now and then, must not push
 * its later frames back: each one leaves when it arrives. */
GST_START_TEST (test_latest_does_not_ratchet)
{
  GstElement *src = make_src ("queue-mode", 2, NULL);
  GstHarness *h = start_harness (src);
  GstTestClock *clock = gst_harness_get_testclock (h);
  GstClockTime d = TICK (1), allowance;
  GstBuffer *buf;

  gst_buffer_unref (gst_harness_pull (h));      /* fallback at 0 */
  gst_test_clock_wait_for_next_pending_id (clock, NULL);

  /* 3 ms late */
  gst_test_clock_set_time (clock, d + 3 * GST_MSECOND);
  fail_unless_equals_int (push_grey (src, 16, 16, 1, 0),
      GST_DAYDREAM_FRAME_BRIDGE_OK);
  buf = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), d + 3 * GST_MSECOND);
  gst_buffer_unref (buf);

  /* the next one on time: it leaves at once, not 3 ms later */
  gst_test_clock_wait_for_next_pending_id (clock, NULL);
  gst_test_clock_set_time (clock, 2 * d + GST_MSECOND / 2);
  fail_unless_equals_int (push_grey (src, 16, 16, 2, 0),
      GST_DAYDREAM_FRAME_BRIDGE_OK);
  buf = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), 2 * d + GST_MSECOND / 2);
  gst_buffer_unref (buf);

  /* one right after waits half an interval after the last new frame */
  gst_test_clock_wait_for_next_pending_id (clock, NULL);
  gst_test_clock_set_time (clock, 2 * d + GST_MSECOND);
  fail_unless_equals_int (push_grey (src, 16, 16, 3, 0),
      GST_DAYDREAM_FRAME_BRIDGE_OK);
  buf = crank_and_pull (h);
  fail_unless_equals_int (first_byte (buf), 3);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), 2 * d + d / 2 +
      GST_MSECOND / 2);
  gst_buffer_unref (buf);

  /* that was one frame ahead of the rate, the tolerance: the next one has
   * to wait for its due time, three intervals after the first new frame */
  gst_test_clock_wait_for_next_pending_id (clock, NULL);
  gst_test_clock_set_time (clock, 3 * d);
  fail_unless_equals_int (push_grey (src, 16, 16, 4, 0),
      GST_DAYDREAM_FRAME_BRIDGE_OK);
  allowance = 4 * d + 3 * GST_MSECOND;  /* one interval per new frame */
  buf = crank_and_pull (h);
  fail_unless_equals_int (first_byte (buf), 4);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), allowance - d);
  gst_buffer_unref (buf);
  gst_object_unref (clock);
  gst_harness_teardown (h);
  gst_object_unref (src);
}

GST_END_TEST;

/* The buffer for a frame pushed at @t, failing at once (rather than at the
 * test's timeout) when the element waits on the clock beyond @t instead. */
static GstBuffer *
pull_not_held (GstHarness * h, GstTestClock * clock, GstClockTime t)
{
  for (;;) {
    GstBuffer *buf = gst_harness_try_pull (h);
    GstClockID id = NULL;

    if (buf)
      return buf;
    if (gst_test_clock_peek_next_pending_id (clock, &id)) {
      GstClockTime when = gst_clock_id_get_time (id);

      gst_clock_id_unref (id);
      /* after sending it, the element waits for the next repeat */
      if ((buf = gst_harness_try_pull (h)))
        return buf;
      fail_unless (when <= t, "frame pushed at %" GST_TIME_FORMAT
          " held back until %" GST_TIME_FORMAT, GST_TIME_ARGS (t),
          GST_TIME_ARGS (when));
    }
    g_usleep (1000);
  }
}

/* A frame that left later than it came (here: pushed before the start) must
 * not leave a standing delay: the producer's next frames, at the frame rate,
 * leave when they arrive; one a fifth of an interval late does not lose the
 * race to a repeat either. */
GST_START_TEST (test_latest_no_standing_delay)
{
  GstElement *src = make_src ("queue-mode", 2, NULL);
  GstHarness *h;
  GstTestClock *clock;
  GstClockTime d = TICK (1);
  /* in intervals: 0.6, 1.8 (late), 2.6, 3.6 */
  const GstClockTime tenths[] = { 6, 18, 26, 36 };
  GstBuffer *buf;
  guint i;

  fail_unless_equals_int (push_grey (src, 16, 16, 1, 0),
      GST_DAYDREAM_FRAME_BRIDGE_OK);
  h = start_harness (src);
  clock = gst_harness_get_testclock (h);
  buf = gst_harness_pull (h);   /* pushed 0.4 interval before it left */
  fail_unless_equals_int (first_byte (buf), 1);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), 0);
  gst_buffer_unref (buf);

  for (i = 2; i <= 5; i++) {
    GstClockTime t = d * tenths[i - 2] / 10;

    gst_test_clock_wait_for_next_pending_id (clock, NULL);
    gst_test_clock_set_time (clock, t);
    fail_unless_equals_int (push_grey (src, 16, 16, i, 0),
        GST_DAYDREAM_FRAME_BRIDGE_OK);
    buf = pull_not_held (h, clock, t);
    fail_unless_equals_int (first_byte (buf), i);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), t);
    gst_buffer_unref (buf);
  }
  fail_unless_equals_int (get_stat (src, "repeated"), 0);
  gst_object_unref (clock);
  gst_harness_teardown (h);
  gst_object_unref (src);
}

GST_END_TEST;

/* ---- pacing, timestamps, repeat ---- */

GST_START_TEST (test_grid_timestamps_and_repeat)
{
  GstElement *src = make_src (NULL);
  GstHarness *h;
  guint i;

  fail_unless_equals_int (push_grey (src, 16, 16, 7, 0),
      GST_DAYDREAM_FRAME_BRIDGE_OK);
  h = start_harness (src);
  for (i = 0; i < 10; i++) {
    GstBuffer *buf = i == 0 ? gst_harness_pull (h) : crank_and_pull (h);

    fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), TICK (i));
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (buf), TICK (1));
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), i);
    fail_unless_equals_int (GST_BUFFER_FLAG_IS_SET (buf,
            GST_BUFFER_FLAG_DISCONT), i == 0);
    fail_unless_equals_int (first_byte (buf), 7);
    gst_buffer_unref (buf);
  }
  fail_unless_equals_int (get_stat (src, "live"), 1);
  fail_unless_equals_int (get_stat (src, "repeated"), 9);

  /* a frame pushed between ticks waits for the next tick of the grid */
  fail_unless_equals_int (push_grey (src, 16, 16, 8, 0),
      GST_DAYDREAM_FRAME_BRIDGE_OK);
  {
    GstBuffer *buf = crank_and_pull (h);

    fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), TICK (10));
    fail_unless_equals_int (first_byte (buf), 8);
    gst_buffer_unref (buf);
  }
  gst_harness_teardown (h);
  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_stalled_downstream_skips_ticks)
{
  GstElement *src = make_src (NULL);
  GstHarness *h = start_harness (src);
  GstTestClock *clock = gst_harness_get_testclock (h);
  GstBuffer *buf;

  gst_buffer_unref (gst_harness_pull (h));
  gst_buffer_unref (crank_and_pull (h));
  /* the clock jumps 10 frames ahead while the source waits for tick 2 */
  gst_test_clock_wait_for_next_pending_id (clock, NULL);
  gst_test_clock_set_time (clock, TICK (12) + GST_MSECOND);
  fail_unless (gst_test_clock_crank (clock));
  buf = gst_harness_pull (h);
  /* no burst of stale buffers: the next one is on the grid, not in the past */
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), TICK (12));
  gst_buffer_unref (buf);
  fail_unless_equals_int (get_stat (src, "late"), 10);
  gst_object_unref (clock);
  gst_harness_teardown (h);
  gst_object_unref (src);
}

GST_END_TEST;

/* leaky is a live stream: after a stall the frames of the lost ticks go
 * too, so no standing delay remains; backpressure keeps every frame */
static void
stall_with_queued_frames (gint mode, guint8 expected, guint64 dropped)
{
  GstElement *src = make_src ("max-frames", 20, "queue-mode", mode, NULL);
  GstHarness *h = start_harness (src);
  GstTestClock *clock = gst_harness_get_testclock (h);
  GstBuffer *buf;
  guint i;

  gst_buffer_unref (gst_harness_pull (h));
  gst_buffer_unref (crank_and_pull (h));
  for (i = 1; i <= 8; i++)
    fail_unless_equals_int (push_grey (src, 16, 16, i, 0),
        GST_DAYDREAM_FRAME_BRIDGE_OK);
  /* downstream held the source 5 frames long before tick 2 */
  gst_test_clock_wait_for_next_pending_id (clock, NULL);
  gst_test_clock_set_time (clock, TICK (7) + GST_MSECOND);
  fail_unless (gst_test_clock_crank (clock));
  buf = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), TICK (7));
  fail_unless_equals_int (first_byte (buf), expected);
  gst_buffer_unref (buf);
  fail_unless_equals_int (get_stat (src, "late"), 5);
  fail_unless_equals_int (get_stat (src, "dropped"), dropped);
  fail_unless_equals_int (get_stat (src, "queue-depth"), 8 - 1 - dropped);
  fail_unless_equals_int (get_stat (src, "pushed"), get_stat (src, "live")
      + get_stat (src, "dropped") + get_stat (src, "queue-depth"));
  gst_object_unref (clock);
  gst_harness_teardown (h);
  gst_object_unref (src);
}

GST_START_TEST (test_leaky_stall_drops_the_lost_ticks_frames)
{
  stall_with_queued_frames (1 /* leaky */ , 6, 5);
  stall_with_queued_frames (0 /* backpressure */ , 1, 0);
}

GST_END_TEST;

GST_START_TEST (test_reports_zero_latency)
{
  GstElement *src = make_src (NULL);
  GstHarness *h = start_harness (src);
  GstQuery *query = gst_query_new_latency ();
  GstClockTime min, max;
  gboolean live;

  fail_unless (gst_pad_peer_query (h->sinkpad, query));
  gst_query_parse_latency (query, &live, &min, &max);
  fail_unless (live);
  fail_unless_equals_uint64 (min, 0);
  gst_query_unref (query);
  gst_harness_teardown (h);
  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_restart_clears_last_frame_and_queue)
{
  GstElement *src = make_src ("fallback-pattern", "black", NULL);
  GstHarness *h;
  GstBuffer *buf;

  fail_unless_equals_int (push_grey (src, 16, 16, 200, 0),
      GST_DAYDREAM_FRAME_BRIDGE_OK);
  fail_unless_equals_int (push_grey (src, 16, 16, 201, 0),
      GST_DAYDREAM_FRAME_BRIDGE_OK);
  h = start_harness (src);
  pull_expect_grey (h, FALSE, 200);
  gst_element_set_state (src, GST_STATE_READY);
  fail_unless_equals_int (get_stat (src, "queue-depth"), 0);
  fail_unless_equals_int (get_stat (src, "dropped"), 1);

  /* the new run starts from the fallback, not from the old stream's frame */
  gst_harness_play (h);
  buf = gst_harness_pull (h);
  fail_unless (buf != NULL);
  fail_unless_equals_int (get_stat (src, "fallback"), 1);
  fail_unless_equals_int (first_byte (buf), 16);        /* black luma */
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
  gst_object_unref (src);
}

GST_END_TEST;

/* ---- fallback ---- */

GST_START_TEST (test_fallback_pattern_before_first_frame)
{
  GstElement *src = make_src (NULL);
  GstHarness *h = start_harness (src);
  const gchar *format;
  GstMapInfo map;
  GstBuffer *buf;
  gint w, ht;
  gsize i, distinct = 0;

  buf = gst_harness_pull (h);
  current_size (h, &format, &w, &ht);
  fail_unless_equals_string (format, "I420");
  fail_unless_equals_int (w, 512);
  fail_unless_equals_int (ht, 512);
  /* smpte bars: many different luma values across the first row */
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  for (i = 1; i < 512; i++)
    distinct += map.data[i] != map.data[i - 1];
  fail_unless (distinct >= 5, "pattern looks flat (%" G_GSIZE_FORMAT ")",
      distinct);
  gst_buffer_unmap (buf, &map);
  gst_buffer_unref (buf);
  gst_buffer_unref (crank_and_pull (h));
  fail_unless_equals_int (get_stat (src, "fallback"), 2);

  /* the first frame ends the fallback */
  fail_unless_equals_int (push_grey (src, 16, 16, 9, 0),
      GST_DAYDREAM_FRAME_BRIDGE_OK);
  pull_expect_grey (h, TRUE, 9);
  pull_expect_grey (h, TRUE, 9);
  fail_unless_equals_int (get_stat (src, "fallback"), 2);
  gst_harness_teardown (h);
  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_fallback_images_in_name_order)
{
  g_autofree gchar *dir = g_dir_make_tmp ("framebridge-XXXXXX", NULL);
  g_autofree gchar *a = g_build_filename (dir, "a.png", NULL);
  g_autofree gchar *b = g_build_filename (dir, "b.PNG", NULL);
  g_autofree gchar *txt = g_build_filename (dir, "notes.txt", NULL);
  GstElement *src;
  GstHarness *h;
  guint8 rgb[3];
  guint i;

  run_to_eos ("videotestsrc num-buffers=1 pattern=red ! "
      "video/x-raw,width=32,height=24 ! pngenc ! filesink name=out", a);
  run_to_eos ("videotestsrc num-buffers=1 pattern=blue ! "
      "video/x-raw,width=40,height=40 ! pngenc ! filesink name=out", b);
  fail_unless (g_file_set_contents (txt, "not an image", -1, NULL));

  src = make_src ("fallback", 1, "fallback-location", dir, "width", 16,
      "height", 16, "format", GST_VIDEO_FORMAT_RGB, NULL);
  h = start_harness (src);
  for (i = 0; i < 4; i++) {
    GstBuffer *buf = i == 0 ? gst_harness_pull (h) : crank_and_pull (h);

    read_rgb (buf, 0, rgb);
    if (i % 2 == 0)
      fail_unless (rgb[0] == 255 && rgb[1] == 0 && rgb[2] == 0,
          "frame %u: %u,%u,%u", i, rgb[0], rgb[1], rgb[2]);
    else
      fail_unless (rgb[0] == 0 && rgb[1] == 0 && rgb[2] == 255,
          "frame %u: %u,%u,%u", i, rgb[0], rgb[1], rgb[2]);
    gst_buffer_unref (buf);
  }
  gst_harness_teardown (h);
  gst_object_unref (src);
  g_unlink (a);
  g_unlink (b);
  g_unlink (txt);
  g_rmdir (dir);
}

GST_END_TEST;

GST_START_TEST (test_fallback_video_loops)
{
  g_autofree gchar *dir = g_dir_make_tmp ("framebridge-XXXXXX", NULL);
  g_autofree gchar *clip = g_build_filename (dir, "clip.avi", NULL);
  GstElement *src;
  GstHarness *h;
  guint8 rgb[3];
  guint i;

  /* five frames: the fallback has to loop to fill twelve */
  run_to_eos ("videotestsrc num-buffers=5 pattern=green ! "
      "video/x-raw,width=32,height=32,framerate=30/1 ! jpegenc ! avimux ! "
      "filesink name=out", clip);
  src = make_src ("fallback", 2, "fallback-location", clip, "width", 16,
      "height", 16, "format", GST_VIDEO_FORMAT_RGB, NULL);
  h = start_harness (src);
  for (i = 0; i < 12; i++) {
    GstBuffer *buf = i == 0 ? gst_harness_pull (h) : crank_and_pull (h);

    read_rgb (buf, 16 * 3 * 8 + 8 * 3, rgb);
    fail_unless (rgb[1] > 200 && rgb[0] < 60 && rgb[2] < 60,
        "frame %u: %u,%u,%u", i, rgb[0], rgb[1], rgb[2]);
    gst_buffer_unref (buf);
  }
  fail_unless_equals_int (get_stat (src, "fallback"), 12);
  gst_harness_teardown (h);
  gst_object_unref (src);
  g_unlink (clip);
  g_rmdir (dir);
}

GST_END_TEST;

GST_START_TEST (test_broken_fallback_video_warns_and_uses_pattern)
{
  g_autofree gchar *dir = g_dir_make_tmp ("framebridge-XXXXXX", NULL);
  g_autofree gchar *clip = g_build_filename (dir, "broken.mp4", NULL);
  GstElement *src;
  GstHarness *h;
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GstBuffer *buf;

  fail_unless (g_file_set_contents (clip, "this is no video", -1, NULL));
  src = make_src ("fallback", 2, "fallback-location", clip, NULL);
  gst_element_set_bus (src, bus);
  h = start_harness (src);
  buf = gst_harness_pull (h);
  fail_unless (buf != NULL);
  gst_buffer_unref (buf);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "no warning about the broken fallback");
  gst_message_unref (msg);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);
  gst_harness_teardown (h);
  gst_element_set_bus (src, NULL);
  gst_object_unref (bus);
  gst_object_unref (src);
  g_unlink (clip);
  g_rmdir (dir);
}

GST_END_TEST;

/* ---- formats, sizes, caps changes ---- */

GST_START_TEST (test_caps_follow_frames)
{
  GstElement *src = make_src (NULL);
  GstHarness *h;
  const gchar *format;
  g_autoptr (GBytes) rgba = NULL;
  guint8 *px = g_malloc (32 * 8 * 4);
  gint w, ht;
  guint i;

  fail_unless_equals_int (push_grey (src, 16, 16, 5, 0),
      GST_DAYDREAM_FRAME_BRIDGE_OK);
  h = start_harness (src);
  pull_expect_grey (h, FALSE, 5);
  current_size (h, &format, &w, &ht);
  fail_unless_equals_string (format, "RGB");
  fail_unless (w == 16 && ht == 16);

  for (i = 0; i < 32 * 8; i++) {
    px[i * 4] = 10;
    px[i * 4 + 1] = 20;
    px[i * 4 + 2] = 30;
    px[i * 4 + 3] = 255;
  }
  rgba = g_bytes_new_take (px, 32 * 8 * 4);
  fail_unless_equals_int (gst_daydream_frame_bridge_push_bytes (src,
          GST_VIDEO_FORMAT_RGBA, 32, 8, rgba, 0, NULL),
      GST_DAYDREAM_FRAME_BRIDGE_OK);
  pull_expect_grey (h, TRUE, 10);
  current_size (h, &format, &w, &ht);
  fail_unless_equals_string (format, "RGBA");
  fail_unless (w == 32 && ht == 8);
  fail_unless_equals_int (get_stat (src, "caps-changes"), 1);
  fail_unless_equals_int (get_stat (src, "converted"), 0);
  gst_harness_teardown (h);
  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_refused_caps_change_converts)
{
  GstElement *src = make_src (NULL);
  GstHarness *h = gst_harness_new_with_element (src, NULL, "src");
  g_autoptr (GBytes) big = grey_rgb (64, 48, 77);
  GstBuffer *buf;
  gint w, ht;
  const gchar *format;

  gst_harness_set_sink_caps_str (h, "video/x-raw,format=RGB,width=16,"
      "height=16,framerate=30/1,pixel-aspect-ratio=1/1");
  gst_harness_use_testclock (h);
  gst_harness_play (h);
  gst_buffer_unref (gst_harness_pull (h));
  fail_unless_equals_int (gst_daydream_frame_bridge_push_bytes (src,
          GST_VIDEO_FORMAT_RGB, 64, 48, big, 0, NULL),
      GST_DAYDREAM_FRAME_BRIDGE_OK);
  buf = crank_and_pull (h);
  fail_unless_equals_int (gst_buffer_get_size (buf), 16 * 16 * 3);
  fail_unless_equals_int (first_byte (buf), 77);
  gst_buffer_unref (buf);
  current_size (h, &format, &w, &ht);
  fail_unless (w == 16 && ht == 16);
  fail_unless_equals_int (get_stat (src, "converted"), 1);
  fail_unless_equals_int (get_stat (src, "caps-changes"), 0);
  /* the repeat reuses the converted frame */
  gst_buffer_unref (crank_and_pull (h));
  fail_unless_equals_int (get_stat (src, "converted"), 1);
  gst_harness_teardown (h);
  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_fixed_size_scales_every_frame)
{
  GstElement *src = make_src ("width", 8, "height", 6, "format",
      GST_VIDEO_FORMAT_RGB, NULL);
  GstHarness *h;
  GstBuffer *buf;
  guint v;

  for (v = 1; v <= 3; v++)
    fail_unless_equals_int (push_grey (src, 16 * v, 10 * v, 40 * v, 0),
        GST_DAYDREAM_FRAME_BRIDGE_OK);
  h = start_harness (src);
  for (v = 1; v <= 3; v++) {
    buf = v == 1 ? gst_harness_pull (h) : crank_and_pull (h);
    fail_unless_equals_int (gst_buffer_get_size (buf),
        GST_ROUND_UP_4 (8 * 3) * 6);
    fail_unless_equals_int (first_byte (buf), 40 * v);
    gst_buffer_unref (buf);
  }
  fail_unless_equals_int (get_stat (src, "converted"), 3);
  fail_unless_equals_int (get_stat (src, "caps-changes"), 0);
  gst_harness_teardown (h);
  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_tightly_packed_rows_are_repacked)
{
  GstElement *src = make_src (NULL);
  GstHarness *h;
  guint8 tight[5 * 3 * 3];
  g_autoptr (GBytes) bytes = NULL;
  GstMapInfo map;
  GstBuffer *buf;
  guint x, y;

  /* 5x3 RGB: 15 bytes a row, where GStreamer pads rows to 16 */
  for (y = 0; y < 3; y++)
    for (x = 0; x < 5 * 3; x++)
      tight[y * 15 + x] = y * 100 + x;
  bytes = g_bytes_new (tight, sizeof (tight));
  fail_unless_equals_int (gst_daydream_frame_bridge_push_bytes (src,
          GST_VIDEO_FORMAT_RGB, 5, 3, bytes, 0, NULL),
      GST_DAYDREAM_FRAME_BRIDGE_OK);
  h = start_harness (src);
  buf = gst_harness_pull (h);
  fail_unless_equals_int (gst_buffer_get_size (buf), 16 * 3);
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  for (y = 0; y < 3; y++)
    for (x = 0; x < 15; x++)
      fail_unless_equals_int (map.data[y * 16 + x], y * 100 + x);
  gst_buffer_unmap (buf, &map);
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_i420_odd_size_both_layouts)
{
  GstElement *src = make_src (NULL);
  GstVideoInfo info;
  gsize tight_size = 7 * 5 + 2 * (4 * 3);
  g_autoptr (GBytes) tight = g_bytes_new_take (g_malloc0 (tight_size),
      tight_size);
  g_autoptr (GBytes) padded = NULL;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 7, 5);
  fail_unless (info.size != tight_size);
  padded = g_bytes_new_take (g_malloc0 (info.size), info.size);
  fail_unless_equals_int (gst_daydream_frame_bridge_push_bytes (src,
          GST_VIDEO_FORMAT_I420, 7, 5, tight, 0, NULL),
      GST_DAYDREAM_FRAME_BRIDGE_OK);
  fail_unless_equals_int (gst_daydream_frame_bridge_push_bytes (src,
          GST_VIDEO_FORMAT_I420, 7, 5, padded, 0, NULL),
      GST_DAYDREAM_FRAME_BRIDGE_OK);
  fail_unless_equals_int (get_stat (src, "pushed"), 2);
  gst_object_unref (src);
}

GST_END_TEST;

/* ---- many producers ---- */

#define N_PUSHERS 6
#define N_PER_PUSHER 300

typedef struct
{
  GstElement *src;
  guint id;
  gint64 timeout_us;
  guint ok, full;
} Pusher;

/* frame bytes: [pusher id, sequence high, sequence low, ...] */
static gpointer
pusher_thread (gpointer data)
{
  Pusher *p = data;
  guint seq;

  for (seq = 0; seq < N_PER_PUSHER; seq++) {
    guint8 *px = g_malloc0 (8 * 8 * 4);
    g_autoptr (GBytes) bytes = NULL;
    GstDaydreamFrameBridgeResult res;

    px[0] = p->id;
    px[1] = seq >> 8;
    px[2] = seq & 0xff;
    bytes = g_bytes_new_take (px, 8 * 8 * 4);
    res = gst_daydream_frame_bridge_push_bytes (p->src, GST_VIDEO_FORMAT_RGBx,
        8, 8, bytes, p->timeout_us, NULL);
    if (res == GST_DAYDREAM_FRAME_BRIDGE_OK)
      p->ok++;
    else if (res == GST_DAYDREAM_FRAME_BRIDGE_FULL)
      p->full++;
    else
      fail ("unexpected push result %d", res);
  }
  return NULL;
}

static void
run_pushers (GstElement * src, gint64 timeout_us, Pusher pushers[N_PUSHERS])
{
  GThread *threads[N_PUSHERS];
  guint i;

  for (i = 0; i < N_PUSHERS; i++) {
    pushers[i] = (Pusher) {
    src, i + 1, timeout_us, 0, 0};
    threads[i] = g_thread_new ("pusher", pusher_thread, &pushers[i]);
  }
  for (i = 0; i < N_PUSHERS; i++)
    g_thread_join (threads[i]);
}

GST_START_TEST (test_many_pushers_leaky_accounting)
{
  GstElement *src = make_src ("max-frames", 8, "queue-mode", 1,
      "framerate", 1000, 1, NULL);
  GstHarness *h = gst_harness_new_with_element (src, NULL, "src");
  Pusher pushers[N_PUSHERS];
  guint64 pushed, live, dropped, dropped_before, depth;

  gst_harness_use_systemclock (h);
  gst_harness_play (h);
  run_pushers (src, 0, pushers);
  /* one consistent snapshot: every accepted frame is sent, dropped or
   * still queued */
  {
    g_autoptr (GstStructure) s = NULL;
    guint d;

    g_object_get (src, "stats", &s, NULL);
    gst_structure_get_uint64 (s, "pushed", &pushed);
    gst_structure_get_uint64 (s, "live", &live);
    gst_structure_get_uint64 (s, "dropped", &dropped);
    gst_structure_get_uint64 (s, "dropped-before-start", &dropped_before);
    gst_structure_get_uint (s, "queue-depth", &d);
    depth = d;
  }
  fail_unless_equals_uint64 (pushed, N_PUSHERS * N_PER_PUSHER);
  fail_unless_equals_uint64 (dropped_before, 0);
  fail_unless_equals_uint64 (pushed, live + dropped + depth);
  fail_unless (depth <= 8);
  gst_harness_teardown (h);
  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_many_pushers_backpressure_loses_nothing)
{
  GstElement *src = make_src ("max-frames", 4, "framerate", 2000, 1, NULL);
  GstHarness *h = gst_harness_new_with_element (src, NULL, "src");
  Pusher pushers[N_PUSHERS];
  gint next_seq[N_PUSHERS + 1];
  guint received = 0, i;

  gst_harness_use_systemclock (h);
  gst_harness_play (h);
  run_pushers (src, -1, pushers);
  for (i = 0; i < N_PUSHERS; i++)
    fail_unless_equals_int (pushers[i].ok, N_PER_PUSHER);

  /* every frame arrives once, each producer's frames in its own order */
  memset (next_seq, 0, sizeof (next_seq));
  while (received < N_PUSHERS * N_PER_PUSHER) {
    GstBuffer *buf = gst_harness_pull (h);
    guint8 head[3];

    fail_unless (buf != NULL);
    gst_buffer_extract (buf, 0, head, 3);
    /* anything else is the fallback, sent before the first push */
    if (gst_buffer_get_size (buf) == 8 * 8 * 4) {
      gint seq = (head[1] << 8) | head[2];

      fail_unless (head[0] >= 1 && head[0] <= N_PUSHERS);

      if (seq == next_seq[head[0]]) {
        next_seq[head[0]]++;
        received++;
      } else {
        /* a repeat of the previous frame of this producer */
        fail_unless_equals_int (seq, next_seq[head[0]] - 1);
      }
    }
    gst_buffer_unref (buf);
  }
  fail_unless_equals_int (get_stat (src, "dropped"), 0);
  fail_unless_equals_int (get_stat (src, "live"), N_PUSHERS * N_PER_PUSHER);
  gst_harness_teardown (h);
  gst_object_unref (src);
}

GST_END_TEST;

/* ---- in a real pipeline ---- */

GST_START_TEST (test_real_pipeline_paces_by_clock)
{
  GstElement *pipeline = gst_parse_launch ("framebridgesrc name=src "
      "framerate=60/1 queue-mode=leaky ! videoconvert ! "
      "video/x-raw,format=I420 ! appsink name=sink sync=false", NULL);
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  GstClockTime start = GST_CLOCK_TIME_NONE, prev = 0;
  guint i;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  for (i = 0; i < 30; i++) {
    GstSample *sample;
    GstBuffer *buf;

    if (i % 3 == 0)
      fail_unless_equals_int (push_grey (src, 64, 32, i, 0),
          GST_DAYDREAM_FRAME_BRIDGE_OK);
    sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
    fail_unless (sample != NULL);
    buf = gst_sample_get_buffer (sample);
    /* every buffer sits on the 60 Hz grid, strictly increasing */
    if (!GST_CLOCK_TIME_IS_VALID (start)) {
      start = GST_BUFFER_PTS (buf);
    } else {
      GstClockTime since = GST_BUFFER_PTS (buf) - start;
      guint64 tick = gst_util_uint64_scale_round (since, 60, GST_SECOND);

      fail_unless (GST_BUFFER_PTS (buf) > prev);
      fail_unless_equals_uint64 (since,
          gst_util_uint64_scale (tick, GST_SECOND, 60));
    }
    prev = GST_BUFFER_PTS (buf);
    gst_sample_unref (sample);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (src);
  gst_object_unref (pipeline);
}

GST_END_TEST;

static Suite *
framebridgesrc_suite (void)
{
  Suite *s = suite_create ("framebridgesrc");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_invalid_frames_rejected);
  tcase_add_test (tc, test_invalid_fallback_settings_fail_state_change);
  tcase_add_test (tc, test_before_start_keeps_newest_up_to_bound);
  tcase_add_test (tc, test_backpressure_refuses_when_full_and_drops_nothing);
  tcase_add_test (tc, test_backpressure_push_waits_for_room);
  tcase_add_test (tc, test_stop_releases_waiting_push);
  tcase_add_test (tc, test_leaky_drops_oldest_after_start);
  tcase_add_test (tc, test_latest_sends_newest_at_once);
  tcase_add_test (tc, test_latest_does_not_ratchet);
  tcase_add_test (tc, test_latest_no_standing_delay);
  tcase_add_test (tc, test_grid_timestamps_and_repeat);
  tcase_add_test (tc, test_stalled_downstream_skips_ticks);
  tcase_add_test (tc, test_leaky_stall_drops_the_lost_ticks_frames);
  tcase_add_test (tc, test_reports_zero_latency);
  tcase_add_test (tc, test_restart_clears_last_frame_and_queue);
  tcase_add_test (tc, test_fallback_pattern_before_first_frame);
  tcase_add_test (tc, test_fallback_images_in_name_order);
  tcase_add_test (tc, test_fallback_video_loops);
  tcase_add_test (tc, test_broken_fallback_video_warns_and_uses_pattern);
  tcase_add_test (tc, test_caps_follow_frames);
  tcase_add_test (tc, test_refused_caps_change_converts);
  tcase_add_test (tc, test_fixed_size_scales_every_frame);
  tcase_add_test (tc, test_tightly_packed_rows_are_repacked);
  tcase_add_test (tc, test_i420_odd_size_both_layouts);
  tcase_add_test (tc, test_many_pushers_leaky_accounting);
  tcase_add_test (tc, test_many_pushers_backpressure_loses_nothing);
  tcase_add_test (tc, test_real_pipeline_paces_by_clock);
  return s;
}

GST_CHECK_MAIN (framebridgesrc);
