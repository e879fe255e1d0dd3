/* daydream-rtc: a program built against the installed daydreamrtc.pc only
 * (tests/install/test_install.py): pushes one frame into framebridgesrc
 * with the public header and runs the pipeline to its end. */
#include <daydreamrtc/framebridge.h>

int
main (int argc, char **argv)
{
  GError *err = NULL;
  GstElement *pipeline, *src;
  GstBus *bus;
  GstMessage *msg;
  GBytes *frame;
  guint64 pushed = 0;
  GstStructure *stats;
  int res;

  gst_init (&argc, &argv);
  pipeline = gst_parse_launch ("framebridgesrc name=src num-buffers=30 "
      "! fakesink", &err);
  if (!pipeline) {
    g_printerr ("push-frame: %s\n", err->message);
    return 2;
  }
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  frame = g_bytes_new_take (g_malloc0 (64 * 64 * 3), 64 * 64 * 3);
  res = gst_daydream_frame_bridge_push_bytes (src, GST_VIDEO_FORMAT_RGB, 64, 64,
      frame, -1, &err);
  g_bytes_unref (frame);
  if (res != GST_DAYDREAM_FRAME_BRIDGE_OK) {
    g_printerr ("push-frame: push failed: %s\n", err ? err->message : "?");
    return 1;
  }
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_object_get (src, "stats", &stats, NULL);
  gst_structure_get_uint64 (stats, "pushed", &pushed);
  res = msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS && pushed == 1;
  g_print ("push-frame: pushed %" G_GUINT64_FORMAT ", %s\n", pushed,
      !msg ? "no EOS" : GST_MESSAGE_TYPE_NAME (msg));
  gst_structure_free (stats);
  if (msg)
    gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (pipeline);
  return res ? 0 : 1;
}
