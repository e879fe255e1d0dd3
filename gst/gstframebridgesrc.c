/* daydream-rtc: framebridgesrc, a paced live source fed by application pushes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-framebridgesrc
 * @title: framebridgesrc
 *
 * A live video source that an application feeds frame by frame: the bridge
 * between a frame producer (ComfyUI, a render loop, a REST API) and a
 * GStreamer pipeline. Frames are pushed with the "push-frame" or
 * "push-sample" action signals, or from C with the inline functions of
 * <daydreamrtc/framebridge.h>; any thread may push.
 *
 * Output is paced by the pipeline clock at #GstDaydreamFrameBridgeSrc:framerate.
 * When no new frame has arrived, the last one is sent again, so a stream
 * stays alive while the producer is busy. Before the first frame, the
 * fallback is sent: a test pattern by default, or the images of a folder, or
 * a looping video file. Buffers carry the running time at which they left
 * the element, and the element reports a minimum latency of 0: nothing is
 * held back, so webrtcbin and encoders add no delay for it.
 *
 * Pushed frames wait in a bounded queue (#GstDaydreamFrameBridgeSrc:max-frames,
 * default 90). #GstDaydreamFrameBridgeSrc:queue-mode says what happens when
 * it is full:
 *
 * - `backpressure` (default): nothing accepted is ever dropped; a push waits
 *   for room up to its timeout, else it is refused ("full") and the caller
 *   retries. Frames leave on a fixed grid, one per frame interval, so a batch
 *   pushed faster than real time plays at its real speed.
 * - `leaky`: the oldest frame is dropped and counted; fixed grid.
 * - `latest`: only the newest frame is kept, and it leaves as soon as it
 *   arrives (on average at most one new frame per frame interval, never two
 *   within half an interval): lowest latency.
 *
 * Until the element starts (READY to PAUSED), frames are held up to the bound
 * and the oldest are dropped (counted in `dropped-before-start`). Stopping the
 * element discards the queue.
 *
 * Frames may be RGB, BGR, RGBA, BGRA, RGBx, BGRx, I420 or NV12 of any size up
 * to 16384x16384, with default strides or tightly packed rows. A frame whose
 * byte size does not fit its format and size is rejected with a message. When
 * #GstDaydreamFrameBridgeSrc:width, #GstDaydreamFrameBridgeSrc:height or
 * #GstDaydreamFrameBridgeSrc:format are set, every frame is converted and
 * scaled to them (aspect ratio not kept). Otherwise the output caps follow the
 * frames: a change of size or format renegotiates, and if downstream refuses
 * the new caps the frame is converted to the negotiated ones instead.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 framebridgesrc num-buffers=90 ! videoconvert ! autovideosink
 * ]| Three seconds of the fallback test pattern (nothing pushes frames).
 * |[
 * gst-launch-1.0 framebridgesrc fallback=video fallback-location=clip.mp4 \
 *     width=512 height=512 num-buffers=300 ! videoconvert ! x264enc ! \
 *     mp4mux ! filesink location=out.mp4
 * ]| Ten seconds of a looping video as 512x512, as it would look before a
 * producer connects.
 *
 * From Python:
 * |[
 * src = pipeline.get_by_name ("src")
 * res = src.emit ("push-frame", "RGB", 512, 512, GLib.Bytes.new (pixels), 0)
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "framebridge-private.h"
#include "drtc-props.h"

GST_DEBUG_CATEGORY (gst_daydream_frame_bridge_src_debug);
#define GST_CAT_DEFAULT gst_daydream_frame_bridge_src_debug

#define DEFAULT_MAX_FRAMES 90
#define DEFAULT_QUEUE_MODE GST_DAYDREAM_FRAME_BRIDGE_QUEUE_BACKPRESSURE
#define DEFAULT_FPS_N 30
#define DEFAULT_FPS_D 1
#define DEFAULT_FALLBACK GST_DAYDREAM_FRAME_BRIDGE_FALLBACK_PATTERN
/* Output size before any frame told us one, when width/height are unset. */
#define IDLE_WIDTH 512
#define IDLE_HEIGHT 512

