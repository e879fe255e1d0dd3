/* daydream-rtc serve: what a frame_b64 must be before a decoder sees it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pure functions of the bytes (no GStreamer, no state): base64, then the
 * structure of a PNG (chunks, a valid IHDR, IEND, image data holding every
 * row the header declares) or a JPEG (segments, one frame header, scans,
 * EOI), and the size limits. Only what passes reaches pngdec or jpegdec
 * (drtc-frames.c), cut at its IEND or EOI: decoders make up the rows a
 * truncated image lacks, and GStreamer's video converter overflows (and
 * crashes) on frames of 2 GiB, which a 700-byte JPEG header can declare.
 */
#include "drtc-frame-check.h"

#include <gio/gio.h>
#include <string.h>

static gboolean
size_ok (guint32 width, guint32 height)
{
  return width > 0 && height > 0 && width <= DRTC_FRAME_MAX_SIDE
      && height <= DRTC_FRAME_MAX_SIDE
      && (guint64) width *height <= DRTC_FRAME_MAX_PIXELS;
}

static gboolean
refuse (GError ** error, const gchar * what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
      "frame_b64 is not a complete %s of at most %dx%d and %d pixels", what,
      DRTC_FRAME_MAX_SIDE, DRTC_FRAME_MAX_SIDE, DRTC_FRAME_MAX_PIXELS);
  return FALSE;
}

/* Byte by byte: GST_READ_UINT32_BE is an unaligned 32-bit load on x86,
 * undefined behaviour in C (UBSan reports it) at any odd offset. */
static guint32
read_be32 (const guint8 * p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 |
      p[3];
}

static guint
read_be16 (const guint8 * p)
{
  return (guint) p[0] << 8 | p[1];
}

/* ---- PNG ---- */

typedef struct
{
  guint32 width, height;
  guint8 depth, color, interlace;
} PngHeader;

/* The bit depths PNG allows for each colour type (ISO 15948, 11.2.2). */
static gboolean
png_header_valid (const PngHeader * h, const guint8 * ihdr)
{
  static const guint8 depths[7] = {
    1 | 2 | 4 | 8 | 16, 0, 8 | 16, 1 | 2 | 4 | 8, 8 | 16, 0, 8 | 16
  };

  return h->color < 7 && h->depth <= 16 && (h->depth & (h->depth - 1)) == 0
      && (depths[h->color] & h->depth) && ihdr[10] == 0 && ihdr[11] == 0
      && h->interlace <= 1;
}

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
  guint64 bits = (guint64) channels[h->color] * h->depth, total = 0;

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
  guint64 total = 0;

  if (idat->len < 2 || (idat->data[1] & 0x20))  /* no preset dictionaries */
    return 0;
  while (total < want) {
    g_autoptr (GError) err = NULL;
    GConverterResult r = g_converter_convert (z, idat->data + in_at,
        idat->len - in_at, out, 64 * 1024, G_CONVERTER_INPUT_AT_END, &read,
        &written, &err);

    if (r == G_CONVERTER_ERROR || (read == 0 && written == 0))
      break;
    in_at += read;
    total += written;
    if (r == G_CONVERTER_FINISHED)
      break;
  }
  return total;
}

/* The header and the image data of a PNG, and where its IEND ends; 0 when
 * its chunks do not make one (IHDR not first, no IEND, a chunk past the
 * end). */
static gsize
png_scan (const guint8 * data, gsize len, PngHeader * h, GByteArray * idat)
{
  gboolean header = FALSE;
  gsize at = 8;

  while (len - at >= 12) {
    guint32 n = read_be32 (data + at);
    const guint8 *type = data + at + 4, *body = data + at + 8;

    if (n > len - at - 12)
      return 0;
    if (!header) {
      if (memcmp (type, "IHDR", 4) != 0 || n != 13)
        return 0;
      h->width = read_be32 (body);
      h->height = read_be32 (body + 4);
      h->depth = body[8];
      h->color = body[9];
      h->interlace = body[12];
      if (!png_header_valid (h, body))
        return 0;
      header = TRUE;
    } else if (memcmp (type, "IDAT", 4) == 0) {
      g_byte_array_append (idat, body, n);
    }
    at += 12 + (gsize) n;
    if (memcmp (type, "IEND", 4) == 0)
      return at;
  }
  return 0;
}

static gboolean
png_check (const guint8 * data, gsize len, DrtcFrameCheck * out,
    GError ** error)
{
  g_autoptr (GByteArray) idat = g_byte_array_new ();
  PngHeader h = { 0 };
  gsize end = png_scan (data, len, &h, idat);

  if (!end || !size_ok (h.width, h.height))
    return refuse (error, "PNG");
  /* pngdec turns a PNG whose data ends before its last row into a frame
   * with the missing rows made up */
  if (inflated_size (idat, png_raw_size (&h)) < png_raw_size (&h)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "frame_b64 is a truncated PNG: its data holds fewer than the %u rows "
        "its header declares", h.height);
    return FALSE;
  }
  out->type = DRTC_FRAME_PNG;
  out->width = h.width;
  out->height = h.height;
  out->size = end;
  return TRUE;
}

