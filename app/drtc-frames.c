/* daydream-rtc serve: frames in (POST /frames) and out (GET /whep/frame)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Decoding and encoding run on GTask's worker threads, never on the main
 * loop: base64 and the checks of drtc-frame-check.c, PNG through libpng
 * (or JPEG through a jpegdec pipeline kept per worker thread, fed on that
 * thread), and the push into framebridgesrc, which waits for room
 * there (backpressure) up to --frames-timeout. The raw path takes RGB/RGBA/
 * BGRx bytes as they are: no base64, no PNG, no copy.
 */
#include "drtc-frames.h"
#include "drtc-frame-check.h"
#include "drtc-http-util.h"
#include "drtc-json.h"

#include <png.h>
#include <string.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include "daydreamrtc/framebridge.h"

/* ---- decoding, on the caller's thread ---- */

/* JPEG: jpegdec, in a pipeline kept per worker thread */
typedef struct
{
  GstElement *pipeline, *sink;
  GstPad *pad;                  /* ours, linked to the decoder's sink pad */
} Decoder;

static void
decoder_free (gpointer data)
{
  Decoder *d = data;

  gst_element_set_state (d->pipeline, GST_STATE_NULL);
  gst_pad_set_active (d->pad, FALSE);
  gst_object_unref (d->pad);
  gst_object_unref (d->sink);
  gst_object_unref (d->pipeline);
  g_free (d);
}

static GPrivate jpeg_decoder = G_PRIVATE_INIT (decoder_free);

static void
decoder_start_segment (Decoder * d)
{
  GstSegment segment;

  gst_segment_init (&segment, GST_FORMAT_TIME);
  gst_pad_push_event (d->pad, gst_event_new_segment (&segment));
}

/* The decoding pipeline, fed through a pad of our own: a push runs the
 * decoder, the converter and the sink on the calling thread and returns
 * once the frame is decoded or dropped, so nothing waits on a timeout. Its
 * bus drops every message: a broken image is a warning, and the frame
 * comes out or it does not. */
static Decoder *
decoder_new (void)
{
  g_autoptr (GstElement) dec = NULL;
  g_autoptr (GstPad) sinkpad = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstCaps) caps = gst_caps_new_simple ("image/jpeg", "parsed",
      G_TYPE_BOOLEAN, TRUE, NULL);
  GstElement *pipeline = gst_parse_launch ("jpegdec name=dec ! videoconvert "
      "! video/x-raw,format=RGB ! appsink name=sink sync=false async=false",
      NULL);
  Decoder *d;

  if (!pipeline)
    return NULL;
  d = g_new0 (Decoder, 1);
  d->pipeline = pipeline;
  d->sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  dec = gst_bin_get_by_name (GST_BIN (pipeline), "dec");
  sinkpad = gst_element_get_static_pad (dec, "sink");
  bus = gst_element_get_bus (pipeline);
  gst_bus_set_flushing (bus, TRUE);
  d->pad = gst_pad_new ("src", GST_PAD_SRC);
  gst_pad_set_active (d->pad, TRUE);
  if (gst_pad_link (d->pad, sinkpad) != GST_PAD_LINK_OK
      || gst_element_set_state (pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    decoder_free (d);
    return NULL;
  }
  gst_pad_push_event (d->pad, gst_event_new_stream_start ("drtc-frames"));
  gst_pad_push_event (d->pad, gst_event_new_caps (caps));
  decoder_start_segment (d);
  return d;
}

/* Nothing of one image stays in the decoder for the next. */
static void
decoder_flush (Decoder * d)
{
  gst_pad_push_event (d->pad, gst_event_new_flush_start ());
  gst_pad_push_event (d->pad, gst_event_new_flush_stop (TRUE));
  decoder_start_segment (d);
}

