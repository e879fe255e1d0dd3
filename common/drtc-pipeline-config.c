/* daydream-rtc: Daydream pipeline configuration (spec §4.2, §4.4, §6)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Configs come from users (files, REST bodies, ComfyUI nodes), so every
 * member is read through json_object_get_member() and its node type checked
 * before use; nothing here may reach a g_critical on bad input. Validation
 * is table-driven for plain members; prompt, seed, t_index_list, lora_dict,
 * controlnets and ip_adapter have their own checks.
 */

#include "drtc-pipeline-config.h"

#include <math.h>
#include <string.h>

/* *INDENT-OFF* */
G_DEFINE_QUARK (drtc-pipeline-config-error-quark, drtc_pipeline_config_error);
/* *INDENT-ON* */

#define SEED_MAX 4294967295.0
#define MAX_T_INDEX 4
#define MAX_CONTROLNETS 5
#define DEFAULT_INFERENCE_STEPS 50
#define SHOWN_VALUE_CHARS 60

typedef enum
{
  RULE_STRING,
  RULE_NONEMPTY_STRING,
  RULE_CHOICE,
  RULE_BOOLEAN,
  RULE_INTEGER,
  RULE_NUMBER,
  RULE_OBJECT,
} RuleKind;

typedef struct
{
  const gchar *name;
  RuleKind kind;
  gdouble min, max;             /* RULE_INTEGER, RULE_NUMBER: inclusive */
  gint multiple;                /* RULE_INTEGER: 0 for any */
  const gchar *const *choices;  /* RULE_CHOICE */
  const gchar *expected;        /* for the message; choices are listed */
} Rule;

static const gchar *const interpolation_methods[] = { "linear", "slerp", NULL };
static const gchar *const accelerations[] =
    { "none", "xformers", "sfast", "tensorrt", NULL };
static const gchar *const ip_adapter_types[] = { "regular", "faceid", NULL };
static const gchar *const ip_adapter_weight_types[] =
    { "linear", "ease_in", "ease_out", "ease_in_out", NULL };

#define STRING_RULE(n) { n, RULE_STRING, 0, 0, 0, NULL, "a string" }
#define BOOLEAN_RULE(n) { n, RULE_BOOLEAN, 0, 0, 0, NULL, "a boolean" }
#define CHOICE_RULE(n, c) { n, RULE_CHOICE, 0, 0, 0, c, NULL }
#define NUMBER_RULE(n, lo, hi, text) { n, RULE_NUMBER, lo, hi, 0, NULL, text }
#define INTEGER_RULE(n, lo, hi, m, text) \
  { n, RULE_INTEGER, lo, hi, m, NULL, text }

/* Plain members of params; the others are checked by check_* below. */
static const Rule param_rules[] = {
  {"model_id", RULE_NONEMPTY_STRING, 0, 0, 0, NULL, "a non-empty string"},
  STRING_RULE ("negative_prompt"),
  INTEGER_RULE ("width", 384, 1024, 64,
      "a multiple of 64 between 384 and 1024"),
  INTEGER_RULE ("height", 384, 1024, 64,
      "a multiple of 64 between 384 and 1024"),
  INTEGER_RULE ("num_inference_steps", 1, 100, 0,
      "an integer between 1 and 100"),
  NUMBER_RULE ("guidance_scale", 0, 20, "a number between 0 and 20"),
  NUMBER_RULE ("delta", 0, 1, "a number between 0 and 1"),
  CHOICE_RULE ("prompt_interpolation_method", interpolation_methods),
  CHOICE_RULE ("seed_interpolation_method", interpolation_methods),
  CHOICE_RULE ("acceleration", accelerations),
  STRING_RULE ("lcm_lora_id"),
  BOOLEAN_RULE ("use_lcm_lora"),
  BOOLEAN_RULE ("do_add_noise"),
  BOOLEAN_RULE ("use_denoising_batch"),
  BOOLEAN_RULE ("normalize_prompt_weights"),
  BOOLEAN_RULE ("normalize_seed_weights"),
  BOOLEAN_RULE ("use_safety_checker"),
  BOOLEAN_RULE ("enable_similar_image_filter"),
  NUMBER_RULE ("similar_image_filter_threshold", 0, 1,
      "a number between 0 and 1"),
  INTEGER_RULE ("similar_image_filter_max_skip_frame", 0, G_MAXDOUBLE, 0,
      "an integer >= 0"),
  STRING_RULE ("ip_adapter_style_image_url"),
};

