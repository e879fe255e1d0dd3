/* daydream-rtc: tests of common/drtc-sdp.c */
#include "drtc-sdp.h"

#include <string.h>

/* an offer as aiortc and browsers make it: VP8 first, two H.264, RTX */
static const gchar *offer_text =
    "v=0\r\n"
    "o=- 1 1 IN IP4 0.0.0.0\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=mid:0\r\n"
    "a=sendonly\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n"
    "a=rtpmap:98 H264/90000\r\n"
    "a=fmtp:98 level-asymmetry-allowed=1;packetization-mode=0;"
    "profile-level-id=42001f\r\n"
    "a=rtpmap:99 H264/90000\r\n"
    "a=rtcp-fb:99 nack pli\r\n"
    "a=fmtp:99 level-asymmetry-allowed=1;packetization-mode=1;"
    "profile-level-id=42e01f\r\n"
    "a=rtpmap:100 rtx/90000\r\n" "a=fmtp:100 apt=99\r\n";

static void
test_keep_h264_picks_mode_1_baseline (void)
{
  g_autoptr (GError) err = NULL;
  GstSDPMessage *msg = drtc_sdp_parse (offer_text, &err);
  const GstSDPMedia *media;
  g_autofree gchar *text = NULL;
  gint pt = -1;

  g_assert_no_error (err);
  g_assert_true (drtc_sdp_keep_codec (msg, "H264", &pt, &err));
  g_assert_cmpint (pt, ==, 99);
  media = gst_sdp_message_get_media (msg, 0);
  g_assert_cmpuint (gst_sdp_media_formats_len (media), ==, 1);
  text = gst_sdp_message_as_text (msg);
  g_assert_null (strstr (text, "VP8"));
  g_assert_null (strstr (text, "rtx"));
  g_assert_null (strstr (text, ":98 "));
  g_assert_nonnull (strstr (text, "a=rtcp-fb:99 nack pli"));
  g_assert_nonnull (strstr (text, "a=mid:0"));
  g_assert_cmpint (drtc_sdp_find_payload (msg, "H264"), ==, 99);
  gst_sdp_message_free (msg);
}

static void
test_keep_h264_refuses_vp8_only (void)
{
  g_autofree gchar *vp8 = g_strndup (offer_text,
      strstr (offer_text, "a=rtpmap:98") - offer_text);
  g_autoptr (GError) err = NULL;
  GstSDPMessage *msg = drtc_sdp_parse (vp8, &err);

  g_assert_no_error (err);
  g_assert_false (drtc_sdp_keep_codec (msg, "H264", NULL, &err));
  g_assert_error (err, DRTC_SDP_ERROR, DRTC_SDP_ERROR_CODEC);
  g_assert_nonnull (strstr (err->message, "H264"));
  gst_sdp_message_free (msg);
}

static void
test_parse_rejects_garbage (void)
{
  const gchar *bad[] = { NULL, "", "hello", "v=0\r\n" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) err = NULL;

    g_assert_null (drtc_sdp_parse (bad[i], &err));
    g_assert_error (err, DRTC_SDP_ERROR, DRTC_SDP_ERROR_PARSE);
  }
}

static void
test_payload_caps (void)
{
  GstSDPMessage *msg = drtc_sdp_parse (offer_text, NULL);
  g_autoptr (GstCaps) caps = drtc_sdp_payload_caps (msg, 99);
  GstStructure *s = gst_caps_get_structure (caps, 0);
  gint pt = 0;

  g_assert_true (gst_structure_has_name (s, "application/x-rtp"));
  g_assert_true (gst_structure_get_int (s, "payload", &pt));
  g_assert_cmpint (pt, ==, 99);
  g_assert_cmpstr (gst_structure_get_string (s, "encoding-name"), ==, "H264");
  gst_sdp_message_free (msg);
}

static void
test_frag_candidates (void)
{
  const gchar *frag =
      "a=ice-ufrag:abcd\r\n"
      "a=ice-pwd:0123456789012345678901\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 99\r\n"
      "a=mid:0\r\n"
      "a=candidate:1 1 UDP 2130706431 10.77.0.1 5000 typ host\r\n"
      "a=candidate:2 1 UDP 2130706430 10.77.0.2 5002 typ host\r\n"
      "a=end-of-candidates\r\n";
  g_autoptr (GError) err = NULL;
  g_autoptr (GPtrArray) c = drtc_sdp_frag_candidates (frag, &err);
  DrtcSdpCandidate *first;

  g_assert_no_error (err);
  g_assert_cmpuint (c->len, ==, 2);
  first = g_ptr_array_index (c, 0);
  g_assert_cmpuint (first->mline, ==, 0);
  g_assert_cmpstr (first->candidate, ==,
      "candidate:1 1 UDP 2130706431 10.77.0.1 5000 typ host");
  g_assert_null (drtc_sdp_frag_candidates ("garbage line\r\n", &err));
  g_assert_error (err, DRTC_SDP_ERROR, DRTC_SDP_ERROR_PARSE);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sdp/keep-codec/h264-mode-1",
      test_keep_h264_picks_mode_1_baseline);
  g_test_add_func ("/sdp/keep-codec/vp8-only", test_keep_h264_refuses_vp8_only);
  g_test_add_func ("/sdp/parse/garbage", test_parse_rejects_garbage);
  g_test_add_func ("/sdp/payload-caps", test_payload_caps);
  g_test_add_func ("/sdp/frag/candidates", test_frag_candidates);
  return g_test_run ();
}
