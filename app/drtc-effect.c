/* daydream-rtc: the gateway's stand-in for the diffusion model
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A chain of stock GStreamer elements whose settings follow the stream's
 * params, so the output visibly and predictably changes with a PATCH
 * (docs/gateway.md has the table):
 *
 *   videoconvert ! RGBA ! videobalance ! coloreffects ! [invert0r] !
 *   [sobel] ! videoconvert
 *
 * The bracketed stages sit between an output-selector and an input-selector
 * with a bypass, so switching them is a property change, never a relink.
 */
#include "drtc-effect.h"
#include "drtc-json.h"

#include <math.h>
#include <string.h>

#define DEFAULT_DELTA 0.7

static const gchar *const invert_words[] = { "invert", "negative", NULL };

static const gchar *const gray_words[] = {
  "grayscale", "greyscale", "black and white", "monochrome", NULL
};
static const gchar *const sepia_words[] = { "sepia", "vintage", NULL };
static const gchar *const edge_words[] = { "edges", "sketch", "outline", NULL };

static gboolean
mentions (const gchar * prompt, const gchar * const *words)
{
  for (guint i = 0; words[i]; i++) {
    if (strstr (prompt, words[i]))
      return TRUE;
  }
  return FALSE;
}

/* The prompt in lower case; the texts of a weighted prompt are joined. */
static gchar *
prompt_text (JsonObject * params)
{
  JsonNode *node = json_object_get_member (params, "prompt");
  GString *text = g_string_new (NULL);

  if (node && JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING) {
    g_string_append (text, json_node_get_string (node));
  } else if (node && JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *items = json_node_get_array (node);

    for (guint i = 0; i < json_array_get_length (items); i++) {
      JsonNode *item = json_array_get_element (items, i);
      JsonNode *first;

      if (!JSON_NODE_HOLDS_ARRAY (item)
          || json_array_get_length (json_node_get_array (item)) < 1)
        continue;
      first = json_array_get_element (json_node_get_array (item), 0);
      if (JSON_NODE_HOLDS_VALUE (first)
          && json_node_get_value_type (first) == G_TYPE_STRING)
        g_string_append_printf (text, "%s%s", i ? " " : "",
            json_node_get_string (first));
    }
  }
  g_autofree gchar *joined = g_string_free (text, FALSE);

  return g_utf8_strdown (joined, -1);
}

static guint32
fnv1a (const gchar * text)
{
  guint32 h = 2166136261u;

  for (const guchar * p = (const guchar *)text; *p; p++)
    h = (h ^ *p) * 16777619u;
  return h;
}

/**
 * drtc_effect_settings_from_params:
 * @params: a stream's params (prompt, delta, seed)
 *
 * The effect for @params; a pure function, documented in docs/gateway.md.
 */
void
drtc_effect_settings_from_params (JsonObject * params, DrtcEffectSettings * s)
{
  g_autofree gchar *prompt = prompt_text (params);
  gdouble delta = DEFAULT_DELTA;
  gint64 seed = 0;
  gboolean gray;

  drtc_json_get_number (params, "delta", &delta);
  drtc_json_get_int (params, "seed", &seed);
  memset (s, 0, sizeof (*s));
  s->strength = CLAMP (delta, 0.0, 1.0);
  s->saturation = 1.0;
  s->invert = mentions (prompt, invert_words);
  s->sepia = mentions (prompt, sepia_words);
  s->edges = mentions (prompt, edge_words);
  gray = mentions (prompt, gray_words);
  if (gray) {
    s->saturation = 1.0 - s->strength;
  } else if (!s->invert && !s->sepia && !s->edges) {
    guint32 h = fnv1a (prompt) ^ (guint32) ((guint64) seed * 2654435761u);

    /* any other prompt: a hue turn picked by the prompt and seed, and
     * colours made more vivid, both in proportion to delta */
    s->hue = s->strength * (2.0 * (h / 4294967296.0) - 1.0);
    s->saturation = 1.0 + 0.5 * s->strength;
  }
}

gchar *
drtc_effect_settings_describe (const DrtcEffectSettings * s)
{
  return g_strdup_printf ("hue %+.3f, saturation %.3f%s%s%s (strength %.2f)",
      s->hue, s->saturation, s->sepia ? ", sepia" : "",
      s->invert ? ", invert" : "", s->edges ? ", edges" : "", s->strength);
}

static GstElement *
make (GstBin * bin, const gchar * factory, const gchar * name)
{
  GstElement *e = gst_element_factory_make (factory, name);

  if (e)
    gst_bin_add (bin, e);
  return e;
}

/* prev ! output-selector ! (fx | bypass) ! input-selector; returns the
 * input-selector, or @prev unchanged when @factory is missing. */
