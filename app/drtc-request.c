/* daydream-rtc serve: reading request bodies the way the reference tool's
 * clients expect (FastAPI/pydantic rules, 422 list errors)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Integers: JSON integers, integral floats (30.0) and numeric strings
 * ("30"); strings: not null, not numbers; objects: not arrays or strings.
 * Every problem becomes one item of {"detail": [{"type", "loc", "msg",
 * "input"}, ...]}, answered with 422, as FastAPI does; "input" shows a
 * bounded part of what was sent. Bodies are strict JSON, and bounded.
 */
#include "drtc-request.h"
#include "drtc-http-util.h"
#include "drtc-json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ECHO_STRING 64      /* characters of a string echoed back */
#define MAX_ECHO_JSON 256       /* bytes of an array or object echoed */

struct _DrtcRequest
{
  JsonNode *root;
  JsonObject *object;
  JsonBuilder *problems;
  guint n_problems;
  gchar *too_large;             /* the 413 detail, else NULL */
  gboolean unreadable;          /* no JSON: one problem, no field ones */
};

/* (transfer full): what a problem shows of the input: never more than a
 * few hundred bytes of it (the body may be megabytes), and never a number
 * json-glib would print as something other than JSON (drtc_json_to_string
 * takes care of those). */
static JsonNode *
echo_input (JsonNode * input)
{
  if (JSON_NODE_HOLDS_VALUE (input)
      && json_node_get_value_type (input) == G_TYPE_STRING) {
    const gchar *str = json_node_get_string (input);
    g_autofree gchar *cut = NULL;

    if (g_utf8_strlen (str, MAX_ECHO_STRING + 1) <= MAX_ECHO_STRING)
      return json_node_copy (input);
    cut = g_utf8_substring (str, 0, MAX_ECHO_STRING);
    return json_node_init_string (json_node_alloc (), cut);
  }
  if (JSON_NODE_HOLDS_OBJECT (input) || JSON_NODE_HOLDS_ARRAY (input)) {
    g_autofree gchar *text = drtc_json_to_string (input, FALSE);

    if (strlen (text) > MAX_ECHO_JSON)
      return json_node_init_null (json_node_alloc ());
  }
  return json_node_copy (input);
}

static void
add_problem (DrtcRequest * req, const gchar * type, const gchar * field,
    gint loc_index, const gchar * msg, JsonNode * input)
{
  JsonBuilder *b = req->problems;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  json_builder_set_member_name (b, "loc");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, "body");
  if (field)
    json_builder_add_string_value (b, field);
  else if (loc_index >= 0)
    json_builder_add_int_value (b, loc_index);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "msg");
  json_builder_add_string_value (b, msg);
  json_builder_set_member_name (b, "input");
  if (input)
    json_builder_add_value (b, echo_input (input));
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  req->n_problems++;
}

void
drtc_request_problem (DrtcRequest * req, const gchar * type,
    const gchar * field, const gchar * msg)
{
  JsonNode *input = field && req->object ?
      json_object_get_member (req->object, field) : NULL;

  add_problem (req, type, field, -1, msg, input);
}

/* A body that is not strict JSON, or passes a limit: one problem (422),
 * or the 413 detail when the body is too long. */
static void
add_scan_problem (DrtcRequest * req, const GError * err)
{
  g_autofree gchar *msg = NULL;

  if (g_error_matches (err, DRTC_JSON_SCAN_ERROR, DRTC_JSON_SCAN_ERROR_SIZE)) {
    req->too_large = g_strdup_printf ("request body: %s", err->message);
    req->n_problems++;
    return;
  }
  if (err->domain == DRTC_JSON_SCAN_ERROR
      && (err->code == DRTC_JSON_SCAN_ERROR_DEPTH
          || err->code == DRTC_JSON_SCAN_ERROR_STRING)) {
    add_problem (req, err->code == DRTC_JSON_SCAN_ERROR_DEPTH ?
        "json_too_deep" : "string_too_long", NULL, -1, err->message, NULL);
    return;
  }
  msg = g_strdup_printf ("JSON decode error: %s", err->message);
  add_problem (req, "json_invalid", NULL, 0, msg, NULL);
}

