/* daydream-rtc: daydreamcontrol's pipeline config, from its properties
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The properties that make the pipeline config (the element's lock
 * guards them). */
typedef struct
{
  gchar *json;                  /* pipeline-config */
  gchar *location;              /* pipeline-config-location (wins) */
  gchar *prompt, *negative_prompt, *model_id;
  gint64 seed;                  /* -1: as the config says */
  gdouble delta;                /* < 0: as the config says */
} ControlConfig;

void control_config_init (ControlConfig * config);
void control_config_clear (ControlConfig * config);
JsonObject *control_config_build (const ControlConfig * config,
    gchar ** pipeline, GError ** error);
void control_config_apply (JsonObject * params, const gchar * member,
    const GValue * value);

G_END_DECLS