enum
{
  PROP_0,
  PROP_MAX_FRAMES,
  PROP_QUEUE_MODE,
  PROP_FRAMERATE,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_FORMAT,
  PROP_FALLBACK,
  PROP_FALLBACK_LOCATION,
  PROP_FALLBACK_PATTERN,
  PROP_STATS,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (FRAMEBRIDGE_FORMATS)
        ", pixel-aspect-ratio = (fraction) 1/1"));

#define gst_daydream_frame_bridge_src_parent_class parent_class
G_DEFINE_TYPE (GstDaydreamFrameBridgeSrc, gst_daydream_frame_bridge_src,
    GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (framebridgesrc, "framebridgesrc",
    GST_RANK_NONE, GST_TYPE_DAYDREAM_FRAME_BRIDGE_SRC,
    GST_DEBUG_CATEGORY_INIT (gst_daydream_frame_bridge_src_debug,
        "framebridgesrc", 0, "Frame bridge source"));

#define GST_TYPE_DAYDREAM_FRAME_BRIDGE_QUEUE_MODE (queue_mode_get_type ())
static GType
queue_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_DAYDREAM_FRAME_BRIDGE_QUEUE_BACKPRESSURE,
          "Keep every frame; a push into a full queue waits or is refused",
        "backpressure"},
    {GST_DAYDREAM_FRAME_BRIDGE_QUEUE_LEAKY,
        "Keep the newest max-frames frames, drop the oldest", "leaky"},
    {GST_DAYDREAM_FRAME_BRIDGE_QUEUE_LATEST,
        "Keep only the newest frame and send it at once", "latest"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstDaydreamFrameBridgeQueueMode",
        values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define GST_TYPE_DAYDREAM_FRAME_BRIDGE_FALLBACK (fallback_get_type ())
static GType
fallback_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_DAYDREAM_FRAME_BRIDGE_FALLBACK_PATTERN,
        "A test pattern (fallback-pattern)", "pattern"},
    {GST_DAYDREAM_FRAME_BRIDGE_FALLBACK_IMAGES,
          "The images of the folder fallback-location, in name order",
        "images"},
    {GST_DAYDREAM_FRAME_BRIDGE_FALLBACK_VIDEO,
        "The video file fallback-location, looping", "video"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstDaydreamFrameBridgeFallback", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* the supported subset of GstVideoFormat, with the same values */
#define GST_TYPE_DAYDREAM_FRAME_BRIDGE_FORMAT (format_get_type ())
static GType
format_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_VIDEO_FORMAT_UNKNOWN, "Follow the frames", "auto"},
    {GST_VIDEO_FORMAT_RGB, "RGB", "RGB"},
    {GST_VIDEO_FORMAT_BGR, "BGR", "BGR"},
    {GST_VIDEO_FORMAT_RGBA, "RGBA", "RGBA"},
    {GST_VIDEO_FORMAT_BGRA, "BGRA", "BGRA"},
    {GST_VIDEO_FORMAT_RGBx, "RGBx", "RGBx"},
    {GST_VIDEO_FORMAT_BGRx, "BGRx", "BGRx"},
    {GST_VIDEO_FORMAT_I420, "I420", "I420"},
    {GST_VIDEO_FORMAT_NV12, "NV12", "NV12"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstDaydreamFrameBridgeFormat", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define GST_TYPE_DAYDREAM_FRAME_BRIDGE_RESULT (result_get_type ())
static GType
result_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_DAYDREAM_FRAME_BRIDGE_OK, "Queued", "ok"},
    {GST_DAYDREAM_FRAME_BRIDGE_FULL, "Queue full, not queued", "full"},
    {GST_DAYDREAM_FRAME_BRIDGE_INVALID, "Invalid frame, rejected", "invalid"},
    {GST_DAYDREAM_FRAME_BRIDGE_FLUSHING, "Element stopped, not queued",
        "flushing"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstDaydreamFrameBridgeResult", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static GstFlowReturn
gst_daydream_frame_bridge_src_create (GstPushSrc * psrc, GstBuffer ** outbuf)
{
  GstDaydreamFrameBridgeSrc *self = GST_DAYDREAM_FRAME_BRIDGE_SRC (psrc);
  FrameBridgeFrame *live = NULL;
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  guint64 offset = 0;
  GstBuffer *buf = NULL;
  GstFlowReturn ret;
  Pick pick = PICK_FALLBACK;

  g_mutex_lock (&self->lock);
  ret = fb_pick_locked (self, &pick, &live, &pts, &offset);
  g_mutex_unlock (&self->lock);
  if (ret != GST_FLOW_OK)
    return ret;

  switch (pick) {
    case PICK_LIVE:
      framebridge_frame_free (self->last);
      self->last = live;
      gst_clear_buffer (&self->last_out);
      /* fall through */
    case PICK_REPEAT:
      /* the output caps may have changed since (reconfigure) */
      if (!self->last_out
          || !gst_video_info_is_equal (&self->last_out_info, &self->out_info)) {
        gst_clear_buffer (&self->last_out);
        self->last_out = fb_render_frame (self, self->last);
        self->last_out_info = self->out_info;
      }
      if (!self->last_out) {
        GST_ELEMENT_ERROR (self, STREAM, FORMAT,
            ("Could not convert a frame to the output format"), (NULL));
        return GST_FLOW_NOT_NEGOTIATED;
      }
      buf = gst_buffer_copy (self->last_out);
      break;
    case PICK_FALLBACK:
      buf = gst_buffer_copy (self->fallback_buf);
      break;
  }

  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DTS (buf) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (buf) = self->duration;
  if (self->discont) {
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    self->discont = FALSE;
  }

  GST_BUFFER_OFFSET (buf) = offset;
  GST_BUFFER_OFFSET_END (buf) = offset + 1;

  self->last_out_rt = pts;
  if (pick == PICK_LIVE) {
    /* The allowance is a GCRA shaper at the frame rate with one interval of
     * tolerance: the due time advances by one interval per new frame, from
     * the frame's own time only when that is later (the producer paused).
     * So a producer at the frame rate is never held back, whatever its
     * phase and however its frames jitter: a frame that came a little late
     * does not push the later ones back, and one that had to leave late
     * (a stall, or frames pushed before the start) does not leave a
     * standing delay behind. A faster producer gets one frame per interval
     * on average, never two within half an interval. */
    self->live_due = (GST_CLOCK_TIME_IS_VALID (self->live_due) ?
        MAX (self->live_due, pts) : pts) + self->duration;
    self->last_live_rt = pts;
    gst_clear_buffer (&self->fallback_buf);
  }
  self->fallback_fresh = FALSE;
  GST_LOG_OBJECT (self, "%s frame at %" GST_TIME_FORMAT,
      pick == PICK_LIVE ? "new" : pick == PICK_REPEAT ? "repeated" :
      "fallback", GST_TIME_ARGS (pts));
  *outbuf = buf;
  return GST_FLOW_OK;
}

/* ---- caps ---- */

static GstCaps *
gst_daydream_frame_bridge_src_get_caps (GstBaseSrc * bsrc, GstCaps * filter)
{
  GstDaydreamFrameBridgeSrc *self = GST_DAYDREAM_FRAME_BRIDGE_SRC (bsrc);
  GstCaps *caps = gst_pad_get_pad_template_caps (GST_BASE_SRC_PAD (bsrc));

  caps = gst_caps_make_writable (caps);
  g_mutex_lock (&self->lock);
  gst_caps_set_simple (caps, "framerate", GST_TYPE_FRACTION, self->fps_n,
      self->fps_d, NULL);
  if (self->width > 0)
    gst_caps_set_simple (caps, "width", G_TYPE_INT, self->width, NULL);
  if (self->height > 0)
    gst_caps_set_simple (caps, "height", G_TYPE_INT, self->height, NULL);
  if (self->format != GST_VIDEO_FORMAT_UNKNOWN)
    gst_caps_set_simple (caps, "format", G_TYPE_STRING,
        gst_video_format_to_string (self->format), NULL);
  g_mutex_unlock (&self->lock);

  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, caps,
        GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (caps);
    caps = tmp;
  }
  return caps;
}

