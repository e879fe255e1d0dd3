/* daydream-rtc: libFuzzer harness for what POST /frames' frame_b64 must be
 * before a decoder sees it (app/drtc-frame-check.c: base64, PNG and JPEG
 * structure and completeness, size limits), at full speed: no GStreamer.
 * The first byte picks: even, the rest as frame_b64 text; odd, the rest as
 * image bytes. fuzz-frames-decode hands what passes to the decoders;
 * fuzz-raw-frame has the raw frame parameters. */
#include "drtc-frame-check.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 * data, gsize size);

/* What a check that passed promises the decoder stage. */
static void
check_passed (const guint8 * image, gsize len, const DrtcFrameCheck * c)
{
  gboolean png = len >= 8 && memcmp (image, "\x89PNG\r\n\x1a\n", 8) == 0;

  if (c->size < 8 || c->size > len || c->width < 1 || c->height < 1
      || c->width > DRTC_FRAME_MAX_SIDE || c->height > DRTC_FRAME_MAX_SIDE
      || (guint64) c->width * c->height > DRTC_FRAME_MAX_PIXELS
      || c->type != (png ? DRTC_FRAME_PNG : DRTC_FRAME_JPEG))
    __builtin_trap ();
  /* cut at IEND (a chunk's CRC after it) or EOI */
  if (png ? memcmp (image + c->size - 8, "IEND", 4) != 0 :
      image[c->size - 2] != 0xff || image[c->size - 1] != 0xd9)
    __builtin_trap ();
}

int
LLVMFuzzerTestOneInput (const guint8 * data, gsize size)
{
  g_autoptr (GError) error = NULL;
  DrtcFrameCheck c;

  if (size < 1)
    return 0;
  if (data[0] % 2 == 0) {
    g_autofree gchar *text = g_strndup ((const gchar *) data + 1, size - 1);
    g_autoptr (GBytes) image = drtc_frame_check_b64 (text, &c, &error);
    gsize len = 0;
    g_autofree guchar *whole = g_base64_decode (text, &len);

    if (image) {
      if (g_bytes_get_size (image) != c.size)
        __builtin_trap ();
      check_passed (whole, len, &c);
    }
  } else if (drtc_frame_check (data + 1, size - 1, &c, &error)) {
    check_passed (data + 1, size - 1, &c);
    return 0;
  }
  if ((error != NULL) != (c.size == 0))
    __builtin_trap ();
  return 0;
}
