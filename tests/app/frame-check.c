/* daydream-rtc: tests of app/drtc-frame-check.c (what a frame_b64 must be
 * before a decoder sees it) */
#include "drtc-frame-check.h"

#include <gio/gio.h>
#include <string.h>

static void
put_be32 (GByteArray * a, guint32 v)
{
  guint8 b[4] = { v >> 24, v >> 16, v >> 8, v };

  g_byte_array_append (a, b, 4);
}

static void
chunk (GByteArray * png, const gchar * type, const guint8 * body, gsize n)
{
  put_be32 (png, n);
  g_byte_array_append (png, (const guint8 *) type, 4);
  g_byte_array_append (png, body, n);
  put_be32 (png, 0);            /* the CRC: pngdec's to check, not ours */
}

/* An RGB PNG declaring @width x @height (@depth bits, colour type 2),
 * whose image data holds @rows rows of zeros. */
static GByteArray *
png (guint32 width, guint32 height, guint8 depth, guint rows)
{
  GByteArray *out = g_byte_array_new ();
  g_autoptr (GConverter) z =
      G_CONVERTER (g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_ZLIB, 9));
  gsize row = 1 + (gsize) width * 3 * depth / 8, read, written;
  g_autofree guint8 *raw = g_malloc0 (row * rows + 1);
  g_autofree guint8 *idat = g_malloc (row * rows + 1024);
  guint8 ihdr[13] = { 0 };

  g_assert_cmpint (g_converter_convert (z, raw, row * rows, idat,
          row * rows + 1024, G_CONVERTER_INPUT_AT_END, &read, &written, NULL),
      ==, G_CONVERTER_FINISHED);
  g_byte_array_append (out, (const guint8 *) "\x89PNG\r\n\x1a\n", 8);
  for (gint i = 0; i < 4; i++) {
    ihdr[i] = width >> (24 - 8 * i);
    ihdr[4 + i] = height >> (24 - 8 * i);
  }
  ihdr[8] = depth;
  ihdr[9] = 2;
  chunk (out, "IHDR", ihdr, 13);
  chunk (out, "IDAT", idat, written);
  chunk (out, "IEND", NULL, 0);
  return out;
}

static gboolean
check (GByteArray * a, DrtcFrameCheck * c, const gchar * refused)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = drtc_frame_check (a->data, a->len, c, &error);

  if (refused) {
    g_assert_false (ok);
    g_assert_nonnull (strstr (error->message, refused));
  } else {
    g_assert_no_error (error);
  }
  return ok;
}

/* @a passes as a @type of @width x @height, whole; bytes after its end
 * (appended here) are not handed on. */
static void
check_passes (GByteArray * a, DrtcFrameType type, guint width, guint height)
{
  DrtcFrameCheck c;
  gsize whole = a->len;

  g_assert_true (check (a, &c, NULL));
  g_assert_cmpint (c.type, ==, type);
  g_assert_cmpuint (c.width, ==, width);
  g_assert_cmpuint (c.height, ==, height);
  g_assert_cmpuint (c.size, ==, whole);
  g_byte_array_append (a, (const guint8 *) "\x00junk", 5);
  g_assert_true (check (a, &c, NULL));
  g_assert_cmpuint (c.size, ==, whole);
  g_byte_array_set_size (a, whole);
}

static void
test_png (void)
{
  g_autoptr (GByteArray) good = png (5, 3, 8, 3);
  g_autoptr (GByteArray) short_data = png (5, 3, 8, 2);
  g_autoptr (GByteArray) depth = png (5, 3, 4, 3);      /* not for RGB */
  g_autoptr (GByteArray) large = png (8192, 4097, 8, 1);
  DrtcFrameCheck c;
  gsize whole = good->len;

  check_passes (good, DRTC_FRAME_PNG, 5, 3);
  /* without IEND */
  g_byte_array_set_size (good, whole - 12);
  check (good, &c, "not a complete PNG");
  check (short_data, &c, "truncated PNG");
  check (depth, &c, "not a complete PNG");
  /* over 2^25 pixels: refused by its header, before any inflating */
  check (large, &c, "33554432 pixels");
}

/* A grey JPEG's segments: SOI, SOF@sof (@width x @height), DHT, SOS and
 * entropy-coded bytes (a stuffed FF 00 and a restart among them), EOI. */
static GByteArray *
jpeg (guint8 sof, guint width, guint height, gboolean eoi)
{
  static const guint8 dht[] = { 0xff, 0xc4, 0x00, 0x03, 0x00 };
  static const guint8 sos[] = {
    0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00
  };
  static const guint8 data[] = { 0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56 };
  guint8 frame[] = { 0xff, sof, 0x00, 0x0b, 0x08, height >> 8, height,
    width >> 8, width, 0x01, 0x01, 0x11, 0x00
  };
  GByteArray *out = g_byte_array_new ();

  g_byte_array_append (out, (const guint8 *) "\xff\xd8", 2);
  g_byte_array_append (out, frame, sizeof frame);
  g_byte_array_append (out, dht, sizeof dht);
  g_byte_array_append (out, sos, sizeof sos);
  g_byte_array_append (out, data, sizeof data);
  if (eoi)
    g_byte_array_append (out, (const guint8 *) "\xff\xd9", 2);
  return out;
}

static void
test_jpeg (void)
{
  g_autoptr (GByteArray) good = jpeg (0xc0, 640, 480, TRUE);
  g_autoptr (GByteArray) progressive = jpeg (0xc2, 16, 8, TRUE);
  g_autoptr (GByteArray) truncated = jpeg (0xc0, 640, 480, FALSE);
  g_autoptr (GByteArray) huge = jpeg (0xc0, 30000, 30000, TRUE);
  g_autoptr (GByteArray) empty = jpeg (0xc0, 640, 0, TRUE);
  DrtcFrameCheck c;
  gsize whole = good->len;

  check_passes (good, DRTC_FRAME_JPEG, 640, 480);
  check_passes (progressive, DRTC_FRAME_JPEG, 16, 8);
  check (truncated, &c, "not a complete JPEG");
  check (huge, &c, "at most 16384x16384");
  check (empty, &c, "not a complete JPEG");
  /* a scan before its frame header */
  memmove (good->data + 2, good->data + 15, whole - 15);
  g_byte_array_set_size (good, whole - 13);
  check (good, &c, "not a complete JPEG");
}

static void
test_base64 (void)
{
  g_autoptr (GByteArray) a = jpeg (0xc0, 8, 8, TRUE);
  g_autofree gchar *b64 = g_base64_encode (a->data, a->len);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) image = NULL;
  DrtcFrameCheck c;

  image = drtc_frame_check_b64 (b64, &c, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (image), ==, a->len);
  g_assert_null (drtc_frame_check_b64 ("!!!!", &c, &error));
  g_assert_nonnull (strstr (error->message, "empty or not base64"));
  g_clear_error (&error);
  g_assert_null (drtc_frame_check_b64 ("aGVsbG8=", &c, &error));
  g_assert_nonnull (strstr (error->message, "not a PNG or JPEG"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/frame-check/png", test_png);
  g_test_add_func ("/frame-check/jpeg", test_jpeg);
  g_test_add_func ("/frame-check/base64", test_base64);
  return g_test_run ();
}