static GstSample *
decode_jpeg (GBytes * image)
{
  Decoder *d = g_private_get (&jpeg_decoder);
  GstSample *sample, *extra;
  GstFlowReturn flow;

  if (!d && (d = decoder_new ()))
    g_private_set (&jpeg_decoder, d);
  if (!d)
    return NULL;
  flow = gst_pad_push (d->pad, gst_buffer_new_wrapped_bytes (image));
  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (d->sink), 0);
  while ((extra = gst_app_sink_try_pull_sample (GST_APP_SINK (d->sink), 0)))
    gst_sample_unref (extra);
  if (flow != GST_FLOW_OK)
    g_private_replace (&jpeg_decoder, NULL);
  else if (!sample)
    decoder_flush (d);
  return sample;
}

/* PNG: libpng itself, which frees all it allocated whatever the image
 * holds (pngdec, on a libpng error, keeps the frame it was decoding, and
 * with it its output buffer and buffer pool: 12 MB and two file
 * descriptors for each broken 2048x2048 PNG, for good). The transforms are
 * pngdec's and videoconvert's: palette and grey expanded, 16 bits cut to
 * 8, alpha dropped, no gamma correction. */
typedef struct
{
  const guint8 *data;
  gsize len, at;
} PngSource;

static void
png_read_from (png_structp png, png_bytep out, png_size_t n)
{
  PngSource *src = png_get_io_ptr (png);

  if (n > src->len - src->at)
    png_error (png, "read past the end");
  memcpy (out, src->data + src->at, n);
  src->at += n;
}

static void
png_failed (png_structp png, png_const_charp message)
{
  g_debug ("PNG frame: %s", message);
  png_longjmp (png, 1);
}

static void
png_warned (png_structp png, png_const_charp message)
{
  g_debug ("PNG frame: %s", message);
}

/* After png_read_info: the transforms, and RGB rows of @check's size. */
static gboolean
png_to_rgb (png_structp png, png_infop info, const DrtcFrameCheck * check)
{
  png_set_expand (png);
  png_set_strip_16 (png);
  png_set_strip_alpha (png);
  png_set_gray_to_rgb (png);
  png_set_interlace_handling (png);
  png_read_update_info (png, info);
  return png_get_image_width (png, info) == check->width
      && png_get_image_height (png, info) == check->height
      && png_get_rowbytes (png, info) == (gsize) check->width * 3;
}

static GstSample *
decode_png (GBytes * image, const DrtcFrameCheck * check)
{
  PngSource src = { 0 };
  png_structp png = png_create_read_struct (PNG_LIBPNG_VER_STRING, NULL,
      png_failed, png_warned);
  png_infop info = png ? png_create_info_struct (png) : NULL;
  GstBuffer *volatile buf = NULL;
  png_bytep *volatile rows = NULL;
  volatile gboolean mapped = FALSE;
  GstSample *sample = NULL;
  GstVideoInfo vinfo;
  GstMapInfo map;
  GstCaps *caps;

  if (!info) {
    png_destroy_read_struct (&png, NULL, NULL);
    return NULL;
  }
  src.data = g_bytes_get_data (image, &src.len);
  if (setjmp (png_jmpbuf (png)) == 0) {
    png_set_read_fn (png, &src, png_read_from);
    png_set_user_limits (png, DRTC_FRAME_MAX_SIDE, DRTC_FRAME_MAX_SIDE);
    png_read_info (png, info);
    if (png_to_rgb (png, info, check)) {
      gst_video_info_set_format (&vinfo, GST_VIDEO_FORMAT_RGB, check->width,
          check->height);
      buf = gst_buffer_new_allocate (NULL, vinfo.size, NULL);
      if (!(mapped = gst_buffer_map (buf, &map, GST_MAP_WRITE)))
        png_error (png, "cannot map the frame");
      rows = g_new (png_bytep, check->height);
      for (guint y = 0; y < check->height; y++)
        rows[y] = map.data + (gsize) y *GST_VIDEO_INFO_PLANE_STRIDE (&vinfo, 0);
      png_read_image (png, rows);
      png_read_end (png, NULL);
      gst_buffer_unmap (buf, &map);
      mapped = FALSE;
      caps = gst_video_info_to_caps (&vinfo);
      sample = gst_sample_new (buf, caps, NULL, NULL);
      gst_caps_unref (caps);
    }
  } else if (mapped) {
    gst_buffer_unmap (buf, &map);
  }
  g_free (rows);
  if (buf)
    gst_buffer_unref (buf);
  png_destroy_read_struct (&png, &info, NULL);
  return sample;
}

