/* daydream-rtc: choice and set-up of the H.264 encoder
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Any registered H.264 video encoder is a candidate, best rank first, so a
 * hardware encoder (nvh264enc ranks above x264enc) wins where it works.
 * Known encoders get low-latency settings for real-time WebRTC: no
 * B-frames, a short GOP (the Daydream segmenter wants about fps / 2), CBR.
 * A candidate that cannot open its device (READY fails) is skipped.
 */
#include "drtc-encoder.h"

#include <string.h>

/* Known encoders, in our preference among equal ranks. */
static const gchar *const preferred[] = {
  "nvh264enc", "nvautogpuh264enc", "vah264enc", "vah264lpenc", "qsvh264enc",
  "vaapih264enc", "v4l2h264enc", "x264enc", "openh264enc", NULL
};

/* Registered, but useless here: a broken libav wrapper. */
static const gchar *const excluded[] = { "avenc_h264_omx", NULL };

static gint
preference (const gchar * name)
{
  for (gint i = 0; preferred[i]; i++) {
    if (g_str_equal (preferred[i], name))
      return i;
  }
  return G_N_ELEMENTS (preferred);
}

static gboolean
produces_h264 (GstElementFactory * factory)
{
  const gchar *klass = gst_element_factory_get_metadata (factory,
      GST_ELEMENT_METADATA_KLASS);
  const GList *l;

  if (!klass || !strstr (klass, "Encoder") || !strstr (klass, "Video"))
    return FALSE;
  for (l = gst_element_factory_get_static_pad_templates (factory); l;
      l = l->next) {
    GstStaticPadTemplate *templ = l->data;
    g_autoptr (GstCaps) caps = NULL;
    g_autoptr (GstCaps) h264 = NULL;

    if (templ->direction != GST_PAD_SRC)
      continue;
    caps = gst_static_caps_get (&templ->static_caps);
    h264 = gst_caps_new_empty_simple ("video/x-h264");
    if (gst_caps_can_intersect (caps, h264))
      return TRUE;
  }
  return FALSE;
}

static gint
compare_candidates (gconstpointer a, gconstpointer b)
{
  GstPluginFeature *fa = GST_PLUGIN_FEATURE (a), *fb = GST_PLUGIN_FEATURE (b);
  guint ra = gst_plugin_feature_get_rank (fa);
  guint rb = gst_plugin_feature_get_rank (fb);

  if (ra != rb)
    return ra > rb ? -1 : 1;
  return preference (gst_plugin_feature_get_name (fa)) -
      preference (gst_plugin_feature_get_name (fb));
}

/**
 * drtc_encoder_candidates:
 *
 * Returns: (transfer full) (element-type utf8): factory names of the H.264
 *   encoders registered here, in the order they are tried
 */
GList *
drtc_encoder_candidates (void)
{
  GList *factories, *l, *names = NULL;

  factories = gst_element_factory_list_get_elements
      (GST_ELEMENT_FACTORY_TYPE_VIDEO_ENCODER, GST_RANK_NONE);
  factories = g_list_sort (factories, compare_candidates);
  for (l = factories; l; l = l->next) {
    GstElementFactory *factory = l->data;
    const gchar *name = gst_plugin_feature_get_name (factory);

    if (g_strv_contains (excluded, name) || !produces_h264 (factory))
      continue;
    /* unranked elements are only used when we know them */
    if (gst_plugin_feature_get_rank (GST_PLUGIN_FEATURE (factory)) ==
        GST_RANK_NONE && preference (name) == G_N_ELEMENTS (preferred))
      continue;
    names = g_list_append (names, g_strdup (name));
  }
  gst_plugin_feature_list_free (factories);
  return names;
}

static void
set_if_exists (GstElement * element, const gchar * property,
    const gchar * value)
{
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (element), property))
    gst_util_set_object_arg (G_OBJECT (element), property, value);
}

static void
set_uint_if_exists (GstElement * element, const gchar * property, guint value)
{
  g_autofree gchar *text = g_strdup_printf ("%u", value);

  set_if_exists (element, property, text);
}

/**
 * drtc_encoder_configure:
 *
 * Applies low-latency real-time settings to a known encoder; an unknown one
 * keeps its defaults, apart from the common property names it has.
 */
