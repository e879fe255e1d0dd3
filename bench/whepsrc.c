/* daydream-rtc bench: whepsrc, from a frame leaving the server to its src pad
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The binary runs itself a second time as the WHEP server (--serve): a
 * SoupServer on 127.0.0.1 whose POST /whep answers with a sending webrtcbin
 *   appsrc ! x264enc (ultrafast, zerolatency) ! rtph264pay ! webrtcbin
 * fed 30 frames a second. Just before each frame enters the encoder, the
 * server paints CLOCK_MONOTONIC (microseconds) into it as black and white
 * 16x16 luma blocks; the receiver reads them back after decoding. Both
 * processes share CLOCK_MONOTONIC, and the receiving process's CPU time is
 * its own (getrusage).
 *
 * Receivers, on the same stream and the same machine, one after the other:
 *   webrtcbin (baseline)  a plain webrtcbin, signalled by hand (same POST),
 *                         rtph264depay ! h264parse ! avdec_h264 (slice
 *                         threads), timed at the decoder's src pad
 *   whepsrc               whepsrc whep-endpoint=... ! fakesink, timed at
 *                         whepsrc's src pad
 * Both gather on 127.0.0.1 only, with the jitterbuffer at 50 ms.
 *
 * Usage: whepsrc [--seconds S] [--sizes 512x512,1280x720]
 *   (GST_PLUGIN_PATH=build/gst so that whepsrc is found)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <gst/gst.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>
#include <libsoup/soup.h>

#include "drtc-sdp.h"
#include "drtc-webrtc.h"

#define FPS 30
#define BLOCK 16
#define BITS 40
#define PER_ROW 20
#define LATENCY_MS 50
#define H264_CAPS "application/x-rtp,media=video,encoding-name=H264," \
    "payload=102,clock-rate=90000,packetization-mode=(string)1," \
    "profile-level-id=(string)42e01f,rtcp-fb-nack-pli=(boolean)true"

static const gchar *const local_only[] = { "127.0.0.1", NULL };

/* ---- the stamp ---- */

static void
paint_stamp (guint8 * y, gint stride, gint64 us)
{
  for (guint bit = 0; bit < BITS; bit++) {
    guint8 v = (us >> bit) & 1 ? 235 : 16;
    gint x0 = (bit % PER_ROW) * BLOCK, y0 = (bit / PER_ROW) * BLOCK;

    for (gint r = 0; r < BLOCK; r++)
      memset (y + (y0 + r) * stride + x0, v, BLOCK);
  }
}

/* The stamp of a decoded frame, completed with the high bits of @now. */
static gint64
read_stamp (const guint8 * y, gint stride, gint64 now)
{
  const gint64 mask = (G_GINT64_CONSTANT (1) << BITS) - 1;
  gint64 low = 0, us;

  for (guint bit = 0; bit < BITS; bit++) {
    gint x0 = (bit % PER_ROW) * BLOCK + BLOCK / 4;
    gint y0 = (bit / PER_ROW) * BLOCK + BLOCK / 4;
    guint sum = 0;

    for (gint r = 0; r < BLOCK / 2; r++)
      for (gint c = 0; c < BLOCK / 2; c++)
        sum += y[(y0 + r) * stride + x0 + c];
    if (sum / (BLOCK * BLOCK / 4) > 128)
      low |= G_GINT64_CONSTANT (1) << bit;
  }
  us = (now & ~mask) | low;
  if (us > now)
    us -= mask + 1;
  return us;
}

/* ---- the server (--serve) ---- */

typedef struct
{
  GstElement *pipeline, *appsrc, *webrtc;
  gint width, height;
  GThread *pusher;
  gint stop;
  guint frames;
} Sender;

static Sender *sender;
static GRegex *plid;

