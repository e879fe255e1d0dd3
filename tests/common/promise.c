/* daydream-rtc: webrtcbin promise replies (common/drtc-webrtc.c) */
#include "drtc-webrtc.h"

#include <string.h>

static GstWebRTCSessionDescription *
offer_description (void)
{
  GstSDPMessage *sdp;

  g_assert_cmpint (gst_sdp_message_new_from_text ("v=0\r\no=- 1 1 IN IP4 "
          "127.0.0.1\r\ns=-\r\nt=0 0\r\n", &sdp), ==, GST_SDP_OK);
  return gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, sdp);
}

static void
test_description_in_the_reply (void)
{
  GstPromise *promise = gst_promise_new ();
  GstWebRTCSessionDescription *sent = offer_description ();
  GstWebRTCSessionDescription *got;
  const GstStructure *reply = NULL;
  GError *err = NULL;

  gst_promise_reply (promise, gst_structure_new ("application/x-gst-promise",
          "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, sent, NULL));
  g_assert_true (drtc_promise_reply (promise, &reply, &err));
  g_assert_no_error (err);
  g_assert_nonnull (reply);
  got = drtc_promise_description (promise, "offer", &err);
  g_assert_no_error (err);
  g_assert_nonnull (got);
  g_assert_cmpint (got->type, ==, GST_WEBRTC_SDP_TYPE_OFFER);
  gst_webrtc_session_description_free (got);
  /* asked for the other kind: an error naming it */
  g_assert_null (drtc_promise_description (promise, "answer", &err));
  g_assert_error (err, GST_CORE_ERROR, GST_CORE_ERROR_FAILED);
  g_assert_nonnull (strstr (err->message, "answer"));
  g_clear_error (&err);
  gst_webrtc_session_description_free (sent);
  gst_promise_unref (promise);
}

static void
test_error_field_and_interruption (void)
{
  GstPromise *promise = gst_promise_new ();
  GError *cause = g_error_new_literal (GST_WEBRTC_ERROR,
      GST_WEBRTC_ERROR_INVALID_STATE, "wrong state");
  GError *err = NULL;

  gst_promise_reply (promise, gst_structure_new ("application/x-gst-promise",
          "error", G_TYPE_ERROR, cause, NULL));
  g_assert_false (drtc_promise_reply (promise, NULL, &err));
  g_assert_error (err, GST_WEBRTC_ERROR, GST_WEBRTC_ERROR_INVALID_STATE);
  g_assert_cmpstr (err->message, ==, "wrong state");
  g_clear_error (&err);
  g_assert_null (drtc_promise_description (promise, "offer", &err));
  g_assert_error (err, GST_WEBRTC_ERROR, GST_WEBRTC_ERROR_INVALID_STATE);
  g_clear_error (&err);
  g_error_free (cause);
  gst_promise_unref (promise);

  promise = gst_promise_new ();
  gst_promise_interrupt (promise);
  g_assert_false (drtc_promise_reply (promise, NULL, &err));
  g_assert_cmpstr (err->message, ==, "webrtcbin did not answer");
  g_clear_error (&err);
  gst_promise_unref (promise);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/promise/description", test_description_in_the_reply);
  g_test_add_func ("/promise/error-and-interrupt",
      test_error_field_and_interruption);
  return g_test_run ();
}