/* Prefers what the first queued (or last) frame has, so that frames pushed
 * before start do not cause a renegotiation right away. */
static GstCaps *
gst_daydream_frame_bridge_src_fixate (GstBaseSrc * bsrc, GstCaps * caps)
{
  GstDaydreamFrameBridgeSrc *self = GST_DAYDREAM_FRAME_BRIDGE_SRC (bsrc);
  GstVideoFormat format = GST_VIDEO_FORMAT_I420;
  gint width = IDLE_WIDTH, height = IDLE_HEIGHT;
  FrameBridgeFrame *hint;
  GstStructure *s;

  g_mutex_lock (&self->lock);
  hint = g_queue_peek_head (&self->queue);
  if (!hint)
    hint = self->last;
  if (hint) {
    format = GST_VIDEO_INFO_FORMAT (&hint->info);
    width = GST_VIDEO_INFO_WIDTH (&hint->info);
    height = GST_VIDEO_INFO_HEIGHT (&hint->info);
  }
  g_mutex_unlock (&self->lock);

  caps = gst_caps_truncate (caps);
  caps = gst_caps_make_writable (caps);
  s = gst_caps_get_structure (caps, 0);
  gst_structure_fixate_field_nearest_int (s, "width", width);
  gst_structure_fixate_field_nearest_int (s, "height", height);
  gst_structure_fixate_field_string (s, "format",
      gst_video_format_to_string (format));
  gst_structure_fixate_field_nearest_fraction (s, "framerate", self->fps_n,
      self->fps_d);
  return gst_caps_fixate (caps);
}