/* Members of each controlnets[] entry besides model_id and preprocessor. */
static const Rule controlnet_rules[] = {
  BOOLEAN_RULE ("enabled"),
  NUMBER_RULE ("conditioning_scale", 0, 2, "a number between 0 and 2"),
  NUMBER_RULE ("control_guidance_start", 0, 1, "a number between 0 and 1"),
  NUMBER_RULE ("control_guidance_end", 0, 1, "a number between 0 and 1"),
  {"preprocessor_params", RULE_OBJECT, 0, 0, 0, NULL, "an object"},
};

static const Rule ip_adapter_rules[] = {
  BOOLEAN_RULE ("enabled"),
  CHOICE_RULE ("type", ip_adapter_types),
  NUMBER_RULE ("scale", 0, 2, "a number between 0 and 2"),
  CHOICE_RULE ("weight_type", ip_adapter_weight_types),
};

/* Spec §6.3: each ControlNet allows exactly one preprocessor, the one at
 * the same index. */
static const gchar *const controlnet_models[] = {
  "thibaud/controlnet-sd21-openpose-diffusers",
  "thibaud/controlnet-sd21-hed-diffusers",
  "thibaud/controlnet-sd21-canny-diffusers",
  "thibaud/controlnet-sd21-depth-diffusers",
  "thibaud/controlnet-sd21-color-diffusers",
  NULL
};

static const gchar *const controlnet_preprocessors[] = {
  "pose_tensorrt", "soft_edge", "canny", "depth_tensorrt", "passthrough", NULL
};

static const gchar *
node_string (JsonNode * node)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static JsonObject *
node_object (JsonNode * node)
{
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  return json_node_get_object (node);
}

static JsonArray *
node_array (JsonNode * node)
{
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  return json_node_get_array (node);
}

/* JSON integers and floats alike; json-glib turns 1e400 into inf. */
static gboolean
node_number (JsonNode * node, gdouble * value)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    *value = (gdouble) json_node_get_int (node);
  else if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    *value = json_node_get_double (node);
  else
    return FALSE;
  return isfinite (*value);
}

static gboolean
node_number_in (JsonNode * node, gdouble min, gdouble max)
{
  gdouble value;

  return node_number (node, &value) && value >= min && value <= max;
}

/* Integral floats (512.0) count as integers: JSON does not tell them apart
 * and Python's json.dumps of a float-typed widget value writes them. */
static gboolean
node_integer_in (JsonNode * node, gdouble min, gdouble max, gint multiple)
{
  gdouble value;

  return node_number (node, &value) && value == floor (value)
      && value >= min && value <= max
      && (multiple <= 1 || fmod (value, multiple) == 0);
}

/* What the user gave, short enough for a one-line message. */
static gchar *
describe_node (JsonNode * node)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_autofree gchar *text = NULL;
  gdouble value;

  if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_DOUBLE) {
    /* Shortest form that reads back the same: 0.7, not 0.69999999999999996. */
    value = json_node_get_double (node);
    g_ascii_formatd (buf, sizeof buf, "%.15g", value);
    if (g_ascii_strtod (buf, NULL) != value)
      g_ascii_formatd (buf, sizeof buf, "%.17g", value);
    return g_strdup (buf);
  }
  text = json_to_string (node, FALSE);
  if (g_utf8_strlen (text, -1) <= SHOWN_VALUE_CHARS)
    return g_steal_pointer (&text);
  g_autofree gchar *head = g_utf8_substring (text, 0, SHOWN_VALUE_CHARS - 3);
  return g_strconcat (head, "...", NULL);
}

static gchar *
describe_choices (const gchar * const *choices)
{
  GString *text = g_string_new ("one of");

  for (gsize i = 0; choices[i] != NULL; i++)
    g_string_append_printf (text, "%s \"%s\"", i ? "," : "", choices[i]);
  return g_string_free (text, FALSE);
}

static gboolean
set_error (GError ** error, const gchar * format, ...)
G_GNUC_PRINTF (2, 3);

/* Returns FALSE, so checks can end with "return set_error (...)". */
     static gboolean set_error (GError ** error, const gchar * format, ...)
{
  g_autofree gchar *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, DRTC_PIPELINE_CONFIG_ERROR,
      DRTC_PIPELINE_CONFIG_ERROR_INVALID, message);
  return FALSE;
}

