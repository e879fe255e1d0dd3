/* daydream-rtc: what framebridgesrc sends before the first pushed frame
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every kind of fallback is a small private pipeline ending in an appsink
 * whose caps are the element's output caps, so GStreamer's own elements do
 * the pattern drawing, decoding, converting, scaling and frame-rate
 * adaptation. Images are decoded once each and kept while they fit a memory
 * budget; a video loops by seeking back to the start at end of stream.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "framebridge-fallback.h"

#include <string.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

GST_DEBUG_CATEGORY_EXTERN (gst_daydream_frame_bridge_src_debug);
#define GST_CAT_DEFAULT gst_daydream_frame_bridge_src_debug

/* Decoded images kept in memory; beyond this they are decoded per frame. */
#define IMAGE_CACHE_BUDGET (64 * 1024 * 1024)
/* A source gets this long to produce its first frame (decoders start up). */
#define FIRST_FRAME_TIMEOUT (5 * GST_SECOND)
/* How often a wait for a frame looks at the bus for errors. */
#define PULL_SLICE (20 * GST_MSECOND)

static const gchar *const image_suffixes[] = {
  ".png", ".jpg", ".jpeg", ".webp", ".bmp", NULL
};

struct _FrameBridgeFallback
{
  GstDaydreamFrameBridgeFallback kind;
  gchar *location;
  gchar *pattern;

  GstCaps *caps;                /* caps the current source produces */
  GstElement *pipeline;         /* pattern and video */
  GstElement *sink;
  gboolean started;             /* produced a frame since (re)build */

  GPtrArray *images;            /* (element-type utf8) full paths, sorted */
  GPtrArray *decoded;           /* (element-type GstBuffer) NULL = not cached */
  gsize cached_bytes;
  guint next_image;
};

static gboolean
has_image_suffix (const gchar * name)
{
  g_autofree gchar *lower = g_ascii_strdown (name, -1);

  for (guint i = 0; image_suffixes[i]; i++) {
    if (g_str_has_suffix (lower, image_suffixes[i]))
      return TRUE;
  }
  return FALSE;
}

static gint
compare_paths (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar * const *) a, *(const gchar * const *) b);
}

static GPtrArray *
list_images (const gchar * folder, GError ** error)
{
  g_autoptr (GDir) dir = g_dir_open (folder, 0, error);
  g_autoptr (GPtrArray) paths = NULL;
  const gchar *name;

  if (!dir)
    return NULL;
  paths = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir))) {
    g_autofree gchar *path = g_build_filename (folder, name, NULL);

    if (has_image_suffix (name) && g_file_test (path, G_FILE_TEST_IS_REGULAR))
      g_ptr_array_add (paths, g_steal_pointer (&path));
  }
  if (paths->len == 0) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
        "No image files (%s, ...) in fallback folder '%s'", image_suffixes[0],
        folder);
    return NULL;
  }
  g_ptr_array_sort (paths, compare_paths);
  return g_steal_pointer (&paths);
}

static gboolean
pattern_is_known (const gchar * pattern)
{
  g_autoptr (GstElement) probe =
      gst_element_factory_make ("videotestsrc", NULL);
  GParamSpec *pspec;
  GEnumClass *klass;

  if (!probe)
    return FALSE;
  gst_object_ref_sink (probe);
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (probe), "pattern");
  if (!pspec || !G_IS_PARAM_SPEC_ENUM (pspec))
    return FALSE;
  klass = G_PARAM_SPEC_ENUM (pspec)->enum_class;
  return g_enum_get_value_by_nick (klass, pattern) != NULL;
}

gboolean
framebridge_fallback_validate (GstDaydreamFrameBridgeFallback kind,
    const gchar * location, const gchar * pattern, GError ** error)
{
  switch (kind) {
    case GST_DAYDREAM_FRAME_BRIDGE_FALLBACK_PATTERN:
      if (!pattern || !pattern_is_known (pattern)) {
        g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
            "Unknown fallback-pattern '%s' (a videotestsrc pattern name such "
            "as smpte, black, ball)", pattern ? pattern : "(null)");
        return FALSE;
      }
      return TRUE;
    case GST_DAYDREAM_FRAME_BRIDGE_FALLBACK_IMAGES:{
      g_autoptr (GPtrArray) images = NULL;

      if (!location || !*location) {
        g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
            "fallback=images needs fallback-location (a folder)");
        return FALSE;
      }
      images = list_images (location, error);
      return images != NULL;
    }
    case GST_DAYDREAM_FRAME_BRIDGE_FALLBACK_VIDEO:
      if (!location || !g_file_test (location, G_FILE_TEST_IS_REGULAR)) {
        g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
            "fallback=video needs fallback-location to name a video file; "
            "'%s' is not one", location ? location : "(null)");
        return FALSE;
      }
      return TRUE;
  }
  g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
      "Unknown fallback kind %d", kind);
  return FALSE;
}