/**
 * drtc_frames_decode_image:
 * @image: an image drtc_frame_check() passed, cut to its size
 *
 * Decodes @image to RGB on the calling thread: a PNG with libpng, a JPEG
 * through the thread's long-lived jpegdec pipeline.
 *
 * Returns: (transfer full) (nullable): the frame, or NULL with @error set
 */
GstSample *
drtc_frames_decode_image (GBytes * image, const DrtcFrameCheck * check,
    GError ** error)
{
  GstSample *sample = check->type == DRTC_FRAME_PNG ?
      decode_png (image, check) : decode_jpeg (image);

  if (!sample)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "frame_b64 is not a decodable image");
  return sample;
}

/**
 * drtc_frames_decode_b64:
 * @b64: the frame_b64 of POST /frames, from the network
 *
 * Base64, the checks of drtc_frame_check(), then PNG or JPEG to an RGB
 * sample. Blocks while it decodes: call it on a worker thread.
 *
 * Returns: (transfer full) (nullable): the frame, or NULL with @error set
 */
GstSample *
drtc_frames_decode_b64 (const gchar * b64, GError ** error)
{
  DrtcFrameCheck check;
  g_autoptr (GBytes) image = drtc_frame_check_b64 (b64, &check, error);

  return image ? drtc_frames_decode_image (image, &check, error) : NULL;
}

/* ---- POST /frames ---- */

typedef struct
{
  GstElement *src;
  gchar *b64;                   /* JSON path */
  GBytes *raw;                  /* raw path */
  GstVideoFormat format;
  guint width, height;
  gint64 timeout_us;
  /* out */
  GstDaydreamFrameBridgeResult result;
  guint status;
  gchar *message;
} PushJob;

static void
push_job_free (gpointer data)
{
  PushJob *job = data;

  gst_object_unref (job->src);
  g_free (job->b64);
  g_clear_pointer (&job->raw, g_bytes_unref);
  g_free (job->message);
  g_free (job);
}

static void
push_in_thread (GTask * task, gpointer source, gpointer data,
    GCancellable * cancellable)
{
  PushJob *job = data;
  g_autoptr (GError) err = NULL;

  if (job->b64) {
    g_autoptr (GstSample) sample = drtc_frames_decode_b64 (job->b64, &err);

    if (!sample) {
      job->status = SOUP_STATUS_BAD_REQUEST;
      job->message = g_strdup (err->message);
      return;
    }
    job->result = gst_daydream_frame_bridge_push_sample (job->src, sample,
        job->timeout_us, &err);
  } else {
    job->result = gst_daydream_frame_bridge_push_bytes (job->src,
        job->format, job->width, job->height, job->raw, job->timeout_us, &err);
  }
  switch (job->result) {
    case GST_DAYDREAM_FRAME_BRIDGE_OK:
      job->status = SOUP_STATUS_OK;
      break;
    case GST_DAYDREAM_FRAME_BRIDGE_FULL:
      job->status = SOUP_STATUS_SERVICE_UNAVAILABLE;
      break;
    case GST_DAYDREAM_FRAME_BRIDGE_INVALID:
      job->status = job->b64 ? SOUP_STATUS_BAD_REQUEST :
          SOUP_STATUS_UNPROCESSABLE_ENTITY;
      break;
    default:
      job->status = SOUP_STATUS_CONFLICT;
      break;
  }
  if (err)
    job->message = g_strdup (err->message);
}