/* "<path> must be <expected> (got <value>)"; @got is %NULL when absent. */
static gboolean
set_field_error (GError ** error, const gchar * path, const gchar * expected,
    JsonNode * got)
{
  g_autofree gchar *shown = got ? describe_node (got) : NULL;

  if (shown == NULL)
    return set_error (error, "%s must be %s (missing)", path, expected);
  return set_error (error, "%s must be %s (got %s)", path, expected, shown);
}

static gboolean
rule_matches (const Rule * rule, JsonNode * node)
{
  const gchar *text;

  switch (rule->kind) {
    case RULE_STRING:
      return node_string (node) != NULL;
    case RULE_NONEMPTY_STRING:
      text = node_string (node);
      return text != NULL && *text != '\0';
    case RULE_CHOICE:
      text = node_string (node);
      return text != NULL && g_strv_contains (rule->choices, text);
    case RULE_BOOLEAN:
      return JSON_NODE_HOLDS_VALUE (node)
          && json_node_get_value_type (node) == G_TYPE_BOOLEAN;
    case RULE_INTEGER:
      return node_integer_in (node, rule->min, rule->max, rule->multiple);
    case RULE_NUMBER:
      return node_number_in (node, rule->min, rule->max);
    case RULE_OBJECT:
      return node_object (node) != NULL;
  }
  g_return_val_if_reached (FALSE);
}

static gboolean
check_rules (JsonObject * object, const gchar * prefix, const Rule * rules,
    gsize n_rules, GError ** error)
{
  for (gsize i = 0; i < n_rules; i++) {
    JsonNode *node = json_object_get_member (object, rules[i].name);
    g_autofree gchar *path = NULL;
    g_autofree gchar *expected = NULL;

    if (node == NULL || rule_matches (&rules[i], node))
      continue;
    path = g_strconcat (prefix, ".", rules[i].name, NULL);
    expected = rules[i].choices ? describe_choices (rules[i].choices)
        : g_strdup (rules[i].expected);
    return set_field_error (error, path, expected, node);
  }
  return TRUE;
}

/* prompt and seed lists: non-empty arrays of [key, weight] pairs. */
static gboolean
check_weighted_list (JsonNode * node, const gchar * path, gboolean seeds,
    const gchar * expected, GError ** error)
{
  JsonArray *list = node_array (node);

  if (list == NULL || json_array_get_length (list) == 0)
    return set_field_error (error, path, expected, node);
  for (guint i = 0; i < json_array_get_length (list); i++) {
    JsonNode *entry = json_array_get_element (list, i);
    JsonArray *pair = node_array (entry);
    JsonNode *key, *weight;
    g_autofree gchar *entry_path = NULL;

    if (pair != NULL && json_array_get_length (pair) == 2) {
      key = json_array_get_element (pair, 0);
      weight = json_array_get_element (pair, 1);
      if ((seeds ? node_integer_in (key, 0, SEED_MAX, 0)
              : node_string (key) != NULL) && node_number_in (weight,
              -G_MAXDOUBLE, G_MAXDOUBLE))
        continue;
    }
    entry_path = g_strdup_printf ("%s[%u]", path, i);
    return set_field_error (error, entry_path, seeds ?
        "an [integer between 0 and 4294967295, number] pair" :
        "a [string, number] pair", entry);
  }
  return TRUE;
}

static gboolean
check_prompt (JsonObject * params, GError ** error)
{
  static const gchar expected[] =
      "a non-empty string or a non-empty array of [string, number] pairs";
  JsonNode *node = json_object_get_member (params, "prompt");
  const gchar *text = node_string (node);

  if (node == NULL || (text != NULL && *text != '\0'))
    return TRUE;
  if (text != NULL)
    return set_field_error (error, "params.prompt", expected, node);
  return check_weighted_list (node, "params.prompt", FALSE, expected, error);
}

static gboolean
check_seed (JsonObject * params, GError ** error)
{
  JsonNode *node = json_object_get_member (params, "seed");

  if (node == NULL || node_integer_in (node, 0, SEED_MAX, 0))
    return TRUE;
  return check_weighted_list (node, "params.seed", TRUE,
      "an integer between 0 and 4294967295 or a non-empty array of "
      "[integer, number] pairs", error);
}

