/* daydream-rtc: tests of common/drtc-negotiate.c on a real webrtcbin
 * (candidates on 127.0.0.1 only; no peer, no connection) */
#include "drtc-negotiate.h"

#include <string.h>

typedef struct
{
  GMainLoop *loop;
  guint calls;
  gchar *sdp;
  gboolean complete;
  GError *error;
  gboolean freed;
  gboolean edited;
} Result;

static void
on_local_sdp (GstElement * webrtc, const gchar * sdp, gboolean complete,
    const GError * error, gpointer data)
{
  Result *r = data;

  r->calls++;
  r->sdp = g_strdup (sdp);
  r->complete = complete;
  r->error = error ? g_error_copy (error) : NULL;
}

static void
on_freed (gpointer data)
{
  Result *r = data;

  r->freed = TRUE;
  g_main_loop_quit (r->loop);
}

static void
on_edit (GstWebRTCSessionDescription * desc, gpointer data)
{
  Result *r = data;

  r->edited = TRUE;
  gst_sdp_message_add_attribute (desc->sdp, "x-drtc-test", "1");
}

static GstElement *
make_webrtc (GstElement ** pipeline)
{
  const gchar *const local[] = { "127.0.0.1", NULL };
  DrtcWebrtcConfig cfg = { 0 };
  GstElement *webrtc;
  GstCaps *caps = gst_caps_from_string ("application/x-rtp,media=video,"
      "encoding-name=H264,payload=96,clock-rate=90000");
  GstWebRTCRTPTransceiver *t = NULL;

  cfg.local_addresses = local;
  webrtc = drtc_webrtc_new (NULL, &cfg);
  g_assert_nonnull (webrtc);
  *pipeline = gst_pipeline_new (NULL);
  gst_bin_add (GST_BIN (*pipeline), webrtc);
  g_signal_emit_by_name (webrtc, "add-transceiver",
      GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &t);
  g_assert_nonnull (t);
  gst_object_unref (t);
  gst_caps_unref (caps);
  g_assert_cmpint (gst_element_set_state (*pipeline, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  return webrtc;
}

static void
run (GstElement * webrtc, GstWebRTCSDPType type, gboolean no_gathering,
    Result * r)
{
  GMainContext *ctx = g_main_context_new ();
  DrtcNegotiateOptions opts = { 0 };

  opts.type = type;
  opts.context = ctx;
  opts.gather_timeout_ms = 10000;
  opts.no_gathering = no_gathering;
  opts.edit = on_edit;
  r->loop = g_main_loop_new (ctx, FALSE);
  g_main_context_push_thread_default (ctx);
  drtc_negotiate_local (webrtc, &opts, on_local_sdp, r, on_freed);
  if (!r->freed)
    g_main_loop_run (r->loop);
  g_main_context_pop_thread_default (ctx);
  g_main_loop_unref (r->loop);
  g_main_context_unref (ctx);
}

static void
result_clear (Result * r)
{
  g_free (r->sdp);
  g_clear_error (&r->error);
}

/* offer -> set locally -> gathered: the text has the media and candidates */
static void
test_offer_after_gathering (void)
{
  GstElement *pipeline;
  GstElement *webrtc = make_webrtc (&pipeline);
  Result r = { 0 };

  run (webrtc, GST_WEBRTC_SDP_TYPE_OFFER, FALSE, &r);
  g_assert_cmpuint (r.calls, ==, 1);
  g_assert_true (r.freed);
  g_assert_no_error (r.error);
  g_assert_true (r.complete);
  g_assert_true (r.edited);
  g_assert_nonnull (strstr (r.sdp, "m=video"));
  g_assert_nonnull (strstr (r.sdp, "a=candidate"));
  g_assert_nonnull (strstr (r.sdp, "a=x-drtc-test:1"));
  result_clear (&r);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

/* no gathering asked for: the offer comes as soon as it is set */
static void
test_offer_at_once (void)
{
  GstElement *pipeline;
  GstElement *webrtc = make_webrtc (&pipeline);
  Result r = { 0 };

  run (webrtc, GST_WEBRTC_SDP_TYPE_OFFER, TRUE, &r);
  g_assert_cmpuint (r.calls, ==, 1);
  g_assert_no_error (r.error);
  g_assert_false (r.complete);
  g_assert_nonnull (strstr (r.sdp, "m=video"));
  result_clear (&r);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

/* an answer with no remote offer: webrtcbin's error, once */
static void
test_answer_without_offer (void)
{
  GstElement *pipeline;
  GstElement *webrtc = make_webrtc (&pipeline);
  Result r = { 0 };

  run (webrtc, GST_WEBRTC_SDP_TYPE_ANSWER, FALSE, &r);
  g_assert_cmpuint (r.calls, ==, 1);
  g_assert_error (r.error, DRTC_NEGOTIATE_ERROR, DRTC_NEGOTIATE_ERROR_CREATE);
  g_assert_null (r.sdp);
  g_assert_false (r.edited);
  result_clear (&r);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/negotiate/offer-after-gathering",
      test_offer_after_gathering);
  g_test_add_func ("/negotiate/offer-at-once", test_offer_at_once);
  g_test_add_func ("/negotiate/answer-without-offer",
      test_answer_without_offer);
  return g_test_run ();
}
