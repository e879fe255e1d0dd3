/* daydream-rtc: Daydream pipeline configuration (spec §4.2, §4.4, §6)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define DRTC_PIPELINE_CONFIG_ERROR (drtc_pipeline_config_error_quark ())

/**
 * DrtcPipelineConfigError:
 * @DRTC_PIPELINE_CONFIG_ERROR_INVALID: the config is well-formed JSON but
 *   breaks a rule; the message names the field (`params.width`, ...)
 * @DRTC_PIPELINE_CONFIG_ERROR_PARSE: the file is not valid JSON (or empty)
 * @DRTC_PIPELINE_CONFIG_ERROR_IO: the file could not be read
 */
typedef enum
{
  DRTC_PIPELINE_CONFIG_ERROR_INVALID,
  DRTC_PIPELINE_CONFIG_ERROR_PARSE,
  DRTC_PIPELINE_CONFIG_ERROR_IO,
} DrtcPipelineConfigError;

/* The only pipeline Daydream accepts, and the default one (spec §4.2). */
#define DRTC_PIPELINE_CONFIG_DEFAULT_PIPELINE "streamdiffusion"
/* The only model ControlNets work with (spec §6.3). */
#define DRTC_PIPELINE_CONFIG_CONTROLNET_MODEL "stabilityai/sd-turbo"

GQuark drtc_pipeline_config_error_quark (void);

/**
 * drtc_pipeline_config_split:
 * @config: (transfer none): a pipeline config as given by the user
 * @pipeline: (out) (optional) (transfer full): the pipeline name
 * @error: return location for a #GError
 *
 * Applies the splitting rule of spec §4.2: when @config has a member
 * "params", @pipeline is its "pipeline" string (default "streamdiffusion",
 * a non-string is an error) and the params are its "params" object (a
 * non-object is an error naming "params"); otherwise the whole object is
 * the params and @pipeline is "streamdiffusion". Other top-level members
 * are ignored. A @config that is not a JSON object is an error.
 *
 * Returns: (transfer full) (nullable): a new reference to the params object
 *   inside @config (not a copy), or %NULL with @error set
 *   (%DRTC_PIPELINE_CONFIG_ERROR_INVALID)
 */
JsonObject *drtc_pipeline_config_split (JsonNode *config, gchar **pipeline,
    GError **error);

/**
 * drtc_pipeline_config_validate:
 * @pipeline: the pipeline name, as returned by drtc_pipeline_config_split()
 * @params: (transfer none): the params object
 * @error: return location for a #GError
 *
 * Checks @pipeline and @params against the rules Daydream's
 * StreamDiffusion pipeline imposes (types, ranges, choices, the ControlNet
 * registry of spec §6.3). Absent members are fine (the service fills in
 * defaults) and unknown members are allowed. Untrusted input is fine here.
 *
 * Returns: %TRUE if valid; else %FALSE with @error set
 *   (%DRTC_PIPELINE_CONFIG_ERROR_INVALID) to a message naming the field as
 *   `params.<field>`, what is expected and what was given
 */
gboolean drtc_pipeline_config_validate (const gchar *pipeline,
    JsonObject *params, GError **error);

/**
 * drtc_pipeline_config_load:
 * @path: (type filename): the file to read
 * @error: return location for a #GError
 *
 * Reads and parses a JSON file. Does not split or validate it.
 *
 * Returns: (transfer full) (nullable): the root node, or %NULL with @error
 *   set (%DRTC_PIPELINE_CONFIG_ERROR_IO or %DRTC_PIPELINE_CONFIG_ERROR_PARSE,
 *   naming @path, with line and column for parse errors)
 */
JsonNode *drtc_pipeline_config_load (const gchar *path, GError **error);

/**
 * drtc_pipeline_config_merge:
 * @base: (transfer none): a pipeline config
 * @overrides: (transfer none): a pipeline config holding the members to
 *   replace, e.g. `{"prompt": "a cat"}`
 *
 * Splits both configs (drtc_pipeline_config_split()) and replaces each
 * member of @base's params by @overrides' member of the same name (shallow:
 * an override of "controlnets" replaces the whole array). The pipeline is
 * @overrides' "pipeline" when @overrides has both "params" and a "pipeline"
 * member, else @base's. Neither input is modified or validated.
 *
 * Returns: (transfer full) (nullable): a new, deep-copied config in the
 *   canonical shape `{"pipeline": ..., "params": {...}}` (other top-level
 *   members of @base are dropped), or %NULL when either config cannot be
 *   split (callers are expected to have split @base before)
 */
JsonNode *drtc_pipeline_config_merge (JsonNode *base, JsonNode *overrides);

/**
 * drtc_pipeline_config_diff:
 * @old_params: (transfer none): the params sent before
 * @new_params: (transfer none): the params to send now
 *
 * Collects the members of @new_params that are absent from @old_params or
 * whose value differs (json_node_equal(): numbers compare by value, so 1 and
 * 1.0 are equal; objects compare regardless of member order). Members that
 * only @old_params has are not reported.
 *
 * Returns: (transfer full): a new object holding deep copies of the changed
 *   members, in @new_params' order; empty when nothing changed
 */
JsonObject *drtc_pipeline_config_diff (JsonObject *old_params,
    JsonObject *new_params);

G_END_DECLS