FrameBridgeFallback *
framebridge_fallback_new (GstDaydreamFrameBridgeFallback kind,
    const gchar * location, const gchar * pattern)
{
  FrameBridgeFallback *fb = g_new0 (FrameBridgeFallback, 1);

  fb->kind = kind;
  fb->location = g_strdup (location);
  fb->pattern = g_strdup (pattern ? pattern : "smpte");
  return fb;
}

static void
teardown_pipeline (FrameBridgeFallback * fb)
{
  if (fb->pipeline) {
    gst_element_set_state (fb->pipeline, GST_STATE_NULL);
    gst_clear_object (&fb->sink);
    gst_clear_object (&fb->pipeline);
  }
  fb->started = FALSE;
}

static void
clear_image_cache (FrameBridgeFallback * fb)
{
  if (fb->decoded) {
    for (guint i = 0; i < fb->decoded->len; i++)
      gst_clear_buffer ((GstBuffer **) & g_ptr_array_index (fb->decoded, i));
  }
  fb->cached_bytes = 0;
}

void
framebridge_fallback_free (FrameBridgeFallback * fb)
{
  if (!fb)
    return;
  teardown_pipeline (fb);
  clear_image_cache (fb);
  g_clear_pointer (&fb->decoded, g_ptr_array_unref);
  g_clear_pointer (&fb->images, g_ptr_array_unref);
  gst_clear_caps (&fb->caps);
  g_free (fb->location);
  g_free (fb->pattern);
  g_free (fb);
}

/* @desc ends in "capsfilter name=caps ! appsink name=sink"; @location goes to
 * the element named "src" as property @location_prop (never through the
 * parser, so any file name is safe). */
static GstElement *
build_pipeline (const gchar * desc, const gchar * location_prop,
    const gchar * location, GstCaps * caps, GstElement ** sink, GError ** error)
{
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstElement) src = NULL;
  g_autoptr (GstElement) filter = NULL;
  GError *parse_error = NULL;

  pipeline = gst_parse_launch_full (desc, NULL, GST_PARSE_FLAG_FATAL_ERRORS,
      &parse_error);
  if (!pipeline) {
    g_propagate_error (error, parse_error);
    return NULL;
  }
  g_clear_error (&parse_error);
  gst_object_ref_sink (pipeline);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  filter = gst_bin_get_by_name (GST_BIN (pipeline), "caps");
  *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  if (location_prop)
    g_object_set (src, location_prop, location, NULL);
  g_object_set (filter, "caps", caps, NULL);
  g_object_set (*sink, "sync", FALSE, "max-buffers", 2, "drop", FALSE,
      "enable-last-sample", FALSE, NULL);
  return g_steal_pointer (&pipeline);
}

static gboolean
take_bus_error (GstElement * pipeline, GError ** error)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  g_autoptr (GstMessage) msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  g_autofree gchar *debug = NULL;
  GError *err = NULL;

  if (!msg)
    return FALSE;
  gst_message_parse_error (msg, &err, &debug);
  GST_DEBUG ("fallback source error: %s (%s)", err->message,
      GST_STR_NULL (debug));
  g_propagate_error (error, err);
  return TRUE;
}

static gboolean
start_pipeline (FrameBridgeFallback * fb, GstCaps * caps, GError ** error)
{
  const gchar *desc, *prop = NULL;

  if (fb->kind == GST_DAYDREAM_FRAME_BRIDGE_FALLBACK_PATTERN) {
    desc = "videotestsrc name=src ! videoconvert ! "
        "videoscale add-borders=false ! capsfilter name=caps ! "
        "appsink name=sink";
  } else {
    desc = "filesrc name=src ! decodebin ! videoconvert ! "
        "videoscale add-borders=false ! videorate ! capsfilter name=caps ! "
        "appsink name=sink";
    prop = "location";
  }
  fb->pipeline = build_pipeline (desc, prop, fb->location, caps, &fb->sink,
      error);
  if (!fb->pipeline)
    return FALSE;
  if (fb->kind == GST_DAYDREAM_FRAME_BRIDGE_FALLBACK_PATTERN) {
    g_autoptr (GstElement) src = gst_bin_get_by_name (GST_BIN (fb->pipeline),
        "src");
    gst_util_set_object_arg (G_OBJECT (src), "pattern", fb->pattern);
  }
  if (gst_element_set_state (fb->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    if (!take_bus_error (fb->pipeline, error))
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE,
          "Could not start the fallback source");
    teardown_pipeline (fb);
    return FALSE;
  }
  return TRUE;
}

/* Waits for a sample in slices, so that an error on the bus ends the wait
 * at once instead of after the whole timeout. */