static gpointer
push_frames (gpointer data)
{
  Sender *s = data;
  gint64 next = g_get_monotonic_time ();
  gsize ysize = (gsize) s->width * s->height;

  while (!g_atomic_int_get (&s->stop)) {
    GstBuffer *buf = gst_buffer_new_allocate (NULL, ysize * 3 / 2, NULL);
    GstMapInfo map;

    next += G_USEC_PER_SEC / FPS;
    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    /* a scrolling gradient, so that the encoder has motion to code */
    for (gint row = 0; row < s->height; row++)
      memset (map.data + (gsize) row * s->width, (row * 2 + s->frames * 3) &
          0xff, s->width);
    memset (map.data + ysize, 128, ysize / 2);
    s->frames++;
    paint_stamp (map.data, s->width, g_get_monotonic_time ());
    gst_buffer_unmap (buf, &map);
    gst_app_src_push_buffer (GST_APP_SRC (s->appsrc), buf);
    while (g_get_monotonic_time () < next && !g_atomic_int_get (&s->stop))
      g_usleep (MIN (next - g_get_monotonic_time (), 2000));
  }
  return NULL;
}

static void
sender_free (Sender * s)
{
  g_atomic_int_set (&s->stop, 1);
  g_thread_join (s->pusher);
  gst_element_set_state (s->pipeline, GST_STATE_NULL);
  gst_object_unref (s->pipeline);
  g_free (s);
}

static Sender *
sender_new (gint width, gint height, gint payload)
{
  Sender *s = g_new0 (Sender, 1);
  DrtcWebrtcConfig cfg = { 0 };
  g_autofree gchar *desc = NULL;
  GstElement *filter;
  GstCaps *caps;

  s->width = width;
  s->height = height;
  desc = g_strdup_printf ("appsrc name=src is-live=true format=time "
      "do-timestamp=true min-latency=0 max-buffers=2 leaky-type=downstream "
      "caps=video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1 ! "
      "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=%d "
      "bitrate=2000 ! video/x-h264,profile=constrained-baseline ! "
      "rtph264pay config-interval=-1 aggregate-mode=zero-latency ! "
      "capsfilter name=filter", width, height, FPS, FPS);
  s->pipeline = gst_parse_launch (desc, NULL);
  g_assert (s->pipeline);
  s->appsrc = gst_bin_get_by_name (GST_BIN (s->pipeline), "src");
  gst_object_unref (s->appsrc);
  filter = gst_bin_get_by_name (GST_BIN (s->pipeline), "filter");
  caps = gst_caps_new_simple ("application/x-rtp", "media", G_TYPE_STRING,
      "video", "encoding-name", G_TYPE_STRING, "H264", "clock-rate",
      G_TYPE_INT, 90000, "payload", G_TYPE_INT, payload, NULL);
  g_object_set (filter, "caps", caps, NULL);
  cfg.local_addresses = local_only;
  cfg.latency_ms = LATENCY_MS;
  s->webrtc = drtc_webrtc_new ("tx", &cfg);
  gst_bin_add (GST_BIN (s->pipeline), s->webrtc);
  gst_element_link (filter, s->webrtc);
  gst_object_unref (filter);
  gst_caps_unref (caps);
  gst_element_set_state (s->pipeline, GST_STATE_PLAYING);
  s->pusher = g_thread_new ("pusher", push_frames, s);
  return s;
}

static void
on_gathered (GstElement * webrtc, gboolean complete, gpointer data)
{
  SoupServerMessage *msg = data;
  g_autofree gchar *sdp = drtc_webrtc_local_sdp (webrtc);

  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Location", "/whep/1");
  soup_server_message_set_status (msg, 201, NULL);
  soup_server_message_set_response (msg, "application/sdp", SOUP_MEMORY_COPY,
      sdp, strlen (sdp));
  soup_server_message_unpause (msg);
  g_object_unref (msg);
}

static void
on_answer (GstPromise * promise, gpointer data)
{
  GstWebRTCSessionDescription *answer = NULL;
  const GstStructure *reply;

  gst_promise_wait (promise);
  reply = gst_promise_get_reply (promise);
  gst_structure_get (reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
      &answer, NULL);
  g_signal_emit_by_name (sender->webrtc, "set-local-description", answer, NULL);
  gst_webrtc_session_description_free (answer);
  drtc_webrtc_when_gathered (sender->webrtc, g_main_context_default (), 3000,
      on_gathered, data, NULL);
}

static void
on_offer_set (GstPromise * promise, gpointer data)
{
  GstPromise *next = drtc_promise_new (g_main_context_default (), on_answer,
      data, NULL);

  g_signal_emit_by_name (sender->webrtc, "create-answer", NULL, next);
  gst_promise_unref (next);
}