/**
 * drtc_request_new_from_bytes:
 * @data: (array length=len): a request body, from the network
 * @body_required: an absent body is a problem (FastAPI: "missing")
 * @limits: (nullable): size, depth and string bounds (drtc_json_scan())
 *
 * The body must be strict JSON (RFC 8259: no single quotes, no duplicate
 * member names) within @limits, checked before json-glib parses it.
 */
DrtcRequest *
drtc_request_new_from_bytes (const gchar * data, gsize len,
    gboolean body_required, const DrtcJsonLimits * limits)
{
  DrtcRequest *req = g_new0 (DrtcRequest, 1);
  g_autoptr (GError) err = NULL;

  req->problems = json_builder_new ();
  json_builder_begin_array (req->problems);
  if (len == 0) {
    if (body_required)
      add_problem (req, "missing", NULL, -1, "Field required", NULL);
    req->unreadable = body_required;
    req->object = json_object_new ();
    return req;
  }
  req->root = drtc_json_parse_limited (data, len, limits, &err);
  if (!req->root) {
    add_scan_problem (req, err);
    req->unreadable = TRUE;
    req->object = json_object_new ();
  } else if (!JSON_NODE_HOLDS_OBJECT (req->root)) {
    add_problem (req, "model_attributes_type", NULL, -1,
        "Input should be a valid dictionary or object to extract fields "
        "from", req->root);
    req->object = json_object_new ();
  } else {
    req->object = json_object_ref (json_node_get_object (req->root));
  }
  return req;
}

/**
 * drtc_request_new_limited:
 *
 * drtc_request_new_from_bytes() of the body of @msg.
 */
DrtcRequest *
drtc_request_new_limited (SoupServerMessage * msg, gboolean body_required,
    const DrtcJsonLimits * limits)
{
  g_autoptr (GBytes) body = drtc_http_request_body (msg);
  gsize len = 0;
  const gchar *data = g_bytes_get_data (body, &len);

  return drtc_request_new_from_bytes (data, len, body_required, limits);
}

/* drtc_request_new_limited() with the default limits (1 MiB, 64 levels,
 * strings of 64 KiB) */
DrtcRequest *
drtc_request_new (SoupServerMessage * msg, gboolean body_required)
{
  return drtc_request_new_limited (msg, body_required, NULL);
}

void
drtc_request_free (DrtcRequest * req)
{
  if (!req)
    return;
  g_clear_pointer (&req->root, json_node_unref);
  g_clear_pointer (&req->object, json_object_unref);
  g_clear_object (&req->problems);
  g_free (req->too_large);
  g_free (req);
}

JsonObject *
drtc_request_object (DrtcRequest * req)
{
  return req->object;
}

gboolean
drtc_request_ok (DrtcRequest * req)
{
  return req->n_problems == 0;
}

/* The status for the problems: 413 for a body over the limit, else 422. */
guint
drtc_request_status (DrtcRequest * req)
{
  return req->too_large ? SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE :
      SOUP_STATUS_UNPROCESSABLE_ENTITY;
}

/* (transfer full): {"detail": [...]}, or {"detail": "..."} with 413 */
JsonNode *
drtc_request_errors (DrtcRequest * req)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) list = NULL;

  if (req->too_large)
    return drtc_http_detail_body (req->too_large);
  json_builder_end_array (req->problems);
  list = json_builder_get_root (req->problems);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "detail");
  json_builder_add_value (b, g_steal_pointer (&list));
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static JsonNode *
member (DrtcRequest * req, const gchar * field, gboolean required,
    gboolean nullable, gboolean * ok)
{
  JsonNode *node = json_object_get_member (req->object, field);

  *ok = !req->unreadable;
  if (req->unreadable)
    return NULL;
  if (!node) {
    if (required) {
      add_problem (req, "missing", field, -1, "Field required", NULL);
      *ok = FALSE;
    }
    return NULL;
  }
  if (JSON_NODE_HOLDS_NULL (node)) {
    if (!nullable) {
      drtc_request_problem (req, "missing", field, "Field required");
      *ok = FALSE;
    }
    return NULL;
  }
  return node;
}