static GstSample *
pull_sample (FrameBridgeFallback * fb, GstClockTime timeout, GError ** error)
{
  GstClockTime waited = 0;

  for (;;) {
    GstClockTime slice = MIN (timeout - waited, PULL_SLICE);
    GstSample *sample = gst_app_sink_try_pull_sample (GST_APP_SINK (fb->sink),
        slice);

    if (sample)
      return sample;
    if (take_bus_error (fb->pipeline, error))
      return NULL;
    waited += slice;
    if (waited >= timeout || gst_app_sink_is_eos (GST_APP_SINK (fb->sink)))
      return NULL;
  }
}

static GstBuffer *
pull_from_pipeline (FrameBridgeFallback * fb, GstClockTime timeout,
    GError ** error)
{
  gboolean rewound = FALSE;

  if (!fb->started)
    timeout = MAX (timeout, FIRST_FRAME_TIMEOUT);
  for (;;) {
    GError *err = NULL;
    g_autoptr (GstSample) sample = pull_sample (fb, timeout, &err);

    if (sample) {
      fb->started = TRUE;
      return gst_buffer_ref (gst_sample_get_buffer (sample));
    }
    if (err) {
      g_propagate_error (error, err);
      return NULL;
    }
    if (!gst_app_sink_is_eos (GST_APP_SINK (fb->sink)))
      return NULL;              /* just late: the caller repeats */
    if (rewound) {
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
          "Fallback video '%s' has no video frames", fb->location);
      return NULL;
    }
    GST_DEBUG ("fallback video ended, looping");
    if (!gst_element_seek_simple (fb->pipeline, GST_FORMAT_TIME,
            GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT, 0)) {
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
          "Could not loop fallback video '%s'", fb->location);
      return NULL;
    }
    rewound = TRUE;
    timeout = MAX (timeout, FIRST_FRAME_TIMEOUT);
  }
}

static GstBuffer *
decode_image (const gchar * path, GstCaps * caps, GError ** error)
{
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstElement) sink = NULL;
  g_autoptr (GstSample) sample = NULL;
  g_autoptr (GstCaps) still = gst_caps_copy (caps);

  /* A decoded image has framerate 0/1; nothing here changes the rate. */
  gst_structure_remove_field (gst_caps_get_structure (still, 0), "framerate");
  pipeline = build_pipeline ("filesrc name=src ! decodebin ! videoconvert ! "
      "videoscale add-borders=false ! capsfilter name=caps ! appsink name=sink",
      "location", path, still, &sink, error);
  if (!pipeline)
    return NULL;
  if (gst_element_set_state (pipeline, GST_STATE_PAUSED) !=
      GST_STATE_CHANGE_FAILURE)
    sample = gst_app_sink_try_pull_preroll (GST_APP_SINK (sink),
        FIRST_FRAME_TIMEOUT);
  if (!sample && !take_bus_error (pipeline, error))
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "Could not decode fallback image '%s'", path);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  if (!sample)
    return NULL;
  return gst_buffer_ref (gst_sample_get_buffer (sample));
}

static GstBuffer *
next_image (FrameBridgeFallback * fb, GstCaps * caps, GError ** error)
{
  guint i;
  GstBuffer *buf;

  if (!fb->images) {
    fb->images = list_images (fb->location, error);
    if (!fb->images)
      return NULL;
    fb->decoded = g_ptr_array_new ();
    g_ptr_array_set_size (fb->decoded, fb->images->len);
  }
  i = fb->next_image;
  fb->next_image = (i + 1) % fb->images->len;
  buf = g_ptr_array_index (fb->decoded, i);
  if (buf)
    return gst_buffer_ref (buf);
  buf = decode_image (g_ptr_array_index (fb->images, i), caps, error);
  if (buf && fb->cached_bytes + gst_buffer_get_size (buf) <= IMAGE_CACHE_BUDGET) {
    g_ptr_array_index (fb->decoded, i) = gst_buffer_ref (buf);
    fb->cached_bytes += gst_buffer_get_size (buf);
  }
  return buf;
}

GstBuffer *
framebridge_fallback_next (FrameBridgeFallback * fb, GstCaps * caps,
    GstClockTime timeout, GError ** error)
{
  g_return_val_if_fail (fb != NULL, NULL);
  g_return_val_if_fail (GST_IS_CAPS (caps) && gst_caps_is_fixed (caps), NULL);

  if (!fb->caps || !gst_caps_is_equal (fb->caps, caps)) {
    GST_DEBUG ("fallback output caps now %" GST_PTR_FORMAT, caps);
    teardown_pipeline (fb);
    clear_image_cache (fb);
    gst_caps_replace (&fb->caps, caps);
  }
  if (fb->kind == GST_DAYDREAM_FRAME_BRIDGE_FALLBACK_IMAGES)
    return next_image (fb, caps, error);
  if (!fb->pipeline && !start_pipeline (fb, caps, error))
    return NULL;
  return pull_from_pipeline (fb, timeout, error);
}
