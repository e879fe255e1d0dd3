/* daydream-rtc: libFuzzer harness for the decoder stage of POST /frames
 * (app/drtc-frames.c): an image that passes drtc_frame_check() goes, as
 * serve hands it, to drtc_frames_decode_image: a PNG to libpng, a JPEG
 * through the thread's long-lived jpegdec pipeline, reused across inputs
 * the way a worker thread of serve reuses it. A frame comes out with the size the
 * check read, or an error does; nothing of one input may reach the next.
 * A PNG's chunk CRCs are made right first (a hostile sender computes them),
 * so that mutations reach libpng's decoding, not just its CRC check. At
 * exit it says how many inputs reached the decoders and how many decoded.
 * fuzz-frames covers the checks alone, at full speed. */
#include "drtc-frames.h"

#include <stdio.h>
#include <string.h>

static guint64 checked, decoded, refused;

static void
print_counts (void)
{
  fprintf (stderr, "frames-decode: %" G_GUINT64_FORMAT " inputs passed the "
      "checks, %" G_GUINT64_FORMAT " decoded, %" G_GUINT64_FORMAT " refused "
      "by the decoder\n", checked, decoded, refused);
}

/* PNG's CRC-32 (ISO 3309), bit by bit: inputs are small. */
static guint32
crc32 (const guint8 * p, gsize n)
{
  guint32 crc = 0xffffffff;

  while (n--) {
    crc ^= *p++;
    for (gint k = 0; k < 8; k++)
      crc = crc & 1 ? 0xedb88320 ^ (crc >> 1) : crc >> 1;
  }
  return ~crc;
}

/* Every chunk's CRC in @png made right, in place. */
static void
fix_png_crcs (guint8 * png, gsize len)
{
  gsize at = 8;

  if (len < 8 || memcmp (png, "\x89PNG\r\n\x1a\n", 8) != 0)
    return;
  while (len - at >= 12) {
    guint32 n = (guint32) png[at] << 24 | (guint32) png[at + 1] << 16 |
        (guint32) png[at + 2] << 8 | png[at + 3];
    guint32 crc;

    if (n > len - at - 12)
      return;
    crc = crc32 (png + at + 4, n + 4);
    png[at + 8 + n] = crc >> 24;
    png[at + 9 + n] = crc >> 16;
    png[at + 10 + n] = crc >> 8;
    png[at + 11 + n] = crc;
    at += 12 + (gsize) n;
  }
}

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const guint8 * data, gsize size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  gst_init (NULL, NULL);
  atexit (print_counts);
  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 * data, gsize size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) image = NULL;
  g_autoptr (GstSample) sample = NULL;
  g_autofree guint8 *copy = g_memdup2 (data, size);
  DrtcFrameCheck c;
  GstVideoInfo info;

  fix_png_crcs (copy, size);
  if (!drtc_frame_check (copy, size, &c, NULL))
    return 0;
  checked++;
  image = g_bytes_new (copy, c.size);
  sample = drtc_frames_decode_image (image, &c, &error);
  if (!sample) {
    if (!error)
      __builtin_trap ();
    refused++;
    return 0;
  }
  decoded++;
  if (!gst_video_info_from_caps (&info, gst_sample_get_caps (sample))
      || GST_VIDEO_INFO_FORMAT (&info) != GST_VIDEO_FORMAT_RGB
      || (guint) GST_VIDEO_INFO_WIDTH (&info) != c.width
      || (guint) GST_VIDEO_INFO_HEIGHT (&info) != c.height
      || gst_buffer_get_size (gst_sample_get_buffer (sample)) < info.size)
    __builtin_trap ();
  return 0;
}
