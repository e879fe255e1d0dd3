/* daydream-rtc: small json-glib helpers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Typed getters for untrusted JSON: each returns "absent or wrong type" as
 * FALSE/NULL instead of json-glib's silent 0 (or critical on containers).
 * Parsing is strict and bounded (drtc-json-scan.c); what we write is always
 * JSON, whatever doubles the tree holds.
 */
#include "drtc-json.h"

#include <math.h>
#include <string.h>

/**
 * drtc_json_parse_limited:
 * @limits: (nullable): see drtc_json_scan(); NULL: the defaults
 *
 * Strict RFC 8259 within @limits (drtc_json_scan() runs first), then
 * json-glib.
 *
 * Returns: (transfer full): the root node, or %NULL with @error set (a
 *   DRTC_JSON_SCAN_ERROR for text that is not strict JSON or too big)
 */
JsonNode *
drtc_json_parse_limited (const gchar * data, gssize length,
    const DrtcJsonLimits * limits, GError ** error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len = length < 0 ? (data ? strlen (data) : 0) : (gsize) length;
  JsonNode *root;

  if (!drtc_json_scan (data ? data : "", len, limits, error))
    return NULL;
  if (!json_parser_load_from_data (parser, data, len, error))
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
 * drtc_json_parse:
 *
 * drtc_json_parse_limited() with the default limits.
 *
 * Returns: (transfer full): the root node, or %NULL with @error set
 */
JsonNode *
drtc_json_parse (const gchar * data, gssize length, GError ** error)
{
  return drtc_json_parse_limited (data, length, NULL, error);
}

/* json-glib 1.6 writes a double as "%.17g" and appends ".0" when there is
 * no '.': 1e+20 becomes "1e+20.0", infinity "inf.0", neither of them JSON.
 * TRUE when @node holds such a double anywhere. */
static gboolean
has_bad_double (JsonNode * node)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (JSON_NODE_HOLDS_OBJECT (node) || JSON_NODE_HOLDS_ARRAY (node)) {
    g_autoptr (GList) values = JSON_NODE_HOLDS_OBJECT (node) ?
        json_object_get_values (json_node_get_object (node)) :
        json_array_get_elements (json_node_get_array (node));

    for (GList * l = values; l; l = l->next)
      if (has_bad_double (l->data))
        return TRUE;
    return FALSE;
  }
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_DOUBLE)
    return FALSE;
  if (!isfinite (json_node_get_double (node)))
    return TRUE;
  g_ascii_dtostr (buf, sizeof buf, json_node_get_double (node));
  return !strchr (buf, '.') && strchr (buf, 'e');
}

/* Rewrites the numbers has_bad_double() finds in json-glib's text:
 * "1e+20.0" -> "1e+20", "inf.0", "-inf.0", "nan.0" -> null. */
static gchar *
fix_doubles (gchar * text)
{
  GString *out = g_string_sized_new (strlen (text));
  gboolean in_string = FALSE;

  for (const gchar * p = text; *p;) {
    const gchar *end = p;
    gsize n;

    if (in_string || *p == '"') {
      if (in_string && *p == '\\' && p[1])
        g_string_append_c (out, *p++);
      else if (*p == '"')
        in_string = !in_string;
      g_string_append_c (out, *p++);
      continue;
    }
    while (g_ascii_isalnum (*end) || *end == '.' || *end == '+' || *end == '-')
      end++;
    if (end == p) {
      g_string_append_c (out, *p++);
      continue;
    }
    n = end - p;
    if (g_str_has_prefix (p, "inf") || g_str_has_prefix (p, "-inf")
        || g_str_has_prefix (p, "nan") || g_str_has_prefix (p, "-nan"))
      g_string_append (out, "null");
    else if (n > 2 && p[n - 2] == '.' && p[n - 1] == '0'
        && memchr (p, 'e', n) && !memchr (p, '.', n - 2))
      g_string_append_len (out, p, n - 2);
    else
      g_string_append_len (out, p, n);
    p = end;
  }
  g_free (text);
  return g_string_free (out, FALSE);
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
  gchar *text;

  json_generator_set_root (gen, node);
  json_generator_set_pretty (gen, pretty);
  json_generator_set_indent (gen, 2);
  text = json_generator_to_data (gen, NULL);
  return node && has_bad_double (node) ? fix_doubles (text) : text;
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

/* Member writers for the object @b is building: name and value in one
 * call, so an answer's members read one a line. A NULL string is null. */
void
drtc_json_builder_add_string (JsonBuilder * b, const gchar * member,
    const gchar * value)
{
  json_builder_set_member_name (b, member);
  if (value)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

void
drtc_json_builder_add_int (JsonBuilder * b, const gchar * member, gint64 value)
{
  json_builder_set_member_name (b, member);
  json_builder_add_int_value (b, value);
}

void
drtc_json_builder_add_double (JsonBuilder * b, const gchar * member,
    gdouble value)
{
  json_builder_set_member_name (b, member);
  json_builder_add_double_value (b, value);
}

void
drtc_json_builder_add_boolean (JsonBuilder * b, const gchar * member,
    gboolean value)
{
  json_builder_set_member_name (b, member);
  json_builder_add_boolean_value (b, value);
}