static gboolean
gst_daydream_frame_bridge_src_set_caps (GstBaseSrc * bsrc, GstCaps * caps)
{
  GstDaydreamFrameBridgeSrc *self = GST_DAYDREAM_FRAME_BRIDGE_SRC (bsrc);
  GstVideoInfo info;

  if (!gst_video_info_from_caps (&info, caps))
    return FALSE;
  self->out_info = info;
  return TRUE;
}

static gboolean
gst_daydream_frame_bridge_src_query (GstBaseSrc * bsrc, GstQuery * query)
{
  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    /* frames leave the moment they are due: nothing to compensate */
    gst_query_set_latency (query, TRUE, 0, GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  return GST_BASE_SRC_CLASS (parent_class)->query (bsrc, query);
}

/* ---- state ---- */

static void
clear_streaming_state (GstDaydreamFrameBridgeSrc * self)
{
  g_clear_pointer (&self->last, framebridge_frame_free);
  gst_clear_buffer (&self->last_out);
  gst_clear_buffer (&self->fallback_buf);
  self->fallback_fresh = FALSE;
  g_clear_pointer (&self->fb, framebridge_fallback_free);
  g_clear_pointer (&self->conv, gst_video_converter_free);
  self->anchor = 0;
  self->ticks = 0;
  self->last_out_rt = GST_CLOCK_TIME_NONE;
  self->live_due = GST_CLOCK_TIME_NONE;
  self->last_live_rt = GST_CLOCK_TIME_NONE;
  self->fb_failed = FALSE;
  self->warned_refused_caps = FALSE;
  self->discont = TRUE;
  gst_video_info_init (&self->out_info);
  gst_video_info_init (&self->last_out_info);
}

static gboolean
gst_daydream_frame_bridge_src_start (GstBaseSrc * bsrc)
{
  GstDaydreamFrameBridgeSrc *self = GST_DAYDREAM_FRAME_BRIDGE_SRC (bsrc);

  clear_streaming_state (self);
  g_mutex_lock (&self->lock);
  self->duration = gst_util_uint64_scale_int (GST_SECOND, self->fps_d,
      self->fps_n);
  self->fixed_output = self->width > 0 || self->height > 0
      || self->format != GST_VIDEO_FORMAT_UNKNOWN;
  self->fb = framebridge_fallback_new (self->fallback,
      self->fallback_location, self->fallback_pattern);
  /* from now on the stream runs: backpressure instead of drop-oldest */
  self->consuming = TRUE;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
gst_daydream_frame_bridge_src_stop (GstBaseSrc * bsrc)
{
  GstDaydreamFrameBridgeSrc *self = GST_DAYDREAM_FRAME_BRIDGE_SRC (bsrc);
  FrameBridgeFrame *frame;

  g_mutex_lock (&self->lock);
  /* the stream has ended: what it did not send is gone, and so are pushes
   * still waiting for room in it */
  while ((frame = g_queue_pop_head (&self->queue))) {
    framebridge_frame_free (frame);
    self->stats.dropped++;
  }
  self->consuming = FALSE;
  self->generation++;
  g_cond_broadcast (&self->room);
  g_mutex_unlock (&self->lock);
  clear_streaming_state (self);
  return TRUE;
}

static gboolean
gst_daydream_frame_bridge_src_unlock (GstBaseSrc * bsrc)
{
  GstDaydreamFrameBridgeSrc *self = GST_DAYDREAM_FRAME_BRIDGE_SRC (bsrc);

  g_mutex_lock (&self->lock);
  self->flushing = TRUE;
  if (self->clock_id)
    gst_clock_id_unschedule (self->clock_id);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
gst_daydream_frame_bridge_src_unlock_stop (GstBaseSrc * bsrc)
{
  GstDaydreamFrameBridgeSrc *self = GST_DAYDREAM_FRAME_BRIDGE_SRC (bsrc);

  g_mutex_lock (&self->lock);
  self->flushing = FALSE;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static GstStateChangeReturn
gst_daydream_frame_bridge_src_change_state (GstElement * element,
    GstStateChange transition)
{
  GstDaydreamFrameBridgeSrc *self = GST_DAYDREAM_FRAME_BRIDGE_SRC (element);

  if (transition == GST_STATE_CHANGE_NULL_TO_READY) {
    g_autoptr (GError) err = NULL;
    gboolean ok;

    g_mutex_lock (&self->lock);
    ok = framebridge_fallback_validate (self->fallback,
        self->fallback_location, self->fallback_pattern, &err);
    g_mutex_unlock (&self->lock);
    if (!ok) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("Invalid fallback settings: %s", err->message), (NULL));
      return GST_STATE_CHANGE_FAILURE;
    }
  }
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

/* ---- properties ---- */

static GstStructure *
stats_to_structure (GstDaydreamFrameBridgeSrc * self)
{
  GstStructure *s;

  g_mutex_lock (&self->lock);
  s = gst_structure_new ("framebridgesrc-stats",
      "pushed", G_TYPE_UINT64, self->stats.pushed,
      "rejected", G_TYPE_UINT64, self->stats.rejected,
      "refused", G_TYPE_UINT64, self->stats.refused,
      "dropped", G_TYPE_UINT64, self->stats.dropped,
      "dropped-before-start", G_TYPE_UINT64, self->stats.dropped_before_start,
      "output", G_TYPE_UINT64, self->stats.output,
      "live", G_TYPE_UINT64, self->stats.live,
      "repeated", G_TYPE_UINT64, self->stats.repeated,
      "fallback", G_TYPE_UINT64, self->stats.fallback,
      "late", G_TYPE_UINT64, self->stats.late,
      "converted", G_TYPE_UINT64, self->stats.converted,
      "caps-changes", G_TYPE_UINT64, self->stats.caps_changes,
      "queue-depth", G_TYPE_UINT, g_queue_get_length (&self->queue),
      "waiting", G_TYPE_UINT, self->waiting,
      "max-frames", G_TYPE_UINT, fb_capacity_locked (self), NULL);
  g_mutex_unlock (&self->lock);
  return s;
}

/* the properties that are a field; framerate and stats are more */
#define FIELD(prop, member) \
    DRTC_PROP_FIELD (prop, GstDaydreamFrameBridgeSrc, member)
static const DrtcPropField fields[] = {
  FIELD (PROP_MAX_FRAMES, max_frames),
  FIELD (PROP_QUEUE_MODE, mode),
  FIELD (PROP_WIDTH, width),
  FIELD (PROP_HEIGHT, height),
  FIELD (PROP_FORMAT, format),
  FIELD (PROP_FALLBACK, fallback),
  FIELD (PROP_FALLBACK_LOCATION, fallback_location),
  FIELD (PROP_FALLBACK_PATTERN, fallback_pattern),
};

#undef FIELD
/* enum fields are stored as gint */
G_STATIC_ASSERT (sizeof (GstDaydreamFrameBridgeQueueMode) == sizeof (gint));
G_STATIC_ASSERT (sizeof (GstVideoFormat) == sizeof (gint));
G_STATIC_ASSERT (sizeof (GstDaydreamFrameBridgeFallback) == sizeof (gint));

static void
gst_daydream_frame_bridge_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstDaydreamFrameBridgeSrc *self = GST_DAYDREAM_FRAME_BRIDGE_SRC (object);

  if (!drtc_props_settable (GST_ELEMENT (self), pspec, GST_CAT_DEFAULT))
    return;
  if (prop_id != PROP_FRAMERATE) {
    drtc_props_set_locked (object, &self->lock, fields, G_N_ELEMENTS (fields),
        prop_id, value, pspec);
    if (prop_id == PROP_MAX_FRAMES) {
      /* pushes waiting for room look again */
      g_mutex_lock (&self->lock);
      g_cond_broadcast (&self->room);
      g_mutex_unlock (&self->lock);
    }
  } else if (gst_value_get_fraction_numerator (value) <= 0) {
    GST_WARNING_OBJECT (self, "framerate must be above 0");
  } else {
    g_mutex_lock (&self->lock);
    self->fps_n = gst_value_get_fraction_numerator (value);
    self->fps_d = gst_value_get_fraction_denominator (value);
    g_mutex_unlock (&self->lock);
  }
}

static void
gst_daydream_frame_bridge_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstDaydreamFrameBridgeSrc *self = GST_DAYDREAM_FRAME_BRIDGE_SRC (object);

  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, stats_to_structure (self));
  } else if (prop_id == PROP_FRAMERATE) {
    g_mutex_lock (&self->lock);
    gst_value_set_fraction (value, self->fps_n, self->fps_d);
    g_mutex_unlock (&self->lock);
  } else {
    drtc_props_get_locked (object, &self->lock, fields, G_N_ELEMENTS (fields),
        prop_id, value, pspec);
  }
}