/* ---- JPEG ---- */

/* Start of frame: C0-CF but DHT (C4), JPG (C8) and DAC (CC). */
static gboolean
is_sof (guint8 marker)
{
  return marker >= 0xc0 && marker <= 0xcf && marker != 0xc4
      && marker != 0xc8 && marker != 0xcc;
}

/* Past the entropy-coded data of a scan at @at: the next marker's FF (or
 * @len), stuffed bytes (FF 00), restarts (FF D0-D7) and fill (FF FF) being
 * part of the data. */
static gsize
jpeg_skip_scan (const guint8 * data, gsize len, gsize at)
{
  while (at + 1 < len) {
    guint8 next = data[at + 1];

    if (data[at] != 0xff || next == 0xff)
      at++;
    else if (next == 0x00 || (next >= 0xd0 && next <= 0xd7))
      at += 2;
    else
      return at;
  }
  return len;
}

/* Where the EOI of the JPEG ends, 0 when its segments do not make a
 * complete one: one frame header, a scan after it, EOI. */
static gsize
jpeg_scan (const guint8 * data, gsize len, guint * width, guint * height)
{
  gboolean frame = FALSE, scan = FALSE;
  gsize at = 2;

  while (at + 2 <= len) {
    guint8 marker = data[at + 1];
    guint n;

    if (data[at] != 0xff)
      return 0;
    if (marker == 0xff) {       /* fill before a marker */
      at++;
      continue;
    }
    if (marker == 0xd9)
      return scan ? at + 2 : 0;
    if (marker == 0xd8 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)
        || at + 4 > len || (n = read_be16 (data + at + 2)) < 2
        || n > len - at - 2)
      return 0;
    if (is_sof (marker)) {
      if (frame || n < 8)
        return 0;
      *height = read_be16 (data + at + 5);
      *width = read_be16 (data + at + 7);
      frame = TRUE;
    }
    at += 2 + n;
    if (marker == 0xda) {
      if (!frame)
        return 0;
      scan = TRUE;
      at = jpeg_skip_scan (data, len, at);
    }
  }
  return 0;
}

static gboolean
jpeg_check (const guint8 * data, gsize len, DrtcFrameCheck * out,
    GError ** error)
{
  guint width = 0, height = 0;
  gsize end = jpeg_scan (data, len, &width, &height);

  if (!end || !size_ok (width, height))
    return refuse (error, "JPEG");
  out->type = DRTC_FRAME_JPEG;
  out->width = width;
  out->height = height;
  out->size = end;
  return TRUE;
}

/**
 * drtc_frame_check:
 * @data: (array length=len): an image from the network
 * @out: (out caller-allocates): its type, size and the bytes to decode
 *
 * Whether @data is a complete PNG or JPEG within the limits
 * (DRTC_FRAME_MAX_SIDE per side, DRTC_FRAME_MAX_PIXELS): the decision what a
 * decoder gets. A PNG's image data is inflated (counted, not kept) to see
 * that it holds every row.
 *
 * Returns: %TRUE, or %FALSE with @error set (for a 400)
 */
gboolean
drtc_frame_check (const guint8 * data, gsize len, DrtcFrameCheck * out,
    GError ** error)
{
  memset (out, 0, sizeof *out);
  if (len >= 8 && memcmp (data, "\x89PNG\r\n\x1a\n", 8) == 0)
    return png_check (data, len, out, error);
  if (len >= 3 && data[0] == 0xff && data[1] == 0xd8)
    return jpeg_check (data, len, out, error);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
      "frame_b64 is not a PNG or JPEG image");
  return FALSE;
}

/**
 * drtc_frame_check_b64:
 * @b64: the frame_b64 of POST /frames
 *
 * Base64, then drtc_frame_check().
 *
 * Returns: (transfer full) (nullable): the image, cut to @out's size, or
 * NULL with @error set
 */
GBytes *
drtc_frame_check_b64 (const gchar * b64, DrtcFrameCheck * out, GError ** error)
{
  gsize len = 0;
  g_autofree guchar *bytes = g_base64_decode (b64, &len);

  if (len == 0) {
    memset (out, 0, sizeof *out);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "frame_b64 is empty or not base64");
    return NULL;
  }
  if (!drtc_frame_check (bytes, len, out, error))
    return NULL;
  return g_bytes_new_take (g_steal_pointer (&bytes), out->size);
}
