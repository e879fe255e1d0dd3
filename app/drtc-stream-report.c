/* daydream-rtc serve: what a stream's /status and /metrics report
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * From memory, never waiting on Daydream or the pipeline: the controller's
 * fields, framebridgesrc's stats and whipsink's counters sampled once a
 * second into fps, bitrate and RTT.
 */
#include "drtc-stream-controller-private.h"
#include "drtc-json.h"

/* (transfer full): framebridgesrc's stats */
GstStructure *
drtc_stream_report_src_stats (DrtcStreamController * ctl)
{
  GstStructure *s = NULL;

  g_object_get (ctl->src, "stats", &s, NULL);
  return s;
}

/* ---- fps, bitrate and RTT, sampled from whipsink's stats every second ---- */

static gboolean
sample_rates (gpointer data)
{
  DrtcStreamController *ctl = data;
  g_autoptr (GstElement) sink = NULL;
  g_autoptr (GstStructure) stats = NULL;
  guint64 frames = 0, bytes = 0;
  gint64 now = g_get_monotonic_time ();
  gdouble dt;

  if (ctl->pipeline)
    sink = gst_bin_get_by_name (GST_BIN (ctl->pipeline), "publish");
  if (!sink)
    return G_SOURCE_CONTINUE;
  g_object_get (sink, "stats", &stats, NULL);
  gst_structure_get_uint64 (stats, "frames-sent", &frames);
  gst_structure_get_uint64 (stats, "bytes-sent", &bytes);
  if (!gst_structure_get_double (stats, "round-trip-time", &ctl->rtt)
      || !(ctl->rtt >= 0))
    ctl->rtt = 0.0;
  dt = (now - ctl->last_sample_us) / 1e6;
  if (ctl->last_sample_us && dt > 0) {
    /* counters restart with a reconnection: no negative rates */
    ctl->fps = frames >= ctl->last_frames ?
        (frames - ctl->last_frames) / dt : 0.0;
    ctl->bitrate = bytes >= ctl->last_bytes ?
        (bytes - ctl->last_bytes) * 8 / dt : 0.0;
  }
  if (bytes >= ctl->last_bytes)
    ctl->bytes_sent += bytes - ctl->last_bytes;
  else
    ctl->bytes_sent += bytes;
  ctl->last_frames = frames;
  ctl->last_bytes = bytes;
  ctl->last_sample_us = now;
  return G_SOURCE_CONTINUE;
}

void
drtc_stream_report_stop_rates (DrtcStreamController * ctl)
{
  if (ctl->rate) {
    g_source_destroy (ctl->rate);
    g_clear_pointer (&ctl->rate, g_source_unref);
  }
  ctl->fps = ctl->bitrate = ctl->rtt = 0.0;
  ctl->last_frames = ctl->last_bytes = 0;
  ctl->last_sample_us = 0;
}

void
drtc_stream_report_start_rates (DrtcStreamController * ctl)
{
  drtc_stream_report_stop_rates (ctl);
  ctl->rate = g_timeout_source_new_seconds (1);
  g_source_set_callback (ctl->rate, sample_rates, ctl, NULL);
  g_source_attach (ctl->rate, ctl->serve->context);
}

/* ---- what /status and /metrics report ---- */

static void
add_queue_stats (DrtcStreamController * ctl, JsonBuilder * b, guint * depth)
{
  g_autoptr (GstStructure) s = drtc_stream_report_src_stats (ctl);
  guint d = 0;
  guint64 dropped = 0, before = 0;

  gst_structure_get_uint (s, "queue-depth", &d);
  gst_structure_get_uint64 (s, "dropped", &dropped);
  gst_structure_get_uint64 (s, "dropped-before-start", &before);
  *depth = d;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "queued");
  json_builder_add_int_value (b, ctl->running ? d : 0);
  json_builder_set_member_name (b, "buffered");
  json_builder_add_int_value (b, ctl->running ? 0 : d);
  json_builder_set_member_name (b, "depth");
  json_builder_add_int_value (b, d);
  json_builder_set_member_name (b, "dropped_before_loop");
  json_builder_add_int_value (b, before);
  json_builder_set_member_name (b, "dropped");
  json_builder_add_int_value (b, dropped);
  json_builder_end_object (b);
}