/* Runs after param_rules, so num_inference_steps is valid when present. */
static gboolean
check_t_index_list (JsonObject * params, GError ** error)
{
  JsonNode *node = json_object_get_member (params, "t_index_list");
  JsonNode *steps_node;
  JsonArray *list = node_array (node);
  gdouble steps = DEFAULT_INFERENCE_STEPS, previous = -1, value;

  if (node == NULL)
    return TRUE;
  if (list == NULL || json_array_get_length (list) == 0
      || json_array_get_length (list) > MAX_T_INDEX)
    return set_field_error (error, "params.t_index_list",
        "a non-empty array of at most 4 integers", node);
  steps_node = json_object_get_member (params, "num_inference_steps");
  node_number (steps_node, &steps);
  for (guint i = 0; i < json_array_get_length (list); i++) {
    JsonNode *entry = json_array_get_element (list, i);
    g_autofree gchar *path = g_strdup_printf ("params.t_index_list[%u]", i);
    g_autofree gchar *expected = NULL;

    if (!node_integer_in (entry, 0, steps - 1, 0)) {
      expected = g_strdup_printf ("an integer between 0 and %.0f (below %s, "
          "%.0f)", steps - 1, steps_node ? "params.num_inference_steps" :
          "the default num_inference_steps", steps);
      return set_field_error (error, path, expected, entry);
    }
    node_number (entry, &value);
    if (value <= previous) {
      expected = g_strdup_printf ("greater than params.t_index_list[%u] "
          "(the list is strictly ascending)", i - 1);
      return set_field_error (error, path, expected, entry);
    }
    previous = value;
  }
  return TRUE;
}

static gboolean
check_lora_dict (JsonObject * params, GError ** error)
{
  JsonNode *node = json_object_get_member (params, "lora_dict");
  JsonObject *dict = node_object (node);
  g_autoptr (GList) names = NULL;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (dict == NULL)
    return set_field_error (error, "params.lora_dict",
        "null or an object mapping LoRA ids to weights", node);
  names = json_object_get_members (dict);
  for (GList * l = names; l != NULL; l = l->next) {
    JsonNode *weight = json_object_get_member (dict, l->data);
    g_autofree gchar *path = NULL;

    if (node_number_in (weight, -G_MAXDOUBLE, G_MAXDOUBLE))
      continue;
    path = g_strdup_printf ("params.lora_dict.%s", (const gchar *) l->data);
    return set_field_error (error, path, "a number (the LoRA weight)", weight);
  }
  return TRUE;
}

static gint
find_controlnet (const gchar * model_id)
{
  for (gint i = 0; model_id != NULL && controlnet_models[i] != NULL; i++) {
    if (g_str_equal (model_id, controlnet_models[i]))
      return i;
  }
  return -1;
}

static gboolean
check_controlnet_model (JsonObject * entry, const gchar * prefix,
    GError ** error)
{
  JsonNode *model = json_object_get_member (entry, "model_id");
  JsonNode *preprocessor = json_object_get_member (entry, "preprocessor");
  gint index = find_controlnet (node_string (model));
  g_autofree gchar *path = NULL;
  g_autofree gchar *expected = NULL;
  const gchar *allowed;

  if (index < 0) {
    path = g_strconcat (prefix, ".model_id", NULL);
    expected = describe_choices (controlnet_models);
    return set_field_error (error, path, expected, model);
  }
  allowed = controlnet_preprocessors[index];
  if (preprocessor == NULL || g_strcmp0 (node_string (preprocessor),
          allowed) == 0)
    return TRUE;
  path = g_strconcat (prefix, ".preprocessor", NULL);
  expected = g_strdup_printf ("\"%s\" (the only preprocessor for %s)",
      allowed, controlnet_models[index]);
  return set_field_error (error, path, expected, preprocessor);
}

static gboolean
check_controlnet (JsonNode * node, const gchar * prefix, GError ** error)
{
  JsonObject *entry = node_object (node);
  gdouble start = 0, end = 1;

  if (entry == NULL)
    return set_field_error (error, prefix, "a ControlNet object", node);
  if (!check_controlnet_model (entry, prefix, error)
      || !check_rules (entry, prefix, controlnet_rules,
          G_N_ELEMENTS (controlnet_rules), error))
    return FALSE;
  /* Absent bounds default to 0 and 1 (spec §9.7). */
  node_number (json_object_get_member (entry, "control_guidance_start"),
      &start);
  node_number (json_object_get_member (entry, "control_guidance_end"), &end);
  if (start <= end)
    return TRUE;
  return set_error (error, "%s.control_guidance_start must not exceed "
      "%s.control_guidance_end (got %g > %g)", prefix, prefix, start, end);
}

