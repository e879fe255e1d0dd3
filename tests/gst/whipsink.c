/* daydream-rtc: tests of whipsink that need no peer (gst/gstwhipsink.c)
 *
 * The element against real WHIP endpoints is tested in
 * tests/interop/test_whipsink.py (inside the private network namespace).
 */
#include <gst/check/gstcheck.h>

#include "check-util.h"

static GstElement *
make_sink (void)
{
  GstElement *sink = gst_element_factory_make ("whipsink", NULL);

  fail_unless (sink != NULL, "whipsink not found");
  return gst_object_ref_sink (sink);
}

GST_START_TEST (test_endpoint_is_checked_at_ready)
{
  GstElement *sink = make_sink ();
  gchar *msg;

  msg = ready_error (sink);
  fail_unless (strstr (msg, "whip-endpoint") != NULL, "%s", msg);
  g_free (msg);
  g_object_set (sink, "whip-endpoint", "ftp://example.invalid/whip", NULL);
  msg = ready_error (sink);
  fail_unless (strstr (msg, "http") != NULL, "%s", msg);
  g_free (msg);
  g_object_set (sink, "whip-endpoint", "not a url", NULL);
  g_free (ready_error (sink));
  gst_object_unref (sink);
}

GST_END_TEST;

GST_START_TEST (test_defaults_and_secret_token)
{
  GstElement *sink = make_sink ();
  GParamSpec *pspec;
  guint timeout, bitrate, max_reconnects, peer_timeout;
  gboolean reconnect, links;
  GstStructure *stats = NULL;

  g_object_get (sink, "timeout", &timeout, "bitrate", &bitrate,
      "max-reconnects", &max_reconnects, "peer-timeout", &peer_timeout,
      "reconnect", &reconnect, "use-link-headers", &links, "stats", &stats,
      NULL);
  fail_unless_equals_int (timeout, 15);
  fail_unless_equals_int (bitrate, 1500);
  fail_unless_equals_int (max_reconnects, 10);
  fail_unless_equals_int (peer_timeout, 10);
  fail_unless (reconnect);
  fail_unless (!links);
  fail_unless_equals_string (gst_structure_get_string (stats, "state"), "idle");
  gst_structure_free (stats);
  /* the token can be set, never read back */
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (sink),
      "auth-token");
  fail_unless (pspec != NULL);
  fail_unless ((pspec->flags & G_PARAM_WRITABLE) != 0);
  fail_unless ((pspec->flags & G_PARAM_READABLE) == 0);
  g_object_set (sink, "auth-token", "secret", NULL);
  gst_object_unref (sink);
}

GST_END_TEST;

GST_START_TEST (test_settings_locked_while_running)
{
  GstElement *sink = make_sink ();
  gchar *endpoint = NULL;
  guint bitrate = 0;

  g_object_set (sink, "whip-endpoint", "http://127.0.0.1:9/whip", NULL);
  fail_if (gst_element_set_state (sink, GST_STATE_PAUSED) ==
      GST_STATE_CHANGE_FAILURE);
  g_object_set (sink, "bitrate", 99, NULL);
  g_object_get (sink, "bitrate", &bitrate, NULL);
  fail_unless_equals_int (bitrate, 1500);
  /* the endpoint may move while running (daydreamcontrol restarts) */
  g_object_set (sink, "whip-endpoint", "http://127.0.0.1:9/other", NULL);
  g_object_get (sink, "whip-endpoint", &endpoint, NULL);
  fail_unless_equals_string (endpoint, "http://127.0.0.1:9/other");
  g_free (endpoint);
  /* stopping without ever connecting is quick and clean */
  fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (sink);
}

GST_END_TEST;

static Suite *
whipsink_suite (void)
{
  Suite *s = suite_create ("whipsink");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_endpoint_is_checked_at_ready);
  tcase_add_test (tc, test_defaults_and_secret_token);
  tcase_add_test (tc, test_settings_locked_while_running);
  return s;
}

GST_CHECK_MAIN (whipsink);
