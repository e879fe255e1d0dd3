/* daydream-rtc: the gateway's stand-in for the diffusion model
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct
{
  gdouble strength;             /* params.delta, clamped to 0..1 */
  gdouble hue;                  /* videobalance hue, -1..1 */
  gdouble saturation;           /* videobalance saturation, 0..2 */
  gboolean sepia;
  gboolean invert;
  gboolean edges;
} DrtcEffectSettings;

void drtc_effect_settings_from_params (JsonObject * params,
    DrtcEffectSettings * settings);
gchar *drtc_effect_settings_describe (const DrtcEffectSettings * settings);

GstElement *drtc_effect_bin_new (const gchar * name);
void drtc_effect_bin_apply (GstElement * bin,
    const DrtcEffectSettings * settings);

G_END_DECLS
