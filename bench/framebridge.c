/* daydream-rtc bench: framebridgesrc push -> src pad latency and accept rate
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Baseline, measured in the same run on the same frames: a plain appsrc
 * (is-live, do-timestamp) pushing straight to the same sink. appsrc neither
 * paces nor repeats, so it shows the floor that any frame bridge adds to.
 *
 *  latency  a frame is pushed at a random phase of a 30 fps producer; the
 *           time until it passes the sink pad (first arrival) is recorded
 *  accepted frames/s a producer thread gets accepted when pushing a fresh
 *           copy of the frame as fast as it can (drop-oldest policies, so
 *           nothing blocks)
 *
 * Usage: framebridge [--frames N] [--seconds S]
 */
#include <string.h>
#include <gst/gst.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>

#include <daydreamrtc/framebridge.h>

typedef enum
{
  VARIANT_APPSRC,
  VARIANT_LATEST,
  VARIANT_GRID,
} Variant;

static const gchar *const variant_names[] = {
  "appsrc (baseline)", "framebridgesrc latest", "framebridgesrc leaky (grid)",
};

typedef struct
{
  GMutex lock;
  gint64 *pushed_at;            /* by frame marker */
  gint64 *arrived_at;
  guint n;
} Timing;

static gint frames_opt = 90;
static gdouble seconds_opt = 1.0;

static GstPadProbeReturn
on_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Timing *t = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  gint64 now = g_get_monotonic_time ();
  guint32 marker = 0;

  if (gst_buffer_extract (buf, 0, &marker, 4) == 4 && marker >= 1
      && marker <= t->n) {
    g_mutex_lock (&t->lock);
    if (t->arrived_at[marker - 1] == 0)
      t->arrived_at[marker - 1] = now;
    g_mutex_unlock (&t->lock);
  }
  return GST_PAD_PROBE_OK;
}

static GstElement *
make_pipeline (Variant v, gint w, gint h, GstElement ** src, GstElement ** sink)
{
  g_autofree gchar *desc = NULL;
  GstElement *pipeline;

  if (v == VARIANT_APPSRC)
    desc = g_strdup_printf ("appsrc name=src is-live=true format=time "
        "do-timestamp=true leaky-type=downstream max-buffers=90 max-bytes=0 "
        "caps=video/x-raw,format=RGB,width=%d,height=%d,framerate=30/1 ! "
        "fakesink name=sink sync=false async=false", w, h);
  else
    desc = g_strdup_printf ("framebridgesrc name=src queue-mode=%s "
        "fallback-pattern=black ! fakesink name=sink sync=false async=false",
        v == VARIANT_LATEST ? "latest" : "leaky");
  pipeline = gst_parse_launch (desc, NULL);
  g_assert (pipeline);
  *src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  return pipeline;
}

static gboolean
push_copy (Variant v, GstElement * src, const guint8 * frame, gsize size,
    gint w, gint h, guint32 marker)
{
  guint8 *copy = g_memdup2 (frame, size);

  memcpy (copy, &marker, 4);
  if (v == VARIANT_APPSRC) {
    GstBuffer *buf = gst_buffer_new_wrapped (copy, size);
    return gst_app_src_push_buffer (GST_APP_SRC (src), buf) == GST_FLOW_OK;
  } else {
    g_autoptr (GBytes) bytes = g_bytes_new_take (copy, size);
    return gst_daydream_frame_bridge_push_bytes (src, GST_VIDEO_FORMAT_RGB, w,
        h, bytes, 0, NULL) == GST_DAYDREAM_FRAME_BRIDGE_OK;
  }
}

static gint
compare_i64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