/**
 * drtc_stream_controller_status:
 *
 * Returns: (transfer full): the reference tool's status object (from
 *   memory, never waiting on Daydream) plus "whep_url", "name" and
 *   "reconnects"
 */
JsonNode *
drtc_stream_controller_status (DrtcStreamController * ctl)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GstStructure) stats = drtc_stream_report_src_stats (ctl);
  guint64 output = 0;
  guint depth = 0;

  gst_structure_get_uint64 (stats, "output", &output);
  json_builder_begin_object (b);
  drtc_json_builder_add_boolean (b, "running", ctl->running);
  drtc_json_builder_add_int (b, "frames_sent",
      ctl->running ? (gint64) (output - ctl->output_at_start) : 0);
  drtc_json_builder_add_string (b, "stream_id", ctl->stream_id);
  drtc_json_builder_add_string (b, "playback_id", ctl->playback_id);
  drtc_json_builder_add_string (b, "whip_url", ctl->whip_url);
  drtc_json_builder_add_string (b, "whep_url", ctl->whep_url);
  drtc_json_builder_add_double (b, "started_at", ctl->started_at);
  json_builder_set_member_name (b, "remote_status");
  if (ctl->remote_status)
    json_builder_add_value (b, json_node_copy (ctl->remote_status));
  else {
    json_builder_begin_object (b);
    json_builder_end_object (b);
  }
  json_builder_set_member_name (b, "queue_stats");
  add_queue_stats (ctl, b, &depth);
  drtc_json_builder_add_int (b, "queue_depth", depth);
  json_builder_set_member_name (b, "stream_settings");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "frame_rate");
  if (ctl->settings_float)
    json_builder_add_double_value (b, ctl->settings.frame_rate);
  else
    json_builder_add_int_value (b, ctl->settings.frame_rate);
  drtc_json_builder_add_int (b, "frame_width", ctl->settings.frame_width);
  drtc_json_builder_add_int (b, "frame_height", ctl->settings.frame_height);
  json_builder_end_object (b);
  drtc_json_builder_add_string (b, "name", ctl->name);
  drtc_json_builder_add_string (b, "queue_mode", ctl->running ?
      ctl->run_queue_mode : drtc_stream_controller_queue_mode (ctl));
  drtc_json_builder_add_int (b, "reconnects", ctl->reconnects);
  drtc_json_builder_add_string (b, "state", ctl->state);
  drtc_json_builder_add_string (b, "state_detail", ctl->state_detail);
  drtc_json_builder_add_double (b, "fps", ctl->fps);
  drtc_json_builder_add_double (b, "bitrate", ctl->bitrate);
  drtc_json_builder_add_double (b, "rtt", ctl->rtt);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* Stopped, and no Daydream call in flight holds it: it may be freed. */
gboolean
drtc_stream_controller_idle (DrtcStreamController * ctl)
{
  return !ctl->running && !ctl->pipeline && ctl->jobs == 0;
}

gboolean
drtc_stream_controller_running (DrtcStreamController * ctl)
{
  return ctl->running;
}

gboolean
drtc_stream_controller_frame_loop_ready (DrtcStreamController * ctl)
{
  return ctl->frame_loop_ready;
}

guint
drtc_stream_controller_queue_depth (DrtcStreamController * ctl)
{
  g_autoptr (GstStructure) s = drtc_stream_report_src_stats (ctl);
  guint d = 0;

  gst_structure_get_uint (s, "queue-depth", &d);
  return d;
}

/**
 * drtc_stream_controller_queue_mode:
 *
 * Returns: the queue mode the next start uses unless its body names one:
 * the one /config set, else --queue-mode.
 */
const gchar *
drtc_stream_controller_queue_mode (DrtcStreamController * ctl)
{
  return ctl->queue_mode ? ctl->queue_mode : ctl->serve->opts.queue_mode;
}

