/* daydream-rtc: small json-glib helpers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Typed getters for untrusted JSON: each returns "absent or wrong type" as
 * FALSE/NULL instead of json-glib's silent 0 (or critical on containers).
 */
#include "drtc-json.h"

#include <math.h>

/**
 * drtc_json_parse:
 *
 * Returns: (transfer full): the root node, or %NULL with @error set
 */
JsonNode *
drtc_json_parse (const gchar * data, gssize length, GError ** error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (!json_parser_load_from_data (parser, data ? data : "", length, error))
    return NULL;
  root = json_parser_get_root (parser);
  if (!root) {
    g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
        "empty JSON document");
    return NULL;
  }
  return json_node_copy (root);
}

/**
 * drtc_json_to_string:
 *
 * Returns: (transfer full): @node serialised
 */
gchar *
drtc_json_to_string (JsonNode * node, gboolean pretty)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();

  json_generator_set_root (gen, node);
  json_generator_set_pretty (gen, pretty);
  json_generator_set_indent (gen, 2);
  return json_generator_to_data (gen, NULL);
}

/* TRUE when @member holds a value of @value_type (G_TYPE_STRING,
 * G_TYPE_BOOLEAN, G_TYPE_INT64, G_TYPE_DOUBLE). */
gboolean
drtc_json_member_is (JsonObject * object, const gchar * member,
    GType value_type)
{
  JsonNode *node = json_object_get_member (object, member);

  return node && JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == value_type;
}

const gchar *
drtc_json_get_string (JsonObject * object, const gchar * member)
{
  if (!drtc_json_member_is (object, member, G_TYPE_STRING))
    return NULL;
  return json_object_get_string_member (object, member);
}

gboolean
drtc_json_get_number (JsonObject * object, const gchar * member,
    gdouble * value)
{
  JsonNode *node = json_object_get_member (object, member);

  if (!node || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    *value = json_node_get_int (node);
  else if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    *value = json_node_get_double (node);
  else
    return FALSE;
  return TRUE;
}

/* Integers, and floats with no fraction (512.0). */
gboolean
drtc_json_get_int (JsonObject * object, const gchar * member, gint64 * value)
{
  gdouble d;

  if (drtc_json_member_is (object, member, G_TYPE_INT64)) {
    *value = json_object_get_int_member (object, member);
    return TRUE;
  }
  if (!drtc_json_get_number (object, member, &d) || d != floor (d)
      || fabs (d) > 9007199254740992.0)
    return FALSE;
  *value = (gint64) d;
  return TRUE;
}