static void
gst_daydream_frame_bridge_src_init (GstDaydreamFrameBridgeSrc * self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->room);
  g_queue_init (&self->queue);
  self->max_frames = DEFAULT_MAX_FRAMES;
  self->mode = DEFAULT_QUEUE_MODE;
  self->fps_n = DEFAULT_FPS_N;
  self->fps_d = DEFAULT_FPS_D;
  self->format = GST_VIDEO_FORMAT_UNKNOWN;
  self->fallback = DEFAULT_FALLBACK;
  self->fallback_pattern = g_strdup (DEFAULT_FALLBACK_PATTERN);
  clear_streaming_state (self);
  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
}

static void
gst_daydream_frame_bridge_src_finalize (GObject * object)
{
  GstDaydreamFrameBridgeSrc *self = GST_DAYDREAM_FRAME_BRIDGE_SRC (object);

  clear_streaming_state (self);
  g_queue_clear_full (&self->queue, (GDestroyNotify) framebridge_frame_free);
  drtc_props_clear (self, fields, G_N_ELEMENTS (fields), props);
  g_cond_clear (&self->room);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_daydream_frame_bridge_src_class_init (GstDaydreamFrameBridgeSrcClass *
    klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);

  gobject_class->set_property = gst_daydream_frame_bridge_src_set_property;
  gobject_class->get_property = gst_daydream_frame_bridge_src_get_property;
  gobject_class->finalize = gst_daydream_frame_bridge_src_finalize;

  props[PROP_MAX_FRAMES] = g_param_spec_uint ("max-frames", "Max frames",
      "Frames the queue holds (in latest mode: 1)", 1, 100000,
      DEFAULT_MAX_FRAMES, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING);
  props[PROP_QUEUE_MODE] = g_param_spec_enum ("queue-mode", "Queue mode",
      "What a push into a full queue does, and how frames are paced",
      GST_TYPE_DAYDREAM_FRAME_BRIDGE_QUEUE_MODE, DEFAULT_QUEUE_MODE,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  props[PROP_FRAMERATE] = gst_param_spec_fraction ("framerate", "Frame rate",
      "Output frames per second: new frames, else repeats of the last", 1, 1,
      G_MAXINT, 1, DEFAULT_FPS_N, DEFAULT_FPS_D, G_PARAM_READWRITE |
      G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  props[PROP_WIDTH] = g_param_spec_int ("width", "Width",
      "Output width in pixels; frames are scaled to it (0 = follow frames)",
      0, FRAMEBRIDGE_MAX_DIMENSION, 0, G_PARAM_READWRITE |
      G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  props[PROP_HEIGHT] = g_param_spec_int ("height", "Height",
      "Output height in pixels; frames are scaled to it (0 = follow frames)",
      0, FRAMEBRIDGE_MAX_DIMENSION, 0, G_PARAM_READWRITE |
      G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  props[PROP_FORMAT] = g_param_spec_enum ("format", "Format",
      "Output pixel format; frames are converted to it (auto = follow "
      "frames)", GST_TYPE_DAYDREAM_FRAME_BRIDGE_FORMAT,
      GST_VIDEO_FORMAT_UNKNOWN, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY);
  props[PROP_FALLBACK] = g_param_spec_enum ("fallback", "Fallback",
      "What to send before the first frame arrives",
      GST_TYPE_DAYDREAM_FRAME_BRIDGE_FALLBACK, DEFAULT_FALLBACK,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  props[PROP_FALLBACK_LOCATION] = g_param_spec_string ("fallback-location",
      "Fallback location", "Folder of images (fallback=images: .png .jpg "
      ".jpeg .webp .bmp, name order) or video file (fallback=video)", NULL,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  props[PROP_FALLBACK_PATTERN] = g_param_spec_string ("fallback-pattern",
      "Fallback pattern", "videotestsrc pattern for fallback=pattern (smpte, "
      "black, ball, ...)", DEFAULT_FALLBACK_PATTERN, G_PARAM_READWRITE |
      G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  props[PROP_STATS] = g_param_spec_boxed ("stats", "Statistics",
      "Counters: pushed, rejected, refused (full), dropped, "
      "dropped-before-start, output, live, repeated, fallback, late, "
      "converted, caps-changes; queue-depth, waiting (pushes waiting for "
      "room), max-frames", GST_TYPE_STRUCTURE,
      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (gobject_class, N_PROPS, props);

  /**
   * GstDaydreamFrameBridgeSrc::push-frame:
   * @src: the element
   * @format: pixel format name ("RGB", "RGBA", "BGRx", "I420", ...)
   * @width: width in pixels
   * @height: height in pixels
   * @data: the pixels, default or tightly packed rows (referenced, not copied)
   * @timeout_us: wait for room this long when full (0 = not, -1 = forever)
   *
   * Queues one frame. Returns a #GstDaydreamFrameBridgeResult; the reason for
   * a rejection is logged (GST_DEBUG=framebridgesrc:2).
   */
  g_signal_new_class_handler ("push-frame", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION, G_CALLBACK (fb_on_push_frame), NULL,
      NULL, NULL, GST_TYPE_DAYDREAM_FRAME_BRIDGE_RESULT, 5, G_TYPE_STRING,
      G_TYPE_UINT, G_TYPE_UINT, G_TYPE_BYTES, G_TYPE_INT64);
  /**
   * GstDaydreamFrameBridgeSrc::push-sample:
   * @src: the element
   * @sample: raw video caps (format, width, height) and one frame
   * @timeout_us: wait for room this long when full (0 = not, -1 = forever)
   * @error: (nullable): a `GError **` for the reason of a failure
   *
   * Queues one frame. Returns a #GstDaydreamFrameBridgeResult.
   */
  g_signal_new_class_handler ("push-sample", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION, G_CALLBACK (fb_on_push_sample), NULL,
      NULL, NULL, GST_TYPE_DAYDREAM_FRAME_BRIDGE_RESULT, 3, GST_TYPE_SAMPLE,
      G_TYPE_INT64, G_TYPE_POINTER);

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Frame bridge source", "Source/Video",
      "Live video from frames an application pushes: bounded queue, paced "
      "output, repeat-last, fallback before the first frame",
      "daydream-rtc developers");
  /* gst-inspect prints every metadata key: a runnable line and the manual */
  gst_element_class_add_static_metadata (element_class, "example",
      "gst-launch-1.0 framebridgesrc num-buffers=90 ! videoconvert ! "
      "autovideosink   (push frames with the push-frame action signal)");
  gst_element_class_add_static_metadata (element_class,
      GST_ELEMENT_METADATA_DOC_URI, "docs/elements/framebridgesrc.md");
  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_daydream_frame_bridge_src_change_state);

  basesrc_class->get_caps =
      GST_DEBUG_FUNCPTR (gst_daydream_frame_bridge_src_get_caps);
  basesrc_class->fixate =
      GST_DEBUG_FUNCPTR (gst_daydream_frame_bridge_src_fixate);
  basesrc_class->set_caps =
      GST_DEBUG_FUNCPTR (gst_daydream_frame_bridge_src_set_caps);
  basesrc_class->query =
      GST_DEBUG_FUNCPTR (gst_daydream_frame_bridge_src_query);
  basesrc_class->start =
      GST_DEBUG_FUNCPTR (gst_daydream_frame_bridge_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_daydream_frame_bridge_src_stop);
  basesrc_class->unlock =
      GST_DEBUG_FUNCPTR (gst_daydream_frame_bridge_src_unlock);
  basesrc_class->unlock_stop =
      GST_DEBUG_FUNCPTR (gst_daydream_frame_bridge_src_unlock_stop);
  pushsrc_class->create =
      GST_DEBUG_FUNCPTR (gst_daydream_frame_bridge_src_create);

  gst_type_mark_as_plugin_api (GST_TYPE_DAYDREAM_FRAME_BRIDGE_QUEUE_MODE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_DAYDREAM_FRAME_BRIDGE_FALLBACK, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_DAYDREAM_FRAME_BRIDGE_FORMAT, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_DAYDREAM_FRAME_BRIDGE_RESULT, 0);
}