static void
on_request (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer data)
{
  const gchar *method = soup_server_message_get_method (msg);
  const gchar *w = query ? g_hash_table_lookup (query, "w") : NULL;
  const gchar *h = query ? g_hash_table_lookup (query, "h") : NULL;
  SoupMessageBody *body;
  g_autofree gchar *text = NULL;
  GstSDPMessage *offer;
  GstWebRTCSessionDescription *desc;
  GstPromise *promise;
  gint payload = -1;

  if (g_str_equal (method, "DELETE")) {
    g_clear_pointer (&sender, sender_free);
    soup_server_message_set_status (msg, 200, NULL);
    return;
  }
  body = soup_server_message_get_request_body (msg);
  /* webrtcbin compares profile-level-id as a string with the payloader's
   * caps, which name the SPS's (42c01f for x264's constrained baseline,
   * against the 42e01f offered): answer without it */
  text = g_regex_replace (plid, body->data, -1, 0, "", 0, NULL);
  offer = drtc_sdp_parse (text, NULL);
  if (!offer || !drtc_sdp_keep_codec (offer, "H264", &payload, NULL)) {
    soup_server_message_set_status (msg, 406, NULL);
    return;
  }
  g_clear_pointer (&sender, sender_free);
  sender = sender_new (w ? atoi (w) : 512, h ? atoi (h) : 512, payload);
  soup_server_message_pause (msg);
  desc = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, offer);
  promise = drtc_promise_new (g_main_context_default (), on_offer_set,
      g_object_ref (msg), NULL);
  g_signal_emit_by_name (sender->webrtc, "set-remote-description", desc,
      promise);
  gst_promise_unref (promise);
  gst_webrtc_session_description_free (desc);
}

static int
serve (void)
{
  SoupServer *server = soup_server_new (NULL, NULL);
  GSList *uris;

  plid = g_regex_new (";?profile-level-id=[0-9a-fA-F]+", 0, 0, NULL);
  soup_server_add_handler (server, "/whep", on_request, NULL, NULL);
  if (!soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, NULL))
    return 1;
  uris = soup_server_get_uris (server);
  g_print ("%d\n", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  g_main_loop_run (g_main_loop_new (NULL, FALSE));
  return 0;
}

/* ---- the receivers ---- */

typedef struct
{
  GMutex lock;
  GArray *latency_ms;           /* gdouble */
  gboolean recording;
  guint64 frames;
} Timing;

static GstPadProbeReturn
on_frame (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Timing *t = data;
  gint64 now = g_get_monotonic_time ();
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  GstVideoInfo vinfo;
  GstVideoFrame frame;
  gdouble ms;

  if (!caps || !gst_video_info_from_caps (&vinfo, caps)
      || !gst_video_frame_map (&frame, &vinfo,
          GST_PAD_PROBE_INFO_BUFFER (info), GST_MAP_READ))
    return GST_PAD_PROBE_OK;
  ms = (now - read_stamp (GST_VIDEO_FRAME_PLANE_DATA (&frame, 0),
          GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0), now)) / 1000.0;
  gst_video_frame_unmap (&frame);
  g_mutex_lock (&t->lock);
  t->frames++;
  if (t->recording && ms >= 0 && ms < 10000)
    g_array_append_val (t->latency_ms, ms);
  g_mutex_unlock (&t->lock);
  return GST_PAD_PROBE_OK;
}

static void
on_baseline_pad (GstElement * webrtc, GstPad * pad, gpointer data)
{
  GstBin *bin = GST_BIN (GST_ELEMENT_PARENT (webrtc));
  GstElement *chain = gst_parse_bin_from_description ("rtph264depay ! "
      "h264parse ! avdec_h264 thread-type=slice name=dec ! fakesink "
      "sync=false", TRUE, NULL);
  GstElement *dec = gst_bin_get_by_name (GST_BIN (chain), "dec");
  GstPad *src = gst_element_get_static_pad (dec, "src");
  GstPad *sink;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER, on_frame, data, NULL);
  gst_bin_add (bin, chain);
  gst_element_sync_state_with_parent (chain);
  sink = gst_element_get_static_pad (chain, "sink");
  gst_pad_link (pad, sink);
  gst_object_unref (sink);
  gst_object_unref (src);
  gst_object_unref (dec);
}