static void
measure_latency (Variant v, gint w, gint h, const guint8 * frame, gsize size,
    gdouble * p50, gdouble * p99)
{
  GstElement *src, *sink, *pipeline = make_pipeline (v, w, h, &src, &sink);
  GstPad *pad = gst_element_get_static_pad (sink, "sink");
  Timing t = { 0 };
  GArray *lat = g_array_new (FALSE, FALSE, sizeof (gint64));
  guint i;

  g_mutex_init (&t.lock);
  t.n = frames_opt;
  t.pushed_at = g_new0 (gint64, t.n);
  t.arrived_at = g_new0 (gint64, t.n);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, &t, NULL);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  gst_element_get_state (pipeline, NULL, NULL, GST_CLOCK_TIME_NONE);
  g_usleep (200000);            /* let the first (fallback) buffers pass */

  for (i = 0; i < t.n; i++) {
    /* a 30 fps producer with a random phase against the source's ticks */
    g_usleep (G_USEC_PER_SEC / 30 + g_random_int_range (0, 7000));
    g_mutex_lock (&t.lock);
    t.pushed_at[i] = g_get_monotonic_time ();
    g_mutex_unlock (&t.lock);
    push_copy (v, src, frame, size, w, h, i + 1);
  }
  g_usleep (200000);
  gst_element_set_state (pipeline, GST_STATE_NULL);

  for (i = 0; i < t.n; i++) {
    gint64 us = t.arrived_at[i] - t.pushed_at[i];

    if (t.arrived_at[i])
      g_array_append_val (lat, us);
  }
  g_array_sort (lat, compare_i64);
  *p50 = lat->len ? g_array_index (lat, gint64, lat->len / 2) / 1000.0 : -1;
  *p99 = lat->len ? g_array_index (lat, gint64,
      MIN (lat->len - 1, lat->len * 99 / 100)) / 1000.0 : -1;
  if (lat->len < t.n)
    g_printerr ("  (%s: %u of %u frames arrived)\n", variant_names[v],
        lat->len, t.n);
  g_array_unref (lat);
  g_free (t.pushed_at);
  g_free (t.arrived_at);
  g_mutex_clear (&t.lock);
  gst_object_unref (pad);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

static gdouble
measure_accept_rate (Variant v, gint w, gint h, const guint8 * frame,
    gsize size)
{
  GstElement *src, *sink, *pipeline = make_pipeline (v, w, h, &src, &sink);
  gint64 start, end;
  guint accepted = 0, marker = 1;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  gst_element_get_state (pipeline, NULL, NULL, GST_CLOCK_TIME_NONE);
  start = g_get_monotonic_time ();
  end = start + (gint64) (seconds_opt * G_USEC_PER_SEC);
  while (g_get_monotonic_time () < end)
    accepted += push_copy (v, src, frame, size, w, h, marker++);
  end = g_get_monotonic_time ();
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  return accepted * (gdouble) G_USEC_PER_SEC / (end - start);
}

int
main (int argc, char **argv)
{
  static const gint sizes[][2] = { {512, 512}, {1280, 720} };
  GOptionEntry entries[] = {
    {"frames", 'n', 0, G_OPTION_ARG_INT, &frames_opt,
        "Frames per latency run (default 90)", "N"},
    {"seconds", 's', 0, G_OPTION_ARG_DOUBLE, &seconds_opt,
        "Seconds per accept-rate run (default 1)", "S"},
    {NULL}
  };
  g_autoptr (GOptionContext) ctx =
      g_option_context_new ("- framebridgesrc benchmark");
  g_autoptr (GError) err = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  if (!gst_element_factory_find ("framebridgesrc")) {
    g_printerr ("framebridgesrc not found: set GST_PLUGIN_PATH=build/gst\n");
    return 1;
  }

  g_print ("framebridgesrc: push -> src pad latency (ms, %d frames at a "
      "30 fps producer) and accepted frames/s (fresh copy per push, %.1f s)\n",
      frames_opt, seconds_opt);
  g_print ("%-10s %-28s %8s %8s %9s %12s %9s\n", "size", "variant", "p50",
      "p99", "p50 ratio", "accepted/s", "ratio");
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
    gint w = sizes[s][0], h = sizes[s][1];
    gsize size = (gsize) GST_ROUND_UP_4 (w * 3) * h;
    g_autofree guint8 *frame = g_malloc (size);
    gdouble base_rate = 0, base_p50 = 0;

    memset (frame, 0x80, size);
    for (Variant v = VARIANT_APPSRC; v <= VARIANT_GRID; v++) {
      gdouble p50, p99, rate;
      g_autofree gchar *dim = g_strdup_printf ("%dx%d", w, h);

      measure_latency (v, w, h, frame, size, &p50, &p99);
      rate = measure_accept_rate (v, w, h, frame, size);
      if (v == VARIANT_APPSRC) {
        base_rate = rate;
        base_p50 = p50;
      }
      g_print ("%-10s %-28s %8.2f %8.2f %8.2fx %12.0f %8.2fx\n", dim,
          variant_names[v], p50, p99, p50 / base_p50, rate, rate / base_rate);
    }
  }
  return 0;
}
