/* daydream-rtc: helpers shared by the GstCheck suites in tests/gst */
#pragma once

#include <gst/check/gstcheck.h>

/* The one scale of every test wait, DRTC_TEST_TIME_SCALE (at least 1): set
 * where tests run slower, by `meson test --setup valgrind` and by
 * `scripts/test --sanitize` (tests/interop/timescale.py reads the same). */
static inline gdouble
drtc_test_time_scale (void)
{
  const gchar *text = g_getenv ("DRTC_TEST_TIME_SCALE");
  gdouble factor = text ? g_ascii_strtod (text, NULL) : 1.0;

  return MAX (factor, 1.0);
}

/* @seconds of waiting, or of an element timeout a test sets, scaled and
 * rounded up */
static inline guint
drtc_test_scaled_s (guint seconds)
{
  gdouble want = seconds * drtc_test_time_scale ();
  guint whole = (guint) want;

  return whole < want ? whole + 1 : whole;
}

/* Sets @element to READY, which must fail, and returns the message of the
 * error it posted (free it). */
static inline gchar *
ready_error (GstElement * element)
{
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  gchar *text;

  gst_element_set_bus (element, bus);
  fail_unless_equals_int (gst_element_set_state (element, GST_STATE_READY),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  text = g_strdup (err->message);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (element, GST_STATE_NULL);
  gst_element_set_bus (element, NULL);
  gst_object_unref (bus);
  return text;
}