static gboolean
check_controlnets_model (JsonObject * params, GError ** error)
{
  const gchar *model = node_string (json_object_get_member (params,
          "model_id"));

  if (model == NULL
      || g_str_equal (model, DRTC_PIPELINE_CONFIG_CONTROLNET_MODEL))
    return TRUE;
  return set_error (error, "params.controlnets need params.model_id \"%s\" "
      "(got params.model_id \"%s\")", DRTC_PIPELINE_CONFIG_CONTROLNET_MODEL,
      model);
}

static gboolean
check_controlnets (JsonObject * params, GError ** error)
{
  JsonNode *node = json_object_get_member (params, "controlnets");
  JsonArray *list = node_array (node);
  guint n;

  if (node == NULL)
    return TRUE;
  if (list == NULL || json_array_get_length (list) > MAX_CONTROLNETS)
    return set_field_error (error, "params.controlnets",
        "an array of at most 5 ControlNets", node);
  n = json_array_get_length (list);
  if (n > 0 && !check_controlnets_model (params, error))
    return FALSE;
  for (guint i = 0; i < n; i++) {
    g_autofree gchar *prefix = g_strdup_printf ("params.controlnets[%u]", i);
    const gchar *model;

    if (!check_controlnet (json_array_get_element (list, i), prefix, error))
      return FALSE;
    model = node_string (json_object_get_member (json_array_get_object_element
            (list, i), "model_id"));
    for (guint j = 0; j < i; j++) {
      if (g_str_equal (model, node_string (json_object_get_member
                  (json_array_get_object_element (list, j), "model_id"))))
        return set_error (error, "%s.model_id must be unique (got \"%s\", "
            "as in params.controlnets[%u])", prefix, model, j);
    }
  }
  return TRUE;
}

static gboolean
check_ip_adapter (JsonObject * params, GError ** error)
{
  JsonNode *node = json_object_get_member (params, "ip_adapter");
  JsonObject *adapter = node_object (node);

  if (node == NULL)
    return TRUE;
  if (adapter == NULL)
    return set_field_error (error, "params.ip_adapter", "an object", node);
  return check_rules (adapter, "params.ip_adapter", ip_adapter_rules,
      G_N_ELEMENTS (ip_adapter_rules), error);
}

gboolean
drtc_pipeline_config_validate (const gchar * pipeline, JsonObject * params,
    GError ** error)
{
  g_return_val_if_fail (pipeline != NULL, FALSE);
  g_return_val_if_fail (params != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!g_str_equal (pipeline, DRTC_PIPELINE_CONFIG_DEFAULT_PIPELINE))
    return set_error (error, "pipeline must be \"%s\" (got \"%s\")",
        DRTC_PIPELINE_CONFIG_DEFAULT_PIPELINE, pipeline);
  return check_rules (params, "params", param_rules,
      G_N_ELEMENTS (param_rules), error)
      && check_prompt (params, error)
      && check_seed (params, error)
      && check_t_index_list (params, error)
      && check_lora_dict (params, error)
      && check_controlnets (params, error)
      && check_ip_adapter (params, error);
}

JsonObject *
drtc_pipeline_config_split (JsonNode * config, gchar ** pipeline,
    GError ** error)
{
  JsonObject *root, *params;
  JsonNode *params_node, *name_node;
  const gchar *name = DRTC_PIPELINE_CONFIG_DEFAULT_PIPELINE;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  root = node_object (config);
  if (root == NULL) {
    set_field_error (error, "pipeline config", "a JSON object", config);
    return NULL;
  }
  params = root;
  params_node = json_object_get_member (root, "params");
  if (params_node != NULL) {
    params = node_object (params_node);
    if (params == NULL) {
      set_field_error (error, "params", "an object", params_node);
      return NULL;
    }
    name_node = json_object_get_member (root, "pipeline");
    if (name_node != NULL && (name = node_string (name_node)) == NULL) {
      set_field_error (error, "pipeline", "a string", name_node);
      return NULL;
    }
  }
  if (pipeline != NULL)
    *pipeline = g_strdup (name);
  return json_object_ref (params);
}