static void
on_pushed (GObject * source, GAsyncResult * result, gpointer data)
{
  SoupServerMessage *msg = data;
  PushJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GstStructure) stats = NULL;
  g_autoptr (JsonBuilder) b = NULL;
  guint depth = 0;
  guint64 dropped = 0;

  if (job->status != SOUP_STATUS_OK) {
    if (job->status == SOUP_STATUS_SERVICE_UNAVAILABLE)
      soup_message_headers_replace (soup_server_message_get_response_headers
          (msg), "Retry-After", "1");
    drtc_http_reply_detail (msg, job->status, job->message ? job->message :
        "frame not accepted");
  } else {
    g_object_get (job->src, "stats", &stats, NULL);
    gst_structure_get_uint (stats, "queue-depth", &depth);
    gst_structure_get_uint64 (stats, "dropped-before-start", &dropped);
    b = json_builder_new ();
    json_builder_begin_object (b);
    drtc_json_builder_add_boolean (b, "accepted", TRUE);
    drtc_json_builder_add_int (b, "queue_depth", depth);
    drtc_json_builder_add_int (b, "dropped", dropped);
    drtc_http_reply_object (msg, SOUP_STATUS_OK, b);
  }
  soup_server_message_unpause (msg);
  g_object_unref (msg);
}

static void
run_push (SoupServerMessage * msg, PushJob * job)
{
  GTask *task = g_task_new (NULL, NULL, on_pushed, g_object_ref (msg));

  g_task_set_task_data (task, job, push_job_free);
  soup_server_message_pause (msg);
  g_task_run_in_thread (task, push_in_thread);
  g_object_unref (task);
}

void
drtc_frames_push_b64 (GstElement * src, SoupServerMessage * msg,
    const gchar * b64, guint timeout_ms)
{
  PushJob *job = g_new0 (PushJob, 1);

  job->src = gst_object_ref (src);
  job->b64 = g_strdup (b64);
  job->timeout_us = (gint64) timeout_ms *1000;
  run_push (msg, job);
}

/* A query parameter, else the X-Frame-* header of the same meaning. */
static const gchar *
raw_param (SoupServerMessage * msg, GHashTable * query, const gchar * name,
    const gchar * header)
{
  const gchar *v = query ? g_hash_table_lookup (query, name) : NULL;

  return v ? v : soup_message_headers_get_one
      (soup_server_message_get_request_headers (msg), header);
}

/**
 * drtc_frames_parse_raw_params:
 * @w, @h, @f: (nullable): width, height and format as sent (default RGB)
 * @error: (out): why they are refused, for a 422
 *
 * Returns: %TRUE with @width, @height and @format set
 */
gboolean
drtc_frames_parse_raw_params (const gchar * w, const gchar * h,
    const gchar * f, guint * width, guint * height, GstVideoFormat * format,
    gchar ** error)
{
  gint64 wv = w ? g_ascii_strtoll (w, NULL, 10) : 0;
  gint64 hv = h ? g_ascii_strtoll (h, NULL, 10) : 0;

  if (wv <= 0 || hv <= 0 || wv > 16384 || hv > 16384) {
    *error = g_strdup ("raw frames need width and height (query parameters "
        "or X-Frame-* headers, 1..16384)");
    return FALSE;
  }
  *format = gst_video_format_from_string (f ? f : "RGB");
  if (*format == GST_VIDEO_FORMAT_UNKNOWN) {
    *error = g_strdup ("format is not a raw video format (RGB, RGBA, BGRx, "
        "...)");
    return FALSE;
  }
  *width = wv;
  *height = hv;
  return TRUE;
}

/**
 * drtc_frames_push_raw:
 * @query: width, height and format (RGB, RGBA, BGRx, ...; default RGB), or
 *   the X-Frame-Width, X-Frame-Height and X-Frame-Format headers
 *
 * The body is the pixels, default or tightly packed rows.
 */
