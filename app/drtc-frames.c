/* daydream-rtc serve: frames in (POST /frames) and out (GET /whep/frame)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Decoding and encoding run on GTask's worker threads, never on the main
 * loop: base64, PNG (or JPEG) through a pngdec/jpegdec pipeline kept per
 * worker thread, and the push into framebridgesrc, which waits for room
 * there (backpressure) up to --frames-timeout. The raw path takes RGB/RGBA/
 * BGRx bytes as they are: no base64, no PNG, no copy.
 */
#include "drtc-frames.h"
#include "drtc-http-util.h"
#include "drtc-json.h"

#include <string.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>

#include "daydreamrtc/framebridge.h"

typedef struct
{
  GstElement *pipeline, *src, *sink;
} Decoder;

static void
decoder_free (gpointer data)
{
  Decoder *d = data;

  gst_element_set_state (d->pipeline, GST_STATE_NULL);
  gst_object_unref (d->src);
  gst_object_unref (d->sink);
  gst_object_unref (d->pipeline);
  g_free (d);
}

static GPrivate png_decoder = G_PRIVATE_INIT (decoder_free);
static GPrivate jpeg_decoder = G_PRIVATE_INIT (decoder_free);

/* One long-lived decoding pipeline per worker thread and image type. */
static Decoder *
get_decoder (gboolean png)
{
  GPrivate *key = png ? &png_decoder : &jpeg_decoder;
  Decoder *d = g_private_get (key);

  if (d)
    return d;
  d = g_new0 (Decoder, 1);
  d->pipeline = gst_parse_launch (png ?
      "appsrc name=src caps=image/png format=time ! pngdec ! videoconvert ! "
      "video/x-raw,format=RGB ! appsink name=sink sync=false" :
      "appsrc name=src caps=image/jpeg format=time ! jpegdec ! videoconvert "
      "! video/x-raw,format=RGB ! appsink name=sink sync=false", NULL);
  if (!d->pipeline) {
    g_free (d);
    return NULL;
  }
  d->src = gst_bin_get_by_name (GST_BIN (d->pipeline), "src");
  d->sink = gst_bin_get_by_name (GST_BIN (d->pipeline), "sink");
  gst_element_set_state (d->pipeline, GST_STATE_PLAYING);
  g_private_set (key, d);
  return d;
}

/* ---- PNG completeness ---- */

#define MAX_SIDE 16384

typedef struct
{
  guint32 width, height;
  guint8 depth, color, interlace;
} PngHeader;

/* Bytes of filtered scanlines a PNG of @h declares (Adam7: seven passes). */
static guint64
png_raw_size (const PngHeader * h)
{
  static const guint8 channels[7] = { 1, 0, 3, 1, 2, 0, 4 };
  static const guint8 x0[7] = { 0, 4, 0, 2, 0, 1, 0 }, dx[7] = {
    8, 8, 4, 4, 2, 2, 1
  }, y0[7] = {
    0, 0, 4, 0, 2, 0, 1
  }, dy[7] = {
    8, 8, 8, 4, 4, 2, 2
  };
  guint64 bits = (guint64) channels[h->color % 7] * h->depth, total = 0;

  if (!h->interlace)
    return h->height * (1 + (h->width * bits + 7) / 8);
  for (gint p = 0; p < 7; p++) {
    guint64 cols = h->width > x0[p] ? (h->width - x0[p] + dx[p] - 1) / dx[p] :
        0;
    guint64 rows = h->height > y0[p] ? (h->height - y0[p] + dy[p] - 1) /
        dy[p] : 0;

    if (cols && rows)
      total += rows * (1 + (cols * bits + 7) / 8);
  }
  return total;
}

/* Inflates @idat, counting (not keeping) what comes out, up to @want. The
 * zlib header is skipped and the stream inflated raw: pngdec checks the
 * Adler-32 sum, this only counts. */
static guint64
inflated_size (GByteArray * idat, guint64 want)
{
  g_autoptr (GConverter) z =
      G_CONVERTER (g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW));
  g_autofree guint8 *out = g_malloc (64 * 1024);
  gsize in_at = 2, read, written;

  if (idat->len < 2 || (idat->data[1] & 0x20))  /* no preset dictionaries */
    return 0;
  guint64 total = 0;

  while (total < want) {
    g_autoptr (GError) err = NULL;
    GConverterResult r = g_converter_convert (z, idat->data + in_at,
        idat->len - in_at, out, 64 * 1024, G_CONVERTER_INPUT_AT_END, &read,
        &written, &err);

    if (r == G_CONVERTER_ERROR)
      break;
    in_at += read;
    total += written;
    if (r == G_CONVERTER_FINISHED)
      break;
  }
  return total;
}

/* Byte by byte: GST_READ_UINT32_BE is an unaligned 32-bit load on x86,
 * undefined behaviour in C (UBSan reports it) at any odd offset. */
static guint32
read_be32 (const guint8 * p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 |
      p[3];
}

/* The header and the image data of a PNG; FALSE when its chunks do not
 * make one (no IHDR or IEND, a chunk past the end, too large). */
