/* daydream-rtc: tests of common/drtc-teardown.c */
#include "drtc-teardown.h"

/* An element in a playing bin: stopped to NULL, out of the bin, freed. */
static void
test_element_leaves_bin (void)
{
  GstElement *bin = gst_pipeline_new (NULL);
  GstElement *src = gst_element_factory_make ("fakesrc", NULL);
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);

  g_object_set (src, "is-live", TRUE, NULL);
  gst_bin_add_many (GST_BIN (bin), src, sink, NULL);
  g_assert_true (gst_element_link (src, sink));
  g_assert_cmpint (gst_element_set_state (bin, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  gst_object_ref (src);         /* ours, to look at it afterwards */
  drtc_teardown_element (gst_object_ref (src), "test-teardown");
  g_assert_true (drtc_teardown_wait (10 * G_USEC_PER_SEC));
  g_assert_cmpuint (GST_BIN_NUMCHILDREN (bin), ==, 1);
  g_assert_null (GST_OBJECT_PARENT (src));
  g_assert_cmpint (GST_STATE (src), ==, GST_STATE_NULL);
  /* the bin's state changes leave it alone */
  g_assert_true (gst_element_is_locked_state (src));
  g_assert_cmpuint (GST_OBJECT_REFCOUNT_VALUE (src), >=, 1);
  gst_object_unref (src);
  gst_element_set_state (bin, GST_STATE_NULL);
  gst_object_unref (bin);
}

static gpointer
slow_stop (gpointer data)
{
  gint *done = data;

  g_usleep (G_USEC_PER_SEC / 10);
  g_atomic_int_set (done, 1);
  return NULL;
}

/* drtc_teardown_wait returns only once the teardown threads are done. */
static void
test_wait_counts (void)
{
  gint done[3] = { 0 };

  for (guint i = 0; i < G_N_ELEMENTS (done); i++)
    drtc_teardown_run ("test-slow", slow_stop, &done[i]);
  g_assert_true (drtc_teardown_wait (30 * G_USEC_PER_SEC));
  for (guint i = 0; i < G_N_ELEMENTS (done); i++)
    g_assert_cmpint (g_atomic_int_get (&done[i]), ==, 1);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/teardown/element-leaves-bin", test_element_leaves_bin);
  g_test_add_func ("/teardown/wait-counts", test_wait_counts);
  return g_test_run ();
}