static GstStructure *
wait_reply (GstElement * webrtc, const gchar * signal, gpointer arg)
{
  GstPromise *promise = gst_promise_new ();
  GstStructure *reply;

  if (arg)
    g_signal_emit_by_name (webrtc, signal, arg, promise);
  else
    g_signal_emit_by_name (webrtc, signal, NULL, promise);
  gst_promise_wait (promise);
  reply = gst_promise_get_reply (promise) ?
      gst_structure_copy (gst_promise_get_reply (promise)) : NULL;
  gst_promise_unref (promise);
  return reply;
}

/* A plain webrtcbin receiver: the floor whepsrc adds to. */
static GstElement *
start_baseline (const gchar * url, Timing * t)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  DrtcWebrtcConfig cfg = { 0 };
  GstElement *webrtc;
  GstWebRTCRTPTransceiver *trans = NULL;
  GstCaps *caps = gst_caps_from_string (H264_CAPS);
  GstWebRTCSessionDescription *offer = NULL;
  GstStructure *reply;
  GstWebRTCICEGatheringState gathering = 0;
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (SoupMessage) msg = soup_message_new ("POST", url);
  g_autoptr (GBytes) body = NULL;
  g_autofree gchar *sdp = NULL;
  GstSDPMessage *answer;
  GstWebRTCSessionDescription *desc;

  cfg.local_addresses = local_only;
  cfg.latency_ms = LATENCY_MS;
  webrtc = drtc_webrtc_new ("rx", &cfg);
  gst_bin_add (GST_BIN (pipeline), webrtc);
  g_signal_connect (webrtc, "pad-added", G_CALLBACK (on_baseline_pad), t);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  g_signal_emit_by_name (webrtc, "add-transceiver",
      GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &trans);
  gst_caps_unref (caps);
  gst_object_unref (trans);
  reply = wait_reply (webrtc, "create-offer", NULL);
  gst_structure_get (reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
      &offer, NULL);
  gst_structure_free (reply);
  g_signal_emit_by_name (webrtc, "set-local-description", offer, NULL);
  gst_webrtc_session_description_free (offer);
  for (gint i = 0; i < 300 && gathering !=
      GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE; i++) {
    g_usleep (10000);
    g_object_get (webrtc, "ice-gathering-state", &gathering, NULL);
  }
  sdp = drtc_webrtc_local_sdp (webrtc);
  soup_message_set_request_body_from_bytes (msg, "application/sdp",
      g_bytes_new_static (sdp, strlen (sdp)));
  body = soup_session_send_and_read (session, msg, NULL, NULL);
  g_assert (body && soup_message_get_status (msg) == 201);
  answer = drtc_sdp_parse (g_bytes_get_data (body, NULL), NULL);
  g_assert (answer);
  desc = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER,
      answer);
  reply = wait_reply (webrtc, "set-remote-description", desc);
  gst_webrtc_session_description_free (desc);
  if (reply)
    gst_structure_free (reply);
  return pipeline;
}

static GstElement *
start_whepsrc (const gchar * url, Timing * t)
{
  g_autofree gchar *desc = g_strdup_printf ("whepsrc name=src "
      "whep-endpoint=\"%s\" ice-local-addresses=127.0.0.1 latency=%d ! "
      "fakesink sync=false", url, LATENCY_MS);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstElement *src;
  GstPad *pad;

  if (!pipeline)
    g_error ("whepsrc not found: set GST_PLUGIN_PATH=build/gst");
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  pad = gst_element_get_static_pad (src, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_frame, t, NULL);
  gst_object_unref (pad);
  gst_object_unref (src);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  return pipeline;
}

typedef struct
{
  gdouble p50, p99, cpu_ms, fps;
  guint n;
} Result;

static gint
cmp_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return x < y ? -1 : x > y;
}

static gdouble
cpu_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec +
      ru.ru_stime.tv_usec) / 1e6;
}

