/* daydream-rtc: libFuzzer harness for SDP offers and answers as the gateway
 * (WHIP/WHEP offers, trickle sdpfrag PATCH bodies) and the elements (WHIP
 * answers, WHEP counter-offers) read them: common/drtc-sdp.c */
#include "drtc-sdp.h"

int LLVMFuzzerTestOneInput (const guint8 * data, gsize size);

int
LLVMFuzzerTestOneInput (const guint8 * data, gsize size)
{
  g_autofree gchar *text = g_strndup ((const gchar *) data, size);
  GstSDPMessage *msg = drtc_sdp_parse (text, NULL);
  GPtrArray *candidates = drtc_sdp_frag_candidates (text, NULL);
  gint payload = -1;

  if (candidates)
    g_ptr_array_unref (candidates);
  if (!msg)
    return 0;
  if (drtc_sdp_keep_codec (msg, "H264", &payload, NULL)) {
    GstCaps *caps = drtc_sdp_payload_caps (msg, payload);

    if (caps)
      gst_caps_unref (caps);
  }
  drtc_sdp_find_payload (msg, "VP8");
  drtc_sdp_strip_candidates (msg);
  gst_sdp_message_free (msg);
  return 0;
}
