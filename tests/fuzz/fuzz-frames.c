/* daydream-rtc: libFuzzer harness for frames from the network
 * (app/drtc-frames.c): POST /frames' frame_b64 (base64, then PNG or JPEG
 * through pngdec/jpegdec; fuzz-raw-frame has the raw frame parameters).
 * The first byte picks: even, the rest as frame_b64 text; odd, the rest as
 * image bytes (base64-encoded here, so that mutations reach the
 * decoders). */
#include "drtc-frames.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const guint8 * data, gsize size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  gst_init (NULL, NULL);
  return 0;
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
  if (data[0] % 2 == 0) {
    decode (text);
  } else {
    g_autofree gchar *b64 = g_base64_encode (data + 1, size - 1);

    decode (b64);
  }
  return 0;
}
