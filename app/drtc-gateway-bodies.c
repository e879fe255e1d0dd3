/* daydream-rtc gateway: what the bodies of /v1/streams must hold
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * From the bytes of a POST or PATCH to the values the gateway keeps, or a
 * GError whose code is the status to answer (400, 413, 422) and whose
 * message is the error to send: no message, no state, so that
 * tests/fuzz/fuzz-json-body.c runs them as the routes do.
 */
#include "drtc-gateway-bodies.h"
#include "drtc-gateway-private.h"
#include "drtc-json.h"
#include "drtc-pipeline-config.h"

#define MAX_BODY DRTC_GATEWAY_MAX_BODY
#define MAX_STRING (64 * 1024)  /* bytes of one JSON string */
#define MAX_NAME 256            /* characters of a stream's name */

G_DEFINE_QUARK (drtc - gateway - body - error - quark, drtc_gateway_body_error)
/**
 * drtc_gateway_body_object:
 * @data: (array length=len): a request body, from the network
 *
 * Returns: (transfer full) (nullable): the JSON object @data holds, strict
 *   and within the limits (checked before json-glib sees it: it recurses
 *   per level), or NULL with @error set
 */
     JsonObject *drtc_gateway_body_object (const gchar * data, gsize len,
    GError ** error)
{
  static const DrtcJsonLimits limits = { MAX_BODY, 64, MAX_STRING };
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) root = NULL;

  if (len > MAX_BODY) {
    g_set_error (error, DRTC_GATEWAY_BODY_ERROR,
        SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "request body over %d bytes",
        MAX_BODY);
    return NULL;
  }
  root = drtc_json_parse_limited (data, len, &limits, &err);
  if (!root) {
    gboolean bound = g_error_matches (err, DRTC_JSON_SCAN_ERROR,
        DRTC_JSON_SCAN_ERROR_DEPTH) || g_error_matches (err,
        DRTC_JSON_SCAN_ERROR, DRTC_JSON_SCAN_ERROR_STRING);

    g_set_error (error, DRTC_GATEWAY_BODY_ERROR, bound ?
        SOUP_STATUS_UNPROCESSABLE_ENTITY : SOUP_STATUS_BAD_REQUEST,
        "request body is not valid JSON: %s", err->message);
    return NULL;
  }
  if (!JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, DRTC_GATEWAY_BODY_ERROR, SOUP_STATUS_BAD_REQUEST,
        "request body must be a JSON object");
    return NULL;
  }
  return json_object_ref (json_node_get_object (root));
}

/**
 * drtc_gateway_body_name:
 * @name: (out) (transfer none): the name, NULL when none is given
 *
 * The optional name of POST /v1/streams.
 */
gboolean
drtc_gateway_body_name (JsonObject * body, const gchar ** name, GError ** error)
{
  *name = drtc_json_get_string (body, "name");
  if ((json_object_has_member (body, "name") && !*name)
      || (*name && g_utf8_strlen (*name, MAX_NAME + 1) > MAX_NAME)) {
    g_set_error (error, DRTC_GATEWAY_BODY_ERROR,
        SOUP_STATUS_UNPROCESSABLE_ENTITY,
        "name must be a string of at most %d characters", MAX_NAME);
    return FALSE;
  }
  return TRUE;
}

/* Nested values are shared, not copied: params are replaced, never edited
 * in place. */
static void
copy_members (JsonObject * from, JsonObject * to)
{
  JsonObjectIter iter;
  const gchar *name;
  JsonNode *value;

  json_object_iter_init_ordered (&iter, from);
  while (json_object_iter_next_ordered (&iter, &name, &value))
    json_object_set_member (to, name, json_node_copy (value));
}

/**
 * drtc_gateway_body_params:
 * @current_pipeline: (nullable): the stream's, for an update
 * @current: (nullable): the stream's params, for an update: it changes
 *   the members it names and keeps the others
 * @pipeline: (out) (transfer full): the pipeline the params are for
 *
 * The pipeline and params of a create or update body, validated.
 *
 * Returns: (transfer full) (nullable): the params, or NULL with @error set
 */
JsonObject *
drtc_gateway_body_params (JsonObject * body, const gchar * current_pipeline,
    JsonObject * current, gchar ** pipeline, GError ** error)
{
  JsonNode *node = json_object_get_member (body, "params");
  const gchar *given = drtc_json_get_string (body, "pipeline");
  g_autoptr (GError) err = NULL;
  JsonObject *params;

  if (json_object_has_member (body, "pipeline") && !given) {
    g_set_error (error, DRTC_GATEWAY_BODY_ERROR,
        SOUP_STATUS_UNPROCESSABLE_ENTITY, "pipeline must be a string");
    return NULL;
  }
  if (!node || !JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error (error, DRTC_GATEWAY_BODY_ERROR,
        SOUP_STATUS_UNPROCESSABLE_ENTITY, "params must be an object");
    return NULL;
  }
  params = json_object_new ();
  if (current)
    copy_members (current, params);
  copy_members (json_node_get_object (node), params);
  *pipeline = g_strdup (given ? given : current_pipeline ? current_pipeline :
      DRTC_PIPELINE_CONFIG_DEFAULT_PIPELINE);
  if (!drtc_pipeline_config_validate (*pipeline, params, &err)) {
    g_set_error (error, DRTC_GATEWAY_BODY_ERROR,
        SOUP_STATUS_UNPROCESSABLE_ENTITY, "%s", err->message);
    g_clear_pointer (pipeline, g_free);
    json_object_unref (params);
    return NULL;
  }
  return params;
}