gboolean
drtc_request_int (DrtcRequest * req, const gchar * field, gboolean required,
    gboolean nullable, gint64 * value)
{
  gboolean ok;
  JsonNode *node = member (req, field, required, nullable, &ok);
  GType t;

  if (!node)
    return FALSE;
  t = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : 0;
  if (t == G_TYPE_INT64) {
    *value = json_node_get_int (node);
    return TRUE;
  }
  if (t == G_TYPE_DOUBLE) {
    gdouble d = json_node_get_double (node);

    if (d == floor (d) && fabs (d) < 9e15) {
      *value = (gint64) d;
      return TRUE;
    }
    drtc_request_problem (req, "int_from_float", field,
        "Input should be a valid integer, got a number with a fractional "
        "part");
    return FALSE;
  }
  if (t == G_TYPE_STRING) {
    const gchar *s = json_node_get_string (node);
    gchar *end = NULL;
    gint64 v;

    while (g_ascii_isspace (*s))
      s++;
    v = g_ascii_strtoll (s, &end, 10);
    while (end && g_ascii_isspace (*end))
      end++;
    if (*s && end && !*end) {
      *value = v;
      return TRUE;
    }
  }
  drtc_request_problem (req, "int_parsing", field,
      "Input should be a valid integer, unable to parse string as an "
      "integer");
  return FALSE;
}

gboolean
drtc_request_string (DrtcRequest * req, const gchar * field,
    gboolean required, const gchar ** value)
{
  gboolean ok;
  JsonNode *node = json_object_get_member (req->object, field);

  if (node && JSON_NODE_HOLDS_NULL (node)) {
    drtc_request_problem (req, "string_type", field,
        "Input should be a valid string");
    return FALSE;
  }
  node = member (req, field, required, FALSE, &ok);
  if (!node)
    return FALSE;
  if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING) {
    *value = json_node_get_string (node);
    return TRUE;
  }
  drtc_request_problem (req, "string_type", field,
      "Input should be a valid string");
  return FALSE;
}

gboolean
drtc_request_object_field (DrtcRequest * req, const gchar * field,
    gboolean required, gboolean nullable, JsonNode ** value)
{
  gboolean ok;
  JsonNode *node = member (req, field, required, nullable, &ok);

  if (!node)
    return FALSE;
  if (JSON_NODE_HOLDS_OBJECT (node)) {
    *value = node;
    return TRUE;
  }
  drtc_request_problem (req, "dict_type", field,
      "Input should be a valid dictionary");
  return FALSE;
}

void
drtc_request_range (DrtcRequest * req, const gchar * field, gint64 value,
    gint64 min, gint64 max)
{
  g_autofree gchar *msg = NULL;

  if (value >= min && value <= max)
    return;
  msg = g_strdup_printf ("Input should be %s %" G_GINT64_FORMAT,
      value < min ? "greater than or equal to" : "less than or equal to",
      value < min ? min : max);
  drtc_request_problem (req, value < min ? "greater_than_equal" :
      "less_than_equal", field, msg);
}

/* An optional integer in [@min, @max] (@even: a multiple of 2), into
 * @out when it is one. */
void
drtc_request_size (DrtcRequest * req, const gchar * field, gint64 min,
    gint64 max, gboolean even, gint * out)
{
  gint64 v;

  if (!drtc_request_int (req, field, FALSE, TRUE, &v))
    return;
  drtc_request_range (req, field, v, min, max);
  if (even && v % 2)
    drtc_request_problem (req, "multiple_of", field,
        "Input should be a multiple of 2 (4:2:0 video)");
  if (v >= min && v <= max && (!even || v % 2 == 0))
    *out = (gint) v;
}

/* An optional string that must be one of @choices (static strings); @out
 * gets the static copy. */
void
drtc_request_enum (DrtcRequest * req, const gchar * field,
    const gchar * const *choices, const gchar ** out)
{
  const gchar *given = NULL;
  g_autoptr (GString) msg = NULL;

  if (!json_object_has_member (req->object, field)
      || !drtc_request_string (req, field, FALSE, &given))
    return;
  for (guint i = 0; choices[i]; i++) {
    if (g_str_equal (given, choices[i])) {
      *out = choices[i];
      return;
    }
  }
  msg = g_string_new ("Input should be ");
  for (guint i = 0; choices[i]; i++)
    g_string_append_printf (msg, "%s'%s'", i == 0 ? "" : choices[i + 1] ?
        ", " : " or ", choices[i]);
  drtc_request_problem (req, "enum", field, msg->str);
}