static GstElement *
add_toggle (GstBin * bin, GstElement * prev, const gchar * name,
    const gchar * factory)
{
  g_autofree gchar *out_name = g_strconcat (name, "-out", NULL);
  g_autofree gchar *in_name = g_strconcat (name, "-in", NULL);
  GstElement *fx, *osel, *isel;
  GstPad *o0, *o1, *i0, *i1;
  GstPad *fx_sink, *fx_src;

  fx = gst_element_factory_make (factory, name);
  if (!fx) {
    g_warning ("effect: %s is missing (install frei0r-plugins); the '%s' "
        "keyword will do nothing", factory, name);
    return prev;
  }
  osel = make (bin, "output-selector", out_name);
  isel = make (bin, "input-selector", in_name);
  gst_bin_add (bin, fx);
  g_object_set (isel, "sync-streams", FALSE, NULL);
  gst_element_link (prev, osel);
  o0 = gst_element_request_pad_simple (osel, "src_%u");
  o1 = gst_element_request_pad_simple (osel, "src_%u");
  i0 = gst_element_request_pad_simple (isel, "sink_%u");
  i1 = gst_element_request_pad_simple (isel, "sink_%u");
  fx_sink = gst_element_get_static_pad (fx, "sink");
  fx_src = gst_element_get_static_pad (fx, "src");
  gst_pad_link (o0, fx_sink);
  gst_pad_link (fx_src, i0);
  gst_pad_link (o1, i1);
  g_object_set (osel, "active-pad", o1, NULL);
  g_object_set (isel, "active-pad", i1, NULL);
  gst_object_unref (fx_sink);
  gst_object_unref (fx_src);
  gst_object_unref (o0);
  gst_object_unref (o1);
  gst_object_unref (i0);
  gst_object_unref (i1);
  return isel;
}

/**
 * drtc_effect_bin_new:
 *
 * Returns: (transfer floating): a bin with "sink" and "src" pads taking and
 *   giving any raw video, neutral until drtc_effect_bin_apply()
 */
GstElement *
drtc_effect_bin_new (const gchar * name)
{
  GstBin *bin = GST_BIN (gst_bin_new (name));
  GstElement *in, *filter, *balance, *tone, *last, *out;
  g_autoptr (GstCaps) rgba = gst_caps_from_string ("video/x-raw,format=RGBA");
  GstPad *pad;

  in = make (bin, "videoconvert", "convert-in");
  filter = make (bin, "capsfilter", NULL);
  balance = make (bin, "videobalance", "balance");
  tone = make (bin, "coloreffects", "tone");
  g_object_set (filter, "caps", rgba, NULL);
  gst_element_link_many (in, filter, balance, tone, NULL);
  last = add_toggle (bin, tone, "invert", "frei0r-filter-invert0r");
  last = add_toggle (bin, last, "edges", "frei0r-filter-sobel");
  out = make (bin, "videoconvert", "convert-out");
  gst_element_link (last, out);

  pad = gst_element_get_static_pad (in, "sink");
  gst_element_add_pad (GST_ELEMENT (bin), gst_ghost_pad_new ("sink", pad));
  gst_object_unref (pad);
  pad = gst_element_get_static_pad (out, "src");
  gst_element_add_pad (GST_ELEMENT (bin), gst_ghost_pad_new ("src", pad));
  gst_object_unref (pad);
  return GST_ELEMENT (bin);
}

static void
set_toggle (GstBin * bin, const gchar * name, gboolean on)
{
  g_autofree gchar *out_name = g_strconcat (name, "-out", NULL);
  g_autofree gchar *in_name = g_strconcat (name, "-in", NULL);
  g_autoptr (GstElement) osel = gst_bin_get_by_name (bin, out_name);
  g_autoptr (GstElement) isel = gst_bin_get_by_name (bin, in_name);
  g_autoptr (GstPad) opad = NULL;
  g_autoptr (GstPad) ipad = NULL;

  if (!osel || !isel)
    return;
  opad = gst_element_get_static_pad (osel, on ? "src_0" : "src_1");
  ipad = gst_element_get_static_pad (isel, on ? "sink_0" : "sink_1");
  /* downstream first, so no buffer reaches a pad that is not active yet */
  g_object_set (isel, "active-pad", ipad, NULL);
  g_object_set (osel, "active-pad", opad, NULL);
}

/**
 * drtc_effect_bin_apply:
 *
 * Takes effect from the next frame; safe while playing, from any thread.
 */
void
drtc_effect_bin_apply (GstElement * bin, const DrtcEffectSettings * s)
{
  g_autoptr (GstElement) balance = gst_bin_get_by_name (GST_BIN (bin),
      "balance");
  g_autoptr (GstElement) tone = gst_bin_get_by_name (GST_BIN (bin), "tone");

  g_object_set (balance, "hue", s->hue, "saturation", s->saturation, NULL);
  gst_util_set_object_arg (G_OBJECT (tone), "preset",
      s->sepia ? "sepia" : "none");
  set_toggle (GST_BIN (bin), "invert", s->invert);
  set_toggle (GST_BIN (bin), "edges", s->edges);
}
