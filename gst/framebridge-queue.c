/* daydream-rtc: framebridgesrc: the frame queue, push side (any thread)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * push-frame and push-sample wrap the pixels in a FrameBridgeFrame and
 * queue it: in backpressure mode a full queue makes the push wait (up to
 * its timeout), in leaky and latest modes the oldest frame goes.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "framebridge-private.h"

#define GST_CAT_DEFAULT gst_daydream_frame_bridge_src_debug

guint
fb_capacity_locked (GstDaydreamFrameBridgeSrc * self)
{
  return self->mode == GST_DAYDREAM_FRAME_BRIDGE_QUEUE_LATEST ? 1 :
      self->max_frames;
}

static void
drop_oldest_locked (GstDaydreamFrameBridgeSrc * self)
{
  framebridge_frame_free (g_queue_pop_head (&self->queue));
  if (self->consuming)
    self->stats.dropped++;
  else
    self->stats.dropped_before_start++;
}

/* Waits for room in backpressure mode. Returns OK when there is room. */
static GstDaydreamFrameBridgeResult
wait_for_room_locked (GstDaydreamFrameBridgeSrc * self, gint64 timeout_us)
{
  gint64 end = timeout_us > 0 ? g_get_monotonic_time () + timeout_us : 0;
  guint generation = self->generation;
  gboolean timed_out = FALSE;

  while (g_queue_get_length (&self->queue) >= fb_capacity_locked (self)) {
    if (!self->consuming
        || self->mode != GST_DAYDREAM_FRAME_BRIDGE_QUEUE_BACKPRESSURE) {
      drop_oldest_locked (self);
      continue;
    }
    if (timeout_us == 0)
      return GST_DAYDREAM_FRAME_BRIDGE_FULL;
    self->waiting++;
    if (timeout_us < 0)
      g_cond_wait (&self->room, &self->lock);
    else
      timed_out = !g_cond_wait_until (&self->room, &self->lock, end);
    self->waiting--;
    if (self->generation != generation)
      return GST_DAYDREAM_FRAME_BRIDGE_FLUSHING;
    if (timed_out
        && g_queue_get_length (&self->queue) >= fb_capacity_locked (self))
      return GST_DAYDREAM_FRAME_BRIDGE_FULL;
  }
  return GST_DAYDREAM_FRAME_BRIDGE_OK;
}

static GstDaydreamFrameBridgeResult
push_frame (GstDaydreamFrameBridgeSrc * self, GstBuffer * buffer,
    GstCaps * caps, gint64 timeout_us, GError ** error)
{
  GError *err = NULL;
  FrameBridgeFrame *frame = framebridge_frame_new (buffer, caps, &err);
  GstDaydreamFrameBridgeResult res;

  if (!frame) {
    GST_WARNING_OBJECT (self, "frame rejected: %s", err->message);
    g_mutex_lock (&self->lock);
    self->stats.rejected++;
    g_mutex_unlock (&self->lock);
    g_propagate_error (error, err);
    return GST_DAYDREAM_FRAME_BRIDGE_INVALID;
  }

  g_mutex_lock (&self->lock);
  res = wait_for_room_locked (self, timeout_us);
  if (res == GST_DAYDREAM_FRAME_BRIDGE_OK) {
    g_queue_push_tail (&self->queue, frame);
    self->stats.pushed++;
    /* latest mode sends new frames at once: cut the wait for the next tick */
    if (self->clock_id && self->mode == GST_DAYDREAM_FRAME_BRIDGE_QUEUE_LATEST)
      gst_clock_id_unschedule (self->clock_id);
  } else if (res == GST_DAYDREAM_FRAME_BRIDGE_FULL) {
    self->stats.refused++;
  }
  g_mutex_unlock (&self->lock);

  if (res == GST_DAYDREAM_FRAME_BRIDGE_OK)
    return res;
  framebridge_frame_free (frame);
  if (res == GST_DAYDREAM_FRAME_BRIDGE_FULL)
    g_set_error (error, GST_DAYDREAM_FRAME_BRIDGE_ERROR, res,
        "frame queue is full (%u frames); push again later", self->max_frames);
  else
    g_set_error (error, GST_DAYDREAM_FRAME_BRIDGE_ERROR, res,
        "framebridgesrc stopped before the frame could be queued");
  return res;
}

GstDaydreamFrameBridgeResult
fb_on_push_sample (GstDaydreamFrameBridgeSrc * self, GstSample * sample,
    gint64 timeout_us, gpointer error)
{
  if (!sample) {
    g_set_error ((GError **) error, GST_DAYDREAM_FRAME_BRIDGE_ERROR,
        GST_DAYDREAM_FRAME_BRIDGE_INVALID, "no sample");
    return GST_DAYDREAM_FRAME_BRIDGE_INVALID;
  }
  return push_frame (self, gst_sample_get_buffer (sample),
      gst_sample_get_caps (sample), timeout_us, (GError **) error);
}

GstDaydreamFrameBridgeResult
fb_on_push_frame (GstDaydreamFrameBridgeSrc * self, const gchar * format,
    guint width, guint height, GBytes * data, gint64 timeout_us)
{
  /* an empty GBytes has no data to wrap: an empty buffer, rejected below */
  g_autoptr (GstBuffer) buffer = !data ? NULL : g_bytes_get_size (data) ?
      gst_buffer_new_wrapped_bytes (data) : gst_buffer_new ();
  g_autoptr (GstCaps) caps = gst_caps_new_simple ("video/x-raw",
      "format", G_TYPE_STRING, format ? format : "(none)",
      "width", G_TYPE_INT, (gint) MIN (width, G_MAXINT),
      "height", G_TYPE_INT, (gint) MIN (height, G_MAXINT), NULL);

  return push_frame (self, buffer, caps, timeout_us, NULL);
}
