/* daydream-rtc: libFuzzer harness for the raw frame parameters of POST
 * /frames (query parameters or X-Frame-* headers), app/drtc-frames.c:
 * input "WIDTH\nHEIGHT\nFORMAT". fuzz-frames covers them too, slowly: this
 * one runs without GStreamer's decoders. */
#include "drtc-frames.h"

int LLVMFuzzerTestOneInput (const guint8 * data, gsize size);

int
LLVMFuzzerTestOneInput (const guint8 * data, gsize size)
{
  g_autofree gchar *text = g_strndup ((const gchar *) data, size);
  gchar **parts = g_strsplit (text, "\n", 3);
  guint width = 0, height = 0;
  GstVideoFormat format = GST_VIDEO_FORMAT_UNKNOWN;
  g_autofree gchar *error = NULL;
  const gchar *h = parts[0] ? parts[1] : NULL;

  if (drtc_frames_parse_raw_params (parts[0], h, h ? parts[2] : NULL, &width,
          &height, &format, &error)) {
    if (width < 1 || width > 16384 || height < 1 || height > 16384
        || format == GST_VIDEO_FORMAT_UNKNOWN)
      __builtin_trap ();
  } else if (!error) {
    __builtin_trap ();
  }
  g_strfreev (parts);
  return 0;
}