static gboolean
measure (gboolean baseline, const gchar * url, gdouble seconds, Result * r)
{
  Timing t = { 0 };
  GstElement *pipeline;
  gint64 end;
  gdouble cpu0;
  guint64 frames0;

  g_mutex_init (&t.lock);
  t.latency_ms = g_array_new (FALSE, FALSE, sizeof (gdouble));
  pipeline = baseline ? start_baseline (url, &t) : start_whepsrc (url, &t);
  /* first frames, then a second to settle */
  end = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;
  while (__atomic_load_n (&t.frames, __ATOMIC_RELAXED) < 30
      && g_get_monotonic_time () < end)
    g_usleep (10000);
  g_usleep (G_USEC_PER_SEC);
  g_mutex_lock (&t.lock);
  t.recording = TRUE;
  frames0 = t.frames;
  g_mutex_unlock (&t.lock);
  cpu0 = cpu_seconds ();
  g_usleep ((gulong) (seconds * G_USEC_PER_SEC));
  g_mutex_lock (&t.lock);
  t.recording = FALSE;
  r->n = t.latency_ms->len;
  r->fps = (t.frames - frames0) / seconds;
  r->cpu_ms = (cpu_seconds () - cpu0) * 1000.0 / MAX (t.frames - frames0, 1);
  g_mutex_unlock (&t.lock);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  if (r->n == 0) {
    g_printerr ("no frames received\n");
    return FALSE;
  }
  g_array_sort (t.latency_ms, cmp_double);
  r->p50 = g_array_index (t.latency_ms, gdouble, r->n / 2);
  r->p99 = g_array_index (t.latency_ms, gdouble, MIN (r->n - 1,
          (guint) (r->n * 0.99)));
  g_array_free (t.latency_ms, TRUE);
  g_mutex_clear (&t.lock);
  return TRUE;
}

int
main (int argc, char **argv)
{
  gdouble seconds = 10;
  gchar *sizes = NULL, *self = NULL;
  gboolean serve_mode = FALSE;
  GOptionEntry entries[] = {
    {"seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, "Seconds measured per "
          "run (default 10)", "S"},
    {"sizes", 0, 0, G_OPTION_ARG_STRING, &sizes, "Frame sizes (default "
          "512x512,1280x720)", "WxH,..."},
    {"serve", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &serve_mode, NULL,
        NULL},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("- whepsrc latency and CPU");
  g_auto (GStrv) list = NULL;
  const gchar *child_argv[3];
  GPid pid;
  gint out_fd;
  gchar port[16] = { 0 };
  gssize got;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, NULL))
    return 2;
  g_option_context_free (ctx);
  if (serve_mode)
    return serve ();

  self = g_file_read_link ("/proc/self/exe", NULL);
  child_argv[0] = self;
  child_argv[1] = "--serve";
  child_argv[2] = NULL;
  if (!g_spawn_async_with_pipes (NULL, (gchar **) child_argv, NULL,
          G_SPAWN_DEFAULT, NULL, NULL, &pid, NULL, &out_fd, NULL, NULL))
    return 1;
  got = read (out_fd, port, sizeof (port) - 1);
  if (got <= 0)
    return 1;
  g_strstrip (port);

  list = g_strsplit (sizes ? sizes : "512x512,1280x720", ",", -1);
  g_print ("%-10s %-22s %8s %8s %10s %12s %8s %6s\n", "size", "receiver",
      "p50 ms", "p99 ms", "p50 ratio", "CPU ms/frame", "ratio", "fps");
  for (guint i = 0; list[i]; i++) {
    gint w = 0, h = 0;
    Result base, whep;
    g_autofree gchar *url = NULL;

    if (sscanf (list[i], "%dx%d", &w, &h) != 2)
      continue;
    url = g_strdup_printf ("http://127.0.0.1:%s/whep?w=%d&h=%d", port, w, h);
    if (!measure (TRUE, url, seconds, &base)
        || !measure (FALSE, url, seconds, &whep))
      break;
    g_print ("%-10s %-22s %8.2f %8.2f %9.2fx %12.3f %7.2fx %6.1f\n", list[i],
        "webrtcbin (baseline)", base.p50, base.p99, 1.0, base.cpu_ms, 1.0,
        base.fps);
    g_print ("%-10s %-22s %8.2f %8.2f %9.2fx %12.3f %7.2fx %6.1f\n", list[i],
        "whepsrc", whep.p50, whep.p99, whep.p50 / base.p50, whep.cpu_ms,
        whep.cpu_ms / base.cpu_ms, whep.fps);
  }
  kill (pid, SIGTERM);
  g_spawn_close_pid (pid);
  g_free (self);
  g_free (sizes);
  return 0;
}