void
drtc_frames_push_raw (GstElement * src, SoupServerMessage * msg,
    GHashTable * query, guint timeout_ms)
{
  const gchar *w = raw_param (msg, query, "width", "X-Frame-Width");
  const gchar *h = raw_param (msg, query, "height", "X-Frame-Height");
  const gchar *f = raw_param (msg, query, "format", "X-Frame-Format");
  PushJob *job = g_new0 (PushJob, 1);
  g_autofree gchar *error = NULL;

  if (!drtc_frames_parse_raw_params (w, h, f, &job->width, &job->height,
          &job->format, &error)) {
    drtc_http_reply_detail (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, error);
    g_free (job);
    return;
  }
  job->src = gst_object_ref (src);
  job->raw = drtc_http_request_body (msg);
  job->timeout_us = (gint64) timeout_ms *1000;
  run_push (msg, job);
}

/* ---- GET /whep/frame ---- */

typedef struct
{
  GstSample *sample;            /* NULL: a black frame */
  gint width, height;
  gdouble timestamp;
  gchar *format;                /* png (JSON), jpeg, raw */
  JsonNode *status;
  /* out */
  GBytes *encoded;
  gchar *error;
} FrameJob;

static void
frame_job_free (gpointer data)
{
  FrameJob *job = data;

  g_clear_pointer (&job->sample, gst_sample_unref);
  g_free (job->format);
  g_clear_pointer (&job->status, json_node_unref);
  g_clear_pointer (&job->encoded, g_bytes_unref);
  g_free (job->error);
  g_free (job);
}

static GstSample *
black_sample (gint width, gint height)
{
  GstVideoInfo info;
  GstBuffer *buf;
  GstCaps *caps;
  GstSample *sample;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, width, height);
  buf = gst_buffer_new_allocate (NULL, info.size, NULL);
  gst_buffer_memset (buf, 0, 0, info.size);
  caps = gst_video_info_to_caps (&info);
  sample = gst_sample_new (buf, caps, NULL, NULL);
  gst_buffer_unref (buf);
  gst_caps_unref (caps);
  return sample;
}

/* The pixels as tightly packed RGB rows (width * 3 bytes each), whatever
 * the stride of the sample: what a client reading "raw" expects. */
static GBytes *
packed_rgb (GstSample * sample, gchar ** error)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  guint8 *out, *dst;
  gsize row;
  gint y;

  if (!gst_video_info_from_caps (&info, gst_sample_get_caps (sample)) ||
      GST_VIDEO_INFO_FORMAT (&info) != GST_VIDEO_FORMAT_RGB ||
      !gst_video_frame_map (&frame, &info, gst_sample_get_buffer (sample),
          GST_MAP_READ)) {
    *error = g_strdup ("the last frame is not readable RGB");
    return NULL;
  }
  row = (gsize) GST_VIDEO_INFO_WIDTH (&info) * 3;
  out = dst = g_malloc (row * GST_VIDEO_INFO_HEIGHT (&info));
  for (y = 0; y < GST_VIDEO_INFO_HEIGHT (&info); y++, dst += row)
    memcpy (dst, (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
        (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0), row);
  gst_video_frame_unmap (&frame);
  return g_bytes_new_take (out, row * GST_VIDEO_INFO_HEIGHT (&info));
}

static void
encode_in_thread (GTask * task, gpointer source, gpointer data,
    GCancellable * cancellable)
{
  FrameJob *job = data;
  g_autoptr (GstSample) sample = job->sample ? gst_sample_ref (job->sample) :
      black_sample (job->width, job->height);
  g_autoptr (GstSample) out = NULL;
  g_autoptr (GstCaps) caps = NULL;
  g_autoptr (GError) err = NULL;

  if (g_str_equal (job->format, "raw")) {
    job->encoded = packed_rgb (sample, &job->error);
    return;
  }
  caps = gst_caps_new_empty_simple (g_str_equal (job->format, "jpeg") ?
      "image/jpeg" : "image/png");
  out = gst_video_convert_sample (sample, caps, 5 * GST_SECOND, &err);
  if (!out) {
    job->error = g_strdup (err ? err->message : "encoding failed");
    return;
  }
  {
    GstBuffer *buf = gst_sample_get_buffer (out);
    GstMapInfo map;

    gst_buffer_map (buf, &map, GST_MAP_READ);
    job->encoded = g_bytes_new (map.data, map.size);
    gst_buffer_unmap (buf, &map);
  }
}