/* The Prometheus families of a stream: from framebridgesrc's stats where
 * @stat is set, else the controller's own numbers (stream_value ()). */
static const struct
{
  const gchar *name, *type, *help, *stat;
} stream_families[] = {
  {"frames_in_total", "counter", "Frames accepted by POST /frames", "pushed"},
  {"frames_dropped_total", "counter",
        "Accepted frames dropped after start (full queue or missed ticks)",
      "dropped"},
  {"frames_dropped_before_start_total", "counter",
        "Frames dropped because they came before the stream started",
      "dropped-before-start"},
  {"frames_rejected_total", "counter",
      "Frames rejected as invalid (format, size)", "rejected"},
  {"frames_refused_total", "counter",
      "Frames refused by a full queue (backpressure mode)", "refused"},
  {"frames_out_total", "counter", "Frames sent into the stream's pipeline",
      "output"},
  {"frames_repeated_total", "counter",
      "Frames sent again because no new one was due", "repeated"},
  {"frames_fallback_total", "counter",
      "Fallback frames sent before the first frame came", "fallback"},
  {"queue_depth", "gauge", "Frames waiting in the stream's queue", NULL},
  {"running", "gauge", "1 while the stream runs, else 0", NULL},
  {"reconnects_total", "counter", "WHIP reconnections of the stream", NULL},
  {"fps", "gauge", "Frames per second published over WHIP, last second",
      NULL},
  {"bitrate_bps", "gauge", "Bits per second published over WHIP, last second",
      NULL},
  {"bytes_sent_total", "counter", "Bytes published over WHIP", NULL},
};

static gdouble
stream_value (DrtcStreamController * ctl, const GstStructure * stats,
    guint family)
{
  const gchar *name = stream_families[family].name;
  guint64 v = 0;

  if (stream_families[family].stat) {
    gst_structure_get_uint64 (stats, stream_families[family].stat, &v);
    return v;
  }
  if (g_str_equal (name, "queue_depth")) {
    guint d = 0;

    /* from the same snapshot as the counters, so that output = live +
     * repeated + fallback and pushed = live + dropped + depth hold */
    gst_structure_get_uint (stats, "queue-depth", &d);
    return d;
  }
  if (g_str_equal (name, "running"))
    return ctl->running;
  if (g_str_equal (name, "reconnects_total"))
    return ctl->reconnects;
  if (g_str_equal (name, "fps"))
    return ctl->fps;
  if (g_str_equal (name, "bitrate_bps"))
    return ctl->bitrate;
  return ctl->bytes_sent;
}

/**
 * drtc_stream_controller_metrics:
 * @ctls: (element-type DrtcStreamController): the streams, in output order
 *
 * Appends the streams' Prometheus families to @out, each one whole (HELP,
 * TYPE, then one sample per stream), as the text format requires.
 */
void
drtc_stream_controller_metrics (GPtrArray * ctls, GString * out)
{
  g_autoptr (GPtrArray) stats =
      g_ptr_array_new_with_free_func ((GDestroyNotify) gst_structure_free);
  gchar num[G_ASCII_DTOSTR_BUF_SIZE];

  for (guint i = 0; i < ctls->len; i++)
    g_ptr_array_add (stats, drtc_stream_report_src_stats (ctls->pdata[i]));
  for (guint f = 0; f < G_N_ELEMENTS (stream_families); f++) {
    g_string_append_printf (out, "# HELP daydream_rtc_%s %s\n"
        "# TYPE daydream_rtc_%s %s\n", stream_families[f].name,
        stream_families[f].help, stream_families[f].name,
        stream_families[f].type);
    for (guint i = 0; i < ctls->len; i++) {
      DrtcStreamController *ctl = ctls->pdata[i];

      /* "C" formatting whatever the locale; names are [A-Za-z0-9_-] */
      g_ascii_formatd (num, sizeof num, "%.15g",
          stream_value (ctl, stats->pdata[i], f));
      g_string_append_printf (out, "daydream_rtc_%s{stream=\"%s\"} %s\n",
          stream_families[f].name, ctl->name, num);
    }
  }
}