static gboolean
png_scan (const guint8 * data, gsize len, PngHeader * h, GByteArray * idat,
    GError ** error)
{
  gboolean header = FALSE, end = FALSE;
  gsize at = 8;

  while (!end && len - at >= 12) {
    guint32 n = read_be32 (data + at);
    const guint8 *type = data + at + 4, *body = data + at + 8;

    if (n > len - at - 12)
      break;
    if (memcmp (type, "IHDR", 4) == 0 && n == 13) {
      h->width = read_be32 (body);
      h->height = read_be32 (body + 4);
      h->depth = body[8];
      h->color = body[9];
      h->interlace = body[12];
      header = TRUE;
    } else if (memcmp (type, "IDAT", 4) == 0) {
      g_byte_array_append (idat, body, n);
    }
    end = memcmp (type, "IEND", 4) == 0;
    at += 12 + (gsize) n;
  }
  if (header && end && h->width > 0 && h->height > 0 && h->width <= MAX_SIDE
      && h->height <= MAX_SIDE)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
      "frame_b64 is not a complete PNG of at most %dx%d", MAX_SIDE, MAX_SIDE);
  return FALSE;
}

/* pngdec turns a PNG whose data ends before its last row into a frame with
 * the missing rows made up: refuse one whose image data holds fewer bytes
 * than its header declares. */
static gboolean
png_rows_complete (const PngHeader * h, GByteArray * idat, GError ** error)
{
  if (inflated_size (idat, png_raw_size (h)) >= png_raw_size (h))
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
      "frame_b64 is a truncated PNG: its data holds fewer than the %u rows "
      "its header declares", h->height);
  return FALSE;
}

/* The decoded frame, or NULL as soon as the pipeline errors (a broken
 * image) or after 1 s. */
static GstSample *
pull_decoded (Decoder * d)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (d->pipeline);
  gint64 until = g_get_monotonic_time () + G_USEC_PER_SEC;
  GstSample *sample = NULL;
  GstMessage *error;

  while (!sample && g_get_monotonic_time () < until) {
    sample = gst_app_sink_try_pull_sample (GST_APP_SINK (d->sink),
        10 * GST_MSECOND);
    if (!sample && (error = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR))) {
      gst_message_unref (error);
      break;
    }
  }
  return sample;
}

static GstSample *
decode_image (GBytes * image, GError ** error)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (image, &len);
  gboolean png = len >= 8 && memcmp (data, "\x89PNG\r\n\x1a\n", 8) == 0;
  gboolean jpeg = len >= 3 && data[0] == 0xff && data[1] == 0xd8;
  g_autoptr (GByteArray) idat = g_byte_array_new ();
  g_autoptr (GError) rows_error = NULL;
  gboolean complete = TRUE;
  PngHeader h = { 0 };
  Decoder *d;
  GstSample *sample;

  if (!png && !jpeg) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "frame_b64 is not a PNG or JPEG image");
    return NULL;
  }
  if (png && !png_scan (data, len, &h, idat, error))
    return NULL;
  d = get_decoder (png);
  if (!d) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
        "no %s decoder", png ? "PNG" : "JPEG");
    return NULL;
  }
  gst_app_src_push_buffer (GST_APP_SRC (d->src),
      gst_buffer_new_wrapped_bytes (image));
  /* counted while pngdec decodes on its own thread */
  if (png)
    complete = png_rows_complete (&h, idat, &rows_error);
  sample = pull_decoded (d);
  if (!sample) {
    /* a broken image errors the pipeline: start afresh next time */
    g_private_replace (png ? &png_decoder : &jpeg_decoder, NULL);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "frame_b64 is not a decodable image");
  } else if (!complete) {
    g_clear_pointer (&sample, gst_sample_unref);
    g_propagate_error (error, g_steal_pointer (&rows_error));
  }
  return sample;
}

/**
 * drtc_frames_decode_b64:
 * @b64: the frame_b64 of POST /frames, from the network
 *
 * Base64, then PNG or JPEG, to an RGB sample. Blocks (at most about 1 s):
 * call it on a worker thread.
 *
 * Returns: (transfer full) (nullable): the frame, or NULL with @error set
 */
GstSample *
drtc_frames_decode_b64 (const gchar * b64, GError ** error)
{
  gsize len = 0;
  guchar *bytes = g_base64_decode (b64, &len);
  g_autoptr (GBytes) image = g_bytes_new_take (bytes, len);

  if (len == 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "frame_b64 is empty or not base64");
    return NULL;
  }
  return decode_image (image, error);
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
  g_autoptr (JsonNode) body = NULL;
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
    json_builder_set_member_name (b, "accepted");
    json_builder_add_boolean_value (b, TRUE);
    json_builder_set_member_name (b, "queue_depth");
    json_builder_add_int_value (b, depth);
    json_builder_set_member_name (b, "dropped");
    json_builder_add_int_value (b, dropped);
    json_builder_end_object (b);
    body = json_builder_get_root (b);
    drtc_http_reply_json (msg, SOUP_STATUS_OK, body);
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
    g_autoptr (JsonNode) body = NULL;
    g_autofree gchar *b64 = g_base64_encode (g_bytes_get_data (job->encoded,
            NULL), g_bytes_get_size (job->encoded));

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "frame_b64");
    json_builder_add_string_value (b, b64);
    json_builder_set_member_name (b, "has_frame");
    json_builder_add_boolean_value (b, job->sample != NULL);
    json_builder_set_member_name (b, "metadata");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "timestamp");
    json_builder_add_double_value (b, job->sample ? job->timestamp : 0.0);
    json_builder_set_member_name (b, "width");
    json_builder_add_int_value (b, job->width);
    json_builder_set_member_name (b, "height");
    json_builder_add_int_value (b, job->height);
    json_builder_end_object (b);
    json_builder_set_member_name (b, "status");
    json_builder_add_value (b, g_steal_pointer (&job->status));
    json_builder_end_object (b);
    body = json_builder_get_root (b);
    drtc_http_reply_json (msg, SOUP_STATUS_OK, body);
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
