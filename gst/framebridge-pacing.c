/* daydream-rtc: framebridgesrc: pacing: when a buffer leaves, and which (streaming thread)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The output runs on a grid at the frame rate (backpressure, leaky) or
 * sends new frames as they come, no faster than the rate allows (latest);
 * at each deadline it sends a live frame, a repeat of the last one, or the
 * fallback.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "framebridge-private.h"

/* In latest mode, the smallest gap between two buffers. */
#define MIN_SPACING GST_MSECOND

#define GST_CAT_DEFAULT gst_daydream_frame_bridge_src_debug

static GstClock *
get_clock (GstDaydreamFrameBridgeSrc * self, GstClockTime * base_time)
{
  GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));

  if (clock) {
    *base_time = gst_element_get_base_time (GST_ELEMENT (self));
    return clock;
  }
  /* not in a pipeline: pace by the system clock all the same */
  *base_time = 0;
  return gst_system_clock_obtain ();
}

static GstClockTime
running_time_now (GstDaydreamFrameBridgeSrc * self)
{
  GstClockTime base_time, now;
  GstClock *clock = get_clock (self, &base_time);

  now = gst_clock_get_time (clock);
  gst_object_unref (clock);
  return now > base_time ? now - base_time : 0;
}

/* Releases the lock while waiting; push and unlock() can cut the wait. */
static GstClockReturn
wait_until_locked (GstDaydreamFrameBridgeSrc * self, GstClockTime running_time)
{
  GstClockTime base_time;
  GstClock *clock = get_clock (self, &base_time);
  GstClockID id = gst_clock_new_single_shot_id (clock,
      base_time + running_time);
  GstClockReturn ret;

  self->clock_id = id;
  g_mutex_unlock (&self->lock);
  ret = gst_clock_id_wait (id, NULL);
  g_mutex_lock (&self->lock);
  self->clock_id = NULL;
  gst_clock_id_unref (id);
  gst_object_unref (clock);
  return ret;
}

/* Running time of grid tick @n, exact (no accumulated rounding). */
static GstClockTime
fb_tick_time (GstDaydreamFrameBridgeSrc * self, guint64 n)
{
  return self->anchor + gst_util_uint64_scale (n, self->fps_d * GST_SECOND,
      self->fps_n);
}

static GstClockTime
fb_next_deadline_locked (GstDaydreamFrameBridgeSrc * self, GstClockTime now)
{
  GstClockTime deadline;

  if (!GST_CLOCK_TIME_IS_VALID (self->last_out_rt))
    return now;                 /* the first buffer leaves at once */
  if (self->mode != GST_DAYDREAM_FRAME_BRIDGE_QUEUE_LATEST)
    return fb_tick_time (self, self->ticks);
  /* nothing new: repeat one interval on; right after a new frame a quarter
   * interval more, so that a producer at the frame rate, a little late,
   * does not lose the race to a repeat (which costs an encode and delays
   * its frame behind it) */
  if (g_queue_is_empty (&self->queue))
    return self->last_out_rt + self->duration +
        (self->last_out_rt == self->last_live_rt ? self->duration / 4 : 0);
  /* up to one interval ahead of the frame rate is fine, but never two new
   * frames within half an interval: see the allowance in _create() */
  deadline = now;
  if (GST_CLOCK_TIME_IS_VALID (self->live_due))
    deadline = MAX (self->live_due - MIN (self->live_due, self->duration),
        self->last_live_rt + self->duration / 2);
  return MAX (deadline, self->last_out_rt + MIN_SPACING);
}

/* Waits for the next deadline and decides what to send. Lock held. */
/* Drops up to @count of the oldest queued frames, keeping the newest. */
static void
drop_behind_locked (GstDaydreamFrameBridgeSrc * self, guint64 count)
{
  while (count-- > 0 && g_queue_get_length (&self->queue) > 1) {
    framebridge_frame_free (g_queue_pop_head (&self->queue));
    self->stats.dropped++;
  }
  g_cond_broadcast (&self->room);
}

GstFlowReturn
fb_pick_locked (GstDaydreamFrameBridgeSrc * self, Pick * pick,
    FrameBridgeFrame ** live, GstClockTime * pts, guint64 * offset)
{
  gboolean fallback_tried = FALSE;

  for (;;) {
    GstClockTime now, deadline;

    if (self->flushing)
      return GST_FLOW_FLUSHING;
    now = running_time_now (self);
    deadline = fb_next_deadline_locked (self, now);
    /* fallback frames are made ahead of their deadline, once per buffer */
    if (g_queue_is_empty (&self->queue) && !self->last
        && !self->fallback_fresh && !fallback_tried) {
      gboolean ok;

      g_mutex_unlock (&self->lock);
      ok = fb_prepare_fallback (self);
      g_mutex_lock (&self->lock);
      if (!ok)
        return GST_FLOW_ERROR;
      /* with nothing at all yet, keep waiting for it; else look again at
       * the queue and the clock, both may have moved meanwhile */
      fallback_tried = self->fallback_buf != NULL;
      continue;
    }
    if (deadline > now) {
      if (wait_until_locked (self, deadline) == GST_CLOCK_UNSCHEDULED)
        continue;               /* a push or unlock() cut the wait */
      now = running_time_now (self);
    }
    if (self->flushing)
      return GST_FLOW_FLUSHING;

    if (self->mode == GST_DAYDREAM_FRAME_BRIDGE_QUEUE_LATEST
        || !GST_CLOCK_TIME_IS_VALID (self->last_out_rt)) {
      *pts = MAX (deadline, now);
      if (!GST_CLOCK_TIME_IS_VALID (self->last_out_rt)) {
        self->anchor = *pts;
        self->ticks = 0;
      }
    } else {
      /* behind by more than a frame (downstream stalled): skip the ticks
       * that are gone rather than bursting to catch up */
      if (now > deadline + self->duration) {
        guint64 behind = (now - deadline) / self->duration;

        self->ticks += behind;
        self->stats.late += behind;
        deadline = fb_tick_time (self, self->ticks);
        /* leaky is a live stream: the frames of the ticks that are gone go
         * with them (the newest stays), else the stall would stay as a
         * standing delay; backpressure keeps every frame */
        if (self->mode == GST_DAYDREAM_FRAME_BRIDGE_QUEUE_LEAKY)
          drop_behind_locked (self, behind);
      }
      *pts = deadline;
    }
    self->ticks++;

    /* counted here, under the lock, so that pushed = live + dropped +
     * queue-depth holds in every stats snapshot */
    *offset = self->stats.output++;
    if (!g_queue_is_empty (&self->queue)) {
      *live = g_queue_pop_head (&self->queue);
      *pick = PICK_LIVE;
      self->stats.live++;
      g_cond_broadcast (&self->room);
    } else if (self->last) {
      *pick = PICK_REPEAT;
      self->stats.repeated++;
    } else {
      *pick = PICK_FALLBACK;
      self->stats.fallback++;
    }
    return GST_FLOW_OK;
  }
}