void
drtc_encoder_configure (GstElement * encoder,
    const DrtcEncoderSettings * settings)
{
  g_autoptr (GstElementFactory) factory = gst_element_get_factory (encoder) ?
      gst_object_ref (gst_element_get_factory (encoder)) : NULL;
  const gchar *name = factory ?
      gst_plugin_feature_get_name (GST_PLUGIN_FEATURE (factory)) : "";
  guint gop = settings->keyframe_interval ? settings->keyframe_interval :
      MAX (settings->fps / 2, 1);

  if (g_str_equal (name, "x264enc")) {
    set_if_exists (encoder, "tune", "zerolatency");
    set_if_exists (encoder, "speed-preset", "ultrafast");
    set_uint_if_exists (encoder, "bframes", 0);
    set_uint_if_exists (encoder, "key-int-max", gop);
    set_uint_if_exists (encoder, "bitrate", settings->bitrate_kbps);
    set_if_exists (encoder, "b-adapt", "false");
    /* what ultrafast and zerolatency ask for, which x264enc's own property
     * defaults override: no trellis; and threads. Up to 720p one thread
     * costs the least CPU per frame (2.2 against 2.4 ms at 512x512 here,
     * thread sync costs more than it saves) for a few ms more latency;
     * bigger frames, or an unknown size, get zerolatency's sliced threads. */
    set_if_exists (encoder, "trellis", "false");
    if (settings->width && settings->height
        && (guint64) settings->width * settings->height <= 1280 * 720)
      set_uint_if_exists (encoder, "threads", 1);
    else
      set_if_exists (encoder, "sliced-threads", "true");
  } else if (g_str_has_prefix (name, "nv")) {
    set_if_exists (encoder, "preset", "low-latency-hq");
    set_if_exists (encoder, "rc-mode", "cbr");
    set_if_exists (encoder, "zerolatency", "true");
    set_uint_if_exists (encoder, "bframes", 0);
    set_uint_if_exists (encoder, "gop-size", gop);
    set_uint_if_exists (encoder, "bitrate", settings->bitrate_kbps);
  } else if (g_str_has_prefix (name, "va")) {
    set_uint_if_exists (encoder, "b-frames", 0);
    set_uint_if_exists (encoder, "max-bframes", 0);
    set_uint_if_exists (encoder, "key-int-max", gop);
    set_uint_if_exists (encoder, "keyframe-period", gop);
    set_if_exists (encoder, "rate-control", "cbr");
    set_uint_if_exists (encoder, "bitrate", settings->bitrate_kbps);
  } else if (g_str_equal (name, "openh264enc")) {
    set_uint_if_exists (encoder, "gop-size", gop);
    set_uint_if_exists (encoder, "bitrate", settings->bitrate_kbps * 1000);
    set_if_exists (encoder, "complexity", "low");
  } else {
    set_uint_if_exists (encoder, "bframes", 0);
    set_uint_if_exists (encoder, "key-int-max", gop);
  }
}

/* The element, if it opens (some hardware encoders register but have no
 * usable device). */
static GstElement *
try_encoder (const gchar * name, const DrtcEncoderSettings * settings)
{
  GstElement *encoder = gst_element_factory_make (name, NULL);

  if (!encoder)
    return NULL;
  gst_object_ref_sink (encoder);
  drtc_encoder_configure (encoder, settings);
  if (gst_element_set_state (encoder, GST_STATE_READY) ==
      GST_STATE_CHANGE_FAILURE) {
    gst_element_set_state (encoder, GST_STATE_NULL);
    gst_object_unref (encoder);
    g_message ("H.264 encoder %s is registered but does not open; skipped",
        name);
    return NULL;
  }
  gst_element_set_state (encoder, GST_STATE_NULL);
  return encoder;
}

/**
 * drtc_encoder_make:
 * @factory_name: (nullable): use this one, or NULL to choose
 * @settings: rate, bitrate, GOP
 *
 * Returns: (transfer full): a configured H.264 encoder (not floating), or
 *   %NULL with @error set when none works
 */
GstElement *
drtc_encoder_make (const gchar * factory_name,
    const DrtcEncoderSettings * settings, GError ** error)
{
  GList *names, *l;
  GstElement *encoder = NULL;

  if (factory_name) {
    encoder = try_encoder (factory_name, settings);
    if (!encoder)
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
          "H.264 encoder '%s' is not available", factory_name);
    return encoder;
  }
  names = drtc_encoder_candidates ();
  for (l = names; l && !encoder; l = l->next)
    encoder = try_encoder (l->data, settings);
  g_list_free_full (names, g_free);
  if (!encoder)
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "no H.264 encoder works here (install gstreamer1.0-plugins-ugly "
        "for x264enc)");
  return encoder;
}