JsonNode *
drtc_pipeline_config_load (const gchar * path, GError ** error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  g_autofree gchar *contents = NULL;
  gsize length;
  JsonNode *root;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* GLib's message names the file already. */
  if (!g_file_get_contents (path, &contents, &length, &local_error)) {
    g_set_error (error, DRTC_PIPELINE_CONFIG_ERROR,
        DRTC_PIPELINE_CONFIG_ERROR_IO, "Cannot read pipeline config: %s",
        local_error->message);
    return NULL;
  }
  if (!json_parser_load_from_data (parser, contents, length, &local_error)) {
    /* json-glib says "<data>:LINE:COL: ..." for in-memory input. */
    const gchar *detail = local_error->message;
    const gchar *separator = ": ";

    if (g_str_has_prefix (detail, "<data>:")) {
      detail += strlen ("<data>:");
      separator = ":";
    }
    g_set_error (error, DRTC_PIPELINE_CONFIG_ERROR,
        DRTC_PIPELINE_CONFIG_ERROR_PARSE, "Cannot parse pipeline config %s%s%s",
        path, separator, detail);
    return NULL;
  }
  root = json_parser_steal_root (parser);
  if (root == NULL)
    g_set_error (error, DRTC_PIPELINE_CONFIG_ERROR,
        DRTC_PIPELINE_CONFIG_ERROR_PARSE,
        "Cannot parse pipeline config %s: the file is empty", path);
  return root;
}

static JsonObject *copy_object (JsonObject * object);

/* json_node_copy() shares objects and arrays; callers get their own tree. */
static JsonNode *
copy_node (JsonNode * node)
{
  JsonNode *copy;
  JsonArray *array, *array_copy;

  if (node_object (node) != NULL) {
    copy = json_node_new (JSON_NODE_OBJECT);
    json_node_take_object (copy, copy_object (json_node_get_object (node)));
  } else if ((array = node_array (node)) != NULL) {
    array_copy = json_array_sized_new (json_array_get_length (array));
    for (guint i = 0; i < json_array_get_length (array); i++)
      json_array_add_element (array_copy,
          copy_node (json_array_get_element (array, i)));
    copy = json_node_new (JSON_NODE_ARRAY);
    json_node_take_array (copy, array_copy);
  } else {
    copy = json_node_copy (node);
  }
  return copy;
}

static JsonObject *
copy_object (JsonObject * object)
{
  JsonObject *copy = json_object_new ();
  g_autoptr (GList) names = json_object_get_members (object);

  for (GList * l = names; l != NULL; l = l->next)
    json_object_set_member (copy, l->data,
        copy_node (json_object_get_member (object, l->data)));
  return copy;
}

JsonNode *
drtc_pipeline_config_merge (JsonNode * base, JsonNode * overrides)
{
  g_autoptr (JsonObject) base_params = NULL;
  g_autoptr (JsonObject) override_params = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *pipeline = NULL;
  g_autofree gchar *override_pipeline = NULL;
  g_autoptr (GList) names = NULL;
  JsonObject *merged, *root;
  JsonNode *config;

  g_return_val_if_fail (base != NULL, NULL);
  g_return_val_if_fail (overrides != NULL, NULL);

  base_params = drtc_pipeline_config_split (base, &pipeline, &error);
  if (base_params != NULL)
    override_params = drtc_pipeline_config_split (overrides,
        &override_pipeline, &error);
  if (override_params == NULL) {
    g_debug ("Cannot merge pipeline configs: %s", error->message);
    return NULL;
  }
  /* The split rule gives a flat override the default pipeline; only an
   * explicit one replaces base's. */
  root = json_node_get_object (overrides);
  if (json_object_has_member (root, "params")
      && json_object_has_member (root, "pipeline")) {
    g_free (pipeline);
    pipeline = g_steal_pointer (&override_pipeline);
  }

  merged = copy_object (base_params);
  names = json_object_get_members (override_params);
  for (GList * l = names; l != NULL; l = l->next)
    json_object_set_member (merged, l->data,
        copy_node (json_object_get_member (override_params, l->data)));

  root = json_object_new ();
  json_object_set_string_member (root, "pipeline", pipeline);
  json_object_set_object_member (root, "params", merged);
  config = json_node_init_object (json_node_alloc (), root);
  json_object_unref (root);
  return config;
}

JsonObject *
drtc_pipeline_config_diff (JsonObject * old_params, JsonObject * new_params)
{
  JsonObject *changed;
  g_autoptr (GList) names = NULL;

  g_return_val_if_fail (old_params != NULL, NULL);
  g_return_val_if_fail (new_params != NULL, NULL);

  changed = json_object_new ();
  names = json_object_get_members (new_params);
  for (GList * l = names; l != NULL; l = l->next) {
    JsonNode *value = json_object_get_member (new_params, l->data);
    JsonNode *old_value = json_object_get_member (old_params, l->data);

    if (old_value == NULL || !json_node_equal (old_value, value))
      json_object_set_member (changed, l->data, copy_node (value));
  }
  return changed;
}
