/* daydream-rtc: daydreamcontrol's pipeline config, from its properties
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The base config (a file, the JSON property or the built-in default) with
 * the shortcut properties (prompt, seed, ...) on top, checked against the
 * service's rules before any request is made.
 */
#include "daydreamcontrol-config.h"

#include <string.h>

#include "drtc-daydream.h"
#include "drtc-json.h"
#include "drtc-pipeline-config.h"

void
control_config_init (ControlConfig * config)
{
  memset (config, 0, sizeof (*config));
  config->seed = -1;
  config->delta = -1.0;
}

void
control_config_clear (ControlConfig * config)
{
  g_free (config->json);
  g_free (config->location);
  g_free (config->prompt);
  g_free (config->negative_prompt);
  g_free (config->model_id);
  control_config_init (config);
}

static JsonNode *
load_base (const ControlConfig * config, GError ** error)
{
  JsonNode *base;

  if (config->location)
    return drtc_pipeline_config_load (config->location, error);
  if (config->json)
    return drtc_json_parse (config->json, -1, error);
  base = drtc_daydream_default_config ();
  if (!base)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "unreadable");
  return base;
}

/**
 * control_config_build:
 * @pipeline: (out): the pipeline name
 *
 * Returns: (transfer full) (nullable): the params to send, checked; NULL
 *   with @error set when the config is unreadable or breaks a rule
 */
JsonObject *
control_config_build (const ControlConfig * config, gchar ** pipeline,
    GError ** error)
{
  g_autoptr (JsonNode) base = load_base (config, error);
  g_autoptr (JsonObject) split = NULL;
  g_autoptr (JsonObject) params = NULL;
  JsonObjectIter iter;
  const gchar *name;
  JsonNode *value;

  if (!base || !(split = drtc_pipeline_config_split (base, pipeline, error)))
    return NULL;
  params = json_object_new ();
  json_object_iter_init_ordered (&iter, split);
  while (json_object_iter_next_ordered (&iter, &name, &value))
    json_object_set_member (params, name, json_node_copy (value));
  if (config->prompt)
    json_object_set_string_member (params, "prompt", config->prompt);
  if (config->negative_prompt)
    json_object_set_string_member (params, "negative_prompt",
        config->negative_prompt);
  if (config->model_id)
    json_object_set_string_member (params, "model_id", config->model_id);
  if (config->seed >= 0)
    json_object_set_int_member (params, "seed", config->seed);
  if (config->delta >= 0)
    json_object_set_double_member (params, "delta", config->delta);
  if (!drtc_pipeline_config_validate (*pipeline, params, error))
    return NULL;
  return g_steal_pointer (&params);
}

/* A shortcut property changed: into @params (unset values leave them). */
void
control_config_apply (JsonObject * params, const gchar * member,
    const GValue * value)
{
  if (G_VALUE_HOLDS_STRING (value) && g_value_get_string (value))
    json_object_set_string_member (params, member, g_value_get_string (value));
  else if (G_VALUE_HOLDS_INT64 (value) && g_value_get_int64 (value) >= 0)
    json_object_set_int_member (params, member, g_value_get_int64 (value));
  else if (G_VALUE_HOLDS_DOUBLE (value) && g_value_get_double (value) >= 0)
    json_object_set_double_member (params, member, g_value_get_double (value));
}
