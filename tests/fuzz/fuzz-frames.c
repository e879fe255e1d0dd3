/* daydream-rtc: libFuzzer harness for frames from the network
 * (app/drtc-frames.c): POST /frames' frame_b64 (base64, then PNG or JPEG
 * through pngdec/jpegdec) and the raw frame parameters (width, height,
 * format). The first byte picks: 0 raw parameters "W\nH\nFORMAT", 1 the
 * rest as frame_b64 text, 2 the rest as image bytes (base64-encoded here,
 * so that mutations reach the decoders). */
#include "drtc-frames.h"

#include <string.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const guint8 * data, gsize size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  gst_init (NULL, NULL);
  return 0;
}

static void
raw_params (gchar * text)
{
  gchar **parts = g_strsplit (text, "\n", 3);
  guint width = 0, height = 0;
  GstVideoFormat format;
  g_autofree gchar *error = NULL;

  if (drtc_frames_parse_raw_params (parts[0], parts[0] ? parts[1] : NULL,
          parts[0] && parts[1] ? parts[2] : NULL, &width, &height, &format,
          &error)) {
    if (width < 1 || width > 16384 || height < 1 || height > 16384
        || format == GST_VIDEO_FORMAT_UNKNOWN)
      __builtin_trap ();
  } else if (!error) {
    __builtin_trap ();
  }
  g_strfreev (parts);
}

static void
decode (const gchar * b64)
{
  GError *error = NULL;
  GstSample *sample = drtc_frames_decode_b64 (b64, &error);

  if (sample)
    gst_sample_unref (sample);
  else if (!error)
    __builtin_trap ();
  g_clear_error (&error);
}

int
LLVMFuzzerTestOneInput (const guint8 * data, gsize size)
{
  g_autofree gchar *text = NULL;

  if (size < 1)
    return 0;
  text = g_strndup ((const gchar *) data + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      raw_params (text);
      break;
    case 1:
      decode (text);
      break;
    default:{
      g_autofree gchar *b64 = g_base64_encode (data + 1, size - 1);

      decode (b64);
      break;
    }
  }
  return 0;
}
