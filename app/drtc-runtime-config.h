/* daydream-rtc serve: runtime config and files in the settings folder
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define DRTC_RUNTIME_CONFIG_FILE "rtc_runtime_config.json"
#define DRTC_PIPELINE_CACHE_FILE "pipeline_cache.json"
#define DRTC_DEFAULT_STREAM "default"

typedef struct
{
  gint frame_rate;
  gint frame_width;
  gint frame_height;
} DrtcRuntimeConfig;

#define DRTC_RUNTIME_CONFIG_DEFAULT { 30, 1280, 720 }

gchar *drtc_runtime_config_path (const gchar * dir, const gchar * stream);
void drtc_runtime_config_load (const gchar * dir, const gchar * stream,
    DrtcRuntimeConfig * config);
gboolean drtc_runtime_config_save (const gchar * dir, const gchar * stream,
    const DrtcRuntimeConfig * config, GError ** error);
void drtc_runtime_config_clamp (DrtcRuntimeConfig * config);
void drtc_runtime_config_add_members (const DrtcRuntimeConfig * config,
    JsonBuilder * builder);

gboolean drtc_write_json_atomic (const gchar * path, JsonNode * node,
    gboolean pretty, gint mode, GError ** error);

G_END_DECLS