static void
on_encoded (GObject * source, GAsyncResult * result, gpointer data)
{
  SoupServerMessage *msg = data;
  FrameJob *job = g_task_get_task_data (G_TASK (result));
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);

  if (job->error) {
    drtc_http_reply_detail (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, job->error);
  } else if (!g_str_equal (job->format, "png")) {
    g_autofree gchar *w = g_strdup_printf ("%d", job->width);
    g_autofree gchar *ht = g_strdup_printf ("%d", job->height);
    g_autofree gchar *ts = g_strdup_printf ("%.6f", job->timestamp);

    soup_message_headers_replace (h, "X-Frame-Width", w);
    soup_message_headers_replace (h, "X-Frame-Height", ht);
    soup_message_headers_replace (h, "X-Frame-Timestamp", ts);
    soup_message_headers_replace (h, "X-Has-Frame", job->sample ? "1" : "0");
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
    soup_server_message_set_response (msg, g_str_equal (job->format,
            "jpeg") ? "image/jpeg" : "application/octet-stream",
        SOUP_MEMORY_COPY, g_bytes_get_data (job->encoded, NULL),
        g_bytes_get_size (job->encoded));
  } else {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    g_autofree gchar *b64 = g_base64_encode (g_bytes_get_data (job->encoded,
            NULL), g_bytes_get_size (job->encoded));

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "frame_b64");
    json_builder_add_string_value (b, b64);
    drtc_json_builder_add_boolean (b, "has_frame", job->sample != NULL);
    json_builder_set_member_name (b, "metadata");
    json_builder_begin_object (b);
    drtc_json_builder_add_double (b, "timestamp",
        job->sample ? job->timestamp : 0.0);
    drtc_json_builder_add_int (b, "width", job->width);
    drtc_json_builder_add_int (b, "height", job->height);
    json_builder_end_object (b);
    json_builder_set_member_name (b, "status");
    json_builder_add_value (b, g_steal_pointer (&job->status));
    drtc_http_reply_object (msg, SOUP_STATUS_OK, b);
  }
  soup_server_message_unpause (msg);
  g_object_unref (msg);
}

/**
 * drtc_frames_whep_frame:
 * @format: "png" (the reference tool's JSON), "jpeg" or "raw" (RGB bytes)
 * @status: (transfer full): the WHEP status to include
 */
void
drtc_frames_whep_frame (GstSample * sample, gint width, gint height,
    gdouble timestamp, const gchar * format, JsonNode * status,
    SoupServerMessage * msg)
{
  FrameJob *job = g_new0 (FrameJob, 1);
  GTask *task;

  job->sample = sample ? gst_sample_ref (sample) : NULL;
  job->width = width;
  job->height = height;
  job->timestamp = timestamp;
  job->format = g_strdup (format);
  job->status = status;
  if (job->sample) {
    GstVideoInfo info;

    if (gst_video_info_from_caps (&info, gst_sample_get_caps (sample))) {
      job->width = GST_VIDEO_INFO_WIDTH (&info);
      job->height = GST_VIDEO_INFO_HEIGHT (&info);
    }
  }
  task = g_task_new (NULL, NULL, on_encoded, g_object_ref (msg));
  g_task_set_task_data (task, job, frame_job_free);
  soup_server_message_pause (msg);
  g_task_run_in_thread (task, encode_in_thread);
  g_object_unref (task);
}
