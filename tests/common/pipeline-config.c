/* Tests for common/drtc-pipeline-config.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "drtc-pipeline-config.h"

#include <glib/gstdio.h>
#include <string.h>

#define DEFAULT_CONFIG DRTC_DATA_DIR "/pipeline-config.json"

/* One change to the shipped params: @member is a params member, or
 * "controlnets/<index>/<member>" for a member of one ControlNet; @json is
 * its new value. */
typedef struct
{
  const gchar *name;
  const gchar *member;
  const gchar *json;
  const gchar *field;           /* bad cases: the error starts with it */
} ConfigCase;

static const ConfigCase bad_cases[] = {
  {"model-id-empty", "model_id", "\"\"", "params.model_id"},
  {"model-id-not-string", "model_id", "42", "params.model_id"},
  {"prompt-empty", "prompt", "\"\"", "params.prompt"},
  {"prompt-number", "prompt", "7", "params.prompt"},
  {"prompt-null", "prompt", "null", "params.prompt"},
  {"prompt-empty-list", "prompt", "[]", "params.prompt"},
  {"prompt-weight-not-number", "prompt", "[[\"a cat\", 1], [\"dog\", \"x\"]]",
      "params.prompt[1]"},
  {"prompt-pair-too-long", "prompt", "[[\"a cat\", 1, 2]]", "params.prompt[0]"},
  {"prompt-pair-not-list", "prompt", "[\"a cat\"]", "params.prompt[0]"},
  {"negative-prompt-not-string", "negative_prompt", "null",
      "params.negative_prompt"},
  {"width-not-multiple-of-64", "width", "500", "params.width"},
  {"width-too-small", "width", "320", "params.width"},
  {"width-too-large", "width", "1088", "params.width"},
  {"width-fraction", "width", "512.5", "params.width"},
  {"width-string", "width", "\"512\"", "params.width"},
  {"height-not-multiple-of-64", "height", "700", "params.height"},
  {"height-too-large", "height", "2048", "params.height"},
  {"num-inference-steps-zero", "num_inference_steps", "0",
      "params.num_inference_steps"},
  {"num-inference-steps-too-large", "num_inference_steps", "101",
      "params.num_inference_steps"},
  {"num-inference-steps-fraction", "num_inference_steps", "25.5",
      "params.num_inference_steps"},
  {"t-index-list-not-array", "t_index_list", "12", "params.t_index_list"},
  {"t-index-list-empty", "t_index_list", "[]", "params.t_index_list"},
  {"t-index-list-too-long", "t_index_list", "[1, 2, 3, 4, 5]",
      "params.t_index_list"},
  {"t-index-list-negative", "t_index_list", "[-1, 3]",
      "params.t_index_list[0]"},
  {"t-index-list-not-below-steps", "t_index_list", "[12, 25]",
      "params.t_index_list[1]"},
  {"t-index-list-fraction", "t_index_list", "[12.5]",
      "params.t_index_list[0]"},
  {"t-index-list-string", "t_index_list", "[\"12\"]",
      "params.t_index_list[0]"},
  {"t-index-list-repeated", "t_index_list", "[12, 12]",
      "params.t_index_list[1]"},
  {"t-index-list-descending", "t_index_list", "[20, 12, 24]",
      "params.t_index_list[1]"},
  {"guidance-scale-negative", "guidance_scale", "-0.5",
      "params.guidance_scale"},
  {"guidance-scale-too-large", "guidance_scale", "20.5",
      "params.guidance_scale"},
  {"guidance-scale-string", "guidance_scale", "\"1\"",
      "params.guidance_scale"},
  {"guidance-scale-infinite", "guidance_scale", "1e400",
      "params.guidance_scale"},
  {"delta-too-large", "delta", "1.5", "params.delta"},
  {"delta-boolean", "delta", "true", "params.delta"},
  {"seed-negative", "seed", "-1", "params.seed"},
  {"seed-too-large", "seed", "4294967296", "params.seed"},
  {"seed-fraction", "seed", "7.5", "params.seed"},
  {"seed-string", "seed", "\"789\"", "params.seed"},
  {"seed-empty-list", "seed", "[]", "params.seed"},
  {"seed-pair-fraction", "seed", "[[1.5, 1]]", "params.seed[0]"},
  {"seed-pair-weight-string", "seed", "[[1, 0.5], [2, \"x\"]]",
      "params.seed[1]"},
  {"prompt-interpolation-method-unknown", "prompt_interpolation_method",
      "\"cubic\"", "params.prompt_interpolation_method"},
  {"seed-interpolation-method-unknown", "seed_interpolation_method",
      "\"Linear\"", "params.seed_interpolation_method"},
  {"acceleration-unknown", "acceleration", "\"cuda\"", "params.acceleration"},
  {"lora-dict-list", "lora_dict", "[]", "params.lora_dict"},
  {"lora-dict-weight-string", "lora_dict", "{\"a/b\": 0.5, \"c/d\": \"1\"}",
      "params.lora_dict.c/d"},
  {"lcm-lora-id-number", "lcm_lora_id", "1", "params.lcm_lora_id"},
  {"use-lcm-lora-number", "use_lcm_lora", "1", "params.use_lcm_lora"},
  {"do-add-noise-string", "do_add_noise", "\"true\"", "params.do_add_noise"},
  {"use-denoising-batch-null", "use_denoising_batch", "null",
      "params.use_denoising_batch"},
  {"normalize-prompt-weights-number", "normalize_prompt_weights", "0",
      "params.normalize_prompt_weights"},
  {"normalize-seed-weights-string", "normalize_seed_weights", "\"yes\"",
      "params.normalize_seed_weights"},
  {"use-safety-checker-number", "use_safety_checker", "1",
      "params.use_safety_checker"},
  {"enable-similar-image-filter-list", "enable_similar_image_filter",
      "[true]", "params.enable_similar_image_filter"},
  {"similar-image-filter-threshold-too-large",
        "similar_image_filter_threshold", "1.01",
      "params.similar_image_filter_threshold"},
  {"similar-image-filter-threshold-negative",
        "similar_image_filter_threshold", "-0.1",
      "params.similar_image_filter_threshold"},
  {"similar-image-filter-max-skip-frame-negative",
        "similar_image_filter_max_skip_frame", "-1",
      "params.similar_image_filter_max_skip_frame"},
  {"similar-image-filter-max-skip-frame-fraction",
        "similar_image_filter_max_skip_frame", "2.5",
      "params.similar_image_filter_max_skip_frame"},
  {"controlnets-not-array", "controlnets", "{}", "params.controlnets"},
  {"controlnets-too-many", "controlnets", "[{}, {}, {}, {}, {}, {}]",
      "params.controlnets"},
  {"controlnets-entry-not-object", "controlnets", "[1]",
      "params.controlnets[0]"},
  {"controlnets-need-sd-turbo", "model_id", "\"stabilityai/sdxl-turbo\"",
      "params.controlnets"},
  {"controlnet-model-id-unknown", "controlnets/1/model_id", "\"foo/bar\"",
      "params.controlnets[1].model_id"},
  {"controlnet-model-id-missing", "controlnets", "[{\"enabled\": true}]",
      "params.controlnets[0].model_id"},
  {"controlnet-model-id-duplicate", "controlnets",
        "[{\"model_id\": \"thibaud/controlnet-sd21-canny-diffusers\"},"
        " {\"model_id\": \"thibaud/controlnet-sd21-hed-diffusers\"},"
        " {\"model_id\": \"thibaud/controlnet-sd21-canny-diffusers\"}]",
      "params.controlnets[2].model_id"},
  {"controlnet-preprocessor-not-allowed", "controlnets/2/preprocessor",
      "\"soft_edge\"", "params.controlnets[2].preprocessor"},
  {"controlnet-preprocessor-not-string", "controlnets/0/preprocessor", "1",
      "params.controlnets[0].preprocessor"},
  {"controlnet-enabled-not-boolean", "controlnets/1/enabled", "1",
      "params.controlnets[1].enabled"},
  {"controlnet-conditioning-scale-too-large",
        "controlnets/4/conditioning_scale", "2.5",
      "params.controlnets[4].conditioning_scale"},
  {"controlnet-conditioning-scale-negative",
        "controlnets/0/conditioning_scale", "-0.1",
      "params.controlnets[0].conditioning_scale"},
  {"controlnet-guidance-start-too-large",
        "controlnets/0/control_guidance_start", "1.5",
      "params.controlnets[0].control_guidance_start"},
  {"controlnet-guidance-end-negative", "controlnets/0/control_guidance_end",
      "-0.1", "params.controlnets[0].control_guidance_end"},
  {"controlnet-guidance-start-after-end", "controlnets",
        "[{\"model_id\": \"thibaud/controlnet-sd21-canny-diffusers\","
        " \"control_guidance_start\": 0.8, \"control_guidance_end\": 0.5}]",
      "params.controlnets[0].control_guidance_start"},
  {"controlnet-preprocessor-params-not-object",
        "controlnets/2/preprocessor_params", "[]",
      "params.controlnets[2].preprocessor_params"},
  {"ip-adapter-not-object", "ip_adapter", "true", "params.ip_adapter"},
  {"ip-adapter-enabled-not-boolean", "ip_adapter", "{\"enabled\": \"yes\"}",
      "params.ip_adapter.enabled"},
  {"ip-adapter-type-unknown", "ip_adapter", "{\"type\": \"plus\"}",
      "params.ip_adapter.type"},
  {"ip-adapter-scale-too-large", "ip_adapter", "{\"scale\": 2.5}",
      "params.ip_adapter.scale"},
  {"ip-adapter-weight-type-unknown", "ip_adapter",
      "{\"weight_type\": \"strong\"}", "params.ip_adapter.weight_type"},
  {"ip-adapter-style-image-url-not-string", "ip_adapter_style_image_url",
      "{}", "params.ip_adapter_style_image_url"},
};

static const ConfigCase good_cases[] = {
  {"width-integral-float", "width", "512.0"},
  {"height-integral-float", "height", "1024.0"},
  {"width-smallest", "width", "384"},
  {"width-largest", "width", "1024"},
  {"num-inference-steps-integral-float", "num_inference_steps", "25.0"},
  {"t-index-list-integral-floats", "t_index_list", "[0.0, 12, 24.0]"},
  {"t-index-list-single", "t_index_list", "[0]"},
  {"guidance-scale-integer", "guidance_scale", "20"},
  {"delta-integer", "delta", "0"},
  {"seed-integral-float", "seed", "789.0"},
  {"seed-largest", "seed", "4294967295"},
  {"seed-weighted", "seed", "[[1, 0.5], [4294967295.0, 2]]"},
  {"prompt-weighted", "prompt", "[[\"a cat\", 1.0], [\"a dog\", 1]]"},
  {"prompt-unicode", "prompt", "\"\\u00fcber \\u732b\""},
  {"negative-prompt-empty", "negative_prompt", "\"\""},
  {"lora-dict-weights", "lora_dict", "{\"a/b\": 0.5, \"c/d\": 1}"},
  {"lora-dict-empty", "lora_dict", "{}"},
  {"lcm-lora-id-empty", "lcm_lora_id", "\"\""},
  {"similar-image-filter-max-skip-frame-large",
      "similar_image_filter_max_skip_frame", "4503599627370495"},
  {"acceleration-none", "acceleration", "\"none\""},
  {"controlnets-empty", "controlnets", "[]"},
  {"controlnet-minimal", "controlnets",
      "[{\"model_id\": \"thibaud/controlnet-sd21-canny-diffusers\"}]"},
  {"controlnet-start-without-end", "controlnets",
      "[{\"model_id\": \"thibaud/controlnet-sd21-hed-diffusers\","
        " \"control_guidance_start\": 0.5}]"},
  {"controlnet-start-equals-end", "controlnets/0/control_guidance_start", "1"},
  {"controlnet-end-without-start", "controlnets",
      "[{\"model_id\": \"thibaud/controlnet-sd21-hed-diffusers\","
        " \"control_guidance_end\": 0}]"},
  {"controlnet-disabled", "controlnets/0/enabled", "false"},
  {"ip-adapter-full", "ip_adapter",
      "{\"enabled\": true, \"type\": \"faceid\", \"scale\": 2,"
        " \"weight_type\": \"ease_in_out\"}"},
  {"unknown-member", "some_future_param", "{\"x\": [1, null]}"},
};

static JsonNode *
load_default (void)
{
  g_autoptr (GError) error = NULL;
  JsonNode *config = drtc_pipeline_config_load (DEFAULT_CONFIG, &error);

  g_assert_no_error (error);
  g_assert_nonnull (config);
  return config;
}

static JsonNode *
parse (const gchar * json)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = json_from_string (json, &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);
  return node;
}

/* The shipped params with @c applied; the params belong to *config. */
static JsonObject *
default_params_with (const ConfigCase * c, JsonNode ** config)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) parts = g_strsplit (c->member, "/", 3);
  JsonObject *params, *target;

  *config = load_default ();
  params = drtc_pipeline_config_split (*config, NULL, &error);
  g_assert_no_error (error);
  target = params;
  if (parts[1] != NULL) {
    JsonArray *list = json_object_get_array_member (params, parts[0]);

    target = json_array_get_object_element (list,
        g_ascii_strtoull (parts[1], NULL, 10));
    g_assert_nonnull (parts[2]);
  }
  json_object_set_member (target, parts[1] ? parts[2] : parts[0],
      parse (c->json));
  json_object_unref (params);
  return json_node_get_object (json_object_get_member (json_node_get_object
          (*config), "params"));
}

static void
test_bad_case (gconstpointer data)
{
  const ConfigCase *c = data;
  g_autoptr (JsonNode) config = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *expected = NULL;
  JsonObject *params = default_params_with (c, &config);

  g_assert_false (drtc_pipeline_config_validate ("streamdiffusion", params,
          &error));
  g_assert_error (error, DRTC_PIPELINE_CONFIG_ERROR,
      DRTC_PIPELINE_CONFIG_ERROR_INVALID);
  g_test_message ("%s", error->message);
  /* The message names exactly this field first: "params.width must ...". */
  expected = g_strconcat (c->field, " ", NULL);
  if (!g_str_has_prefix (error->message, expected))
    g_error ("expected an error about %s, got: %s", c->field, error->message);
}

static void
test_good_case (gconstpointer data)
{
  const ConfigCase *c = data;
  g_autoptr (JsonNode) config = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *params = default_params_with (c, &config);

  drtc_pipeline_config_validate ("streamdiffusion", params, &error);
  g_assert_no_error (error);
}

static void
test_default_validates (void)
{
  g_autoptr (JsonNode) config = load_default ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *pipeline = NULL;
  g_autoptr (JsonObject) params =
      drtc_pipeline_config_split (config, &pipeline, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (pipeline, ==, "streamdiffusion");
  g_assert_cmpint (json_object_get_int_member (params, "width"), ==, 512);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member
          (params, "controlnets")), ==, 5);
  g_assert_true (drtc_pipeline_config_validate (pipeline, params, &error));
  g_assert_no_error (error);
}

static void
test_validate_message (void)
{
  static const ConfigCase c = { "width", "width", "500", NULL };
  g_autoptr (JsonNode) config = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *params = default_params_with (&c, &config);

  g_assert_false (drtc_pipeline_config_validate ("streamdiffusion", params,
          &error));
  g_assert_cmpstr (error->message, ==,
      "params.width must be a multiple of 64 between 384 and 1024 (got 500)");
}

static void
test_validate_empty_params (void)
{
  g_autoptr (JsonObject) params = json_object_new ();
  g_autoptr (GError) error = NULL;

  g_assert_true (drtc_pipeline_config_validate ("streamdiffusion", params,
          &error));
  g_assert_no_error (error);
}

static void
test_validate_unknown_pipeline (void)
{
  g_autoptr (JsonObject) params = json_object_new ();
  g_autoptr (GError) error = NULL;

  g_assert_false (drtc_pipeline_config_validate ("img2img", params, &error));
  g_assert_error (error, DRTC_PIPELINE_CONFIG_ERROR,
      DRTC_PIPELINE_CONFIG_ERROR_INVALID);
  g_assert_true (g_str_has_prefix (error->message, "pipeline "));
}

static void
test_validate_t_index_default_steps (void)
{
  g_autoptr (JsonNode) ok = parse ("{\"t_index_list\": [12, 49]}");
  g_autoptr (JsonNode) bad = parse ("{\"t_index_list\": [12, 50]}");
  g_autoptr (GError) error = NULL;

  g_assert_true (drtc_pipeline_config_validate ("streamdiffusion",
          json_node_get_object (ok), &error));
  g_assert_no_error (error);
  g_assert_false (drtc_pipeline_config_validate ("streamdiffusion",
          json_node_get_object (bad), &error));
  g_assert_true (g_str_has_prefix (error->message,
          "params.t_index_list[1] must be an integer between 0 and 49"));
}

static void
test_validate_controlnets_other_model (void)
{
  g_autoptr (JsonNode) empty =
      parse ("{\"model_id\": \"x/y\", \"controlnets\": []}");
  g_autoptr (JsonNode) no_model = parse ("{\"controlnets\": [{\"model_id\":"
      " \"thibaud/controlnet-sd21-depth-diffusers\"}]}");
  g_autoptr (GError) error = NULL;

  g_assert_true (drtc_pipeline_config_validate ("streamdiffusion",
          json_node_get_object (empty), &error));
  g_assert_true (drtc_pipeline_config_validate ("streamdiffusion",
          json_node_get_object (no_model), &error));
  g_assert_no_error (error);
}

static void
test_split_with_params (void)
{
  g_autoptr (JsonNode) config = parse ("{\"pipeline\": \"other\", \"params\":"
      " {\"prompt\": \"cat\"}, \"name\": \"n\"}");
  g_autoptr (GError) error = NULL;
  g_autofree gchar *pipeline = NULL;
  g_autoptr (JsonObject) params =
      drtc_pipeline_config_split (config, &pipeline, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (pipeline, ==, "other");
  g_assert_cmpstr (json_object_get_string_member (params, "prompt"), ==, "cat");
  g_assert_cmpuint (json_object_get_size (params), ==, 1);
}

static void
test_split_default_pipeline (void)
{
  g_autoptr (JsonNode) config = parse ("{\"params\": {}}");
  g_autoptr (GError) error = NULL;
  g_autofree gchar *pipeline = NULL;
  g_autoptr (JsonObject) params =
      drtc_pipeline_config_split (config, &pipeline, &error);

  g_assert_no_error (error);
  g_assert_nonnull (params);
  g_assert_cmpstr (pipeline, ==, "streamdiffusion");
}

static void
test_split_without_params (void)
{
  g_autoptr (JsonNode) config =
      parse ("{\"pipeline\": \"other\", \"prompt\": \"cat\"}");
  g_autoptr (GError) error = NULL;
  g_autofree gchar *pipeline = NULL;
  g_autoptr (JsonObject) params =
      drtc_pipeline_config_split (config, &pipeline, &error);

  g_assert_no_error (error);
  g_assert_true (params == json_node_get_object (config));
  g_assert_cmpstr (pipeline, ==, "streamdiffusion");
}

static void
test_split_errors (void)
{
  static const struct
  {
    const gchar *json, *prefix;
  } cases[] = {
    {"[]", "pipeline config "},
    {"\"streamdiffusion\"", "pipeline config "},
    {"null", "pipeline config "},
    {"{\"params\": [1]}", "params "},
    {"{\"params\": null}", "params "},
    {"{\"pipeline\": 1, \"params\": {}}", "pipeline "},
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (JsonNode) config = parse (cases[i].json);
    g_autoptr (GError) error = NULL;
    gchar *pipeline = NULL;

    g_assert_null (drtc_pipeline_config_split (config, &pipeline, &error));
    g_assert_error (error, DRTC_PIPELINE_CONFIG_ERROR,
        DRTC_PIPELINE_CONFIG_ERROR_INVALID);
    g_assert_null (pipeline);
    g_test_message ("%s: %s", cases[i].json, error->message);
    g_assert_true (g_str_has_prefix (error->message, cases[i].prefix));
  }
}

static JsonObject *
params_of (JsonNode * config)
{
  return json_object_get_object_member (json_node_get_object (config),
      "params");
}

static void
test_merge_flat_override (void)
{
  g_autoptr (JsonNode) base = load_default ();
  g_autoptr (JsonNode) overrides =
      parse ("{\"prompt\": \"a cat\", \"extra\": 1, \"width\": 640}");
  g_autoptr (JsonNode) merged = drtc_pipeline_config_merge (base, overrides);
  g_autoptr (GList) names = NULL;
  JsonObject *params;

  g_assert_nonnull (merged);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object
          (merged), "pipeline"), ==, "streamdiffusion");
  params = params_of (merged);
  g_assert_cmpstr (json_object_get_string_member (params, "prompt"), ==,
      "a cat");
  g_assert_cmpint (json_object_get_int_member (params, "width"), ==, 640);
  g_assert_cmpint (json_object_get_int_member (params, "height"), ==, 512);
  /* Replaced members keep their place, new ones come last. */
  names = json_object_get_members (params);
  g_assert_cmpstr (g_list_nth_data (names, 4), ==, "prompt");
  g_assert_cmpstr (g_list_last (names)->data, ==, "extra");
  /* The result is a deep copy: base is untouched. */
  json_array_remove_element (json_object_get_array_member (params,
          "controlnets"), 0);
  g_assert_cmpstr (json_object_get_string_member (params_of (base),
          "prompt"), ==, "Superman");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member
          (params_of (base), "controlnets")), ==, 5);
}

static void
test_merge_pipeline_override (void)
{
  g_autoptr (JsonNode) base = parse ("{\"prompt\": \"x\", \"seed\": 2}");
  g_autoptr (JsonNode) explicit = parse ("{\"pipeline\": \"other\","
      " \"params\": {\"seed\": 1}}");
  g_autoptr (JsonNode) flat = parse ("{\"pipeline\": \"other\"}");
  g_autoptr (JsonNode) merged = drtc_pipeline_config_merge (base, explicit);
  g_autoptr (JsonNode) merged_flat = drtc_pipeline_config_merge (base, flat);
  g_autoptr (JsonNode) expected = parse ("{\"pipeline\": \"other\","
      " \"params\": {\"prompt\": \"x\", \"seed\": 1}}");
  g_autoptr (JsonNode) expected_flat = parse ("{\"pipeline\":"
      " \"streamdiffusion\", \"params\": {\"prompt\": \"x\", \"seed\": 2,"
      " \"pipeline\": \"other\"}}");

  g_assert_true (json_node_equal (merged, expected));
  /* A flat override is all params (spec §4.2 split rule). */
  g_assert_true (json_node_equal (merged_flat, expected_flat));
}

static void
test_merge_invalid (void)
{
  g_autoptr (JsonNode) good = parse ("{}");
  g_autoptr (JsonNode) bad = parse ("{\"params\": 1}");

  g_assert_null (drtc_pipeline_config_merge (bad, good));
  g_assert_null (drtc_pipeline_config_merge (good, bad));
}

static void
test_diff (void)
{
  g_autoptr (JsonNode) old_config = load_default ();
  g_autoptr (JsonNode) overrides = parse ("{\"prompt\": \"a cat\", \"width\":"
      " 512.0, \"lora_dict\": null, \"new\": {\"a\": 1}}");
  g_autoptr (JsonNode) new_config =
      drtc_pipeline_config_merge (old_config, overrides);
  g_autoptr (JsonObject) diff = NULL;
  g_autoptr (JsonObject) same = NULL;

  json_object_remove_member (params_of (new_config), "seed");
  diff = drtc_pipeline_config_diff (params_of (old_config),
      params_of (new_config));
  g_assert_cmpuint (json_object_get_size (diff), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (diff, "prompt"), ==, "a cat");
  g_assert_true (json_object_has_member (diff, "new"));
  /* Deep copy: changing the diff leaves new_config alone. */
  json_object_set_int_member (json_object_get_object_member (diff, "new"),
      "a", 2);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member
          (params_of (new_config), "new"), "a"), ==, 1);

  same = drtc_pipeline_config_diff (params_of (old_config),
      params_of (old_config));
  g_assert_cmpuint (json_object_get_size (same), ==, 0);
}

static void
test_load_missing (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) config =
      drtc_pipeline_config_load (DRTC_DATA_DIR "/no-such-config.json", &error);

  g_assert_null (config);
  g_assert_error (error, DRTC_PIPELINE_CONFIG_ERROR,
      DRTC_PIPELINE_CONFIG_ERROR_IO);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "no-such-config.json"));
}

static void
load_from_temp_file (const gchar * contents, gchar ** path, GError ** error)
{
  g_autoptr (GError) local_error = NULL;
  gint fd = g_file_open_tmp ("pipeline-config-XXXXXX.json", path,
      &local_error);
  g_autoptr (JsonNode) config = NULL;

  g_assert_no_error (local_error);
  g_close (fd, NULL);
  g_file_set_contents (*path, contents, -1, &local_error);
  g_assert_no_error (local_error);
  config = drtc_pipeline_config_load (*path, error);
  g_assert_null (config);
  g_unlink (*path);
}

static void
test_load_invalid_json (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = NULL;
  g_autofree gchar *where = NULL;

  load_from_temp_file ("{\n  \"prompt\": \"cat\",\n  \"seed\": ]\n}\n",
      &path, &error);
  g_assert_error (error, DRTC_PIPELINE_CONFIG_ERROR,
      DRTC_PIPELINE_CONFIG_ERROR_PARSE);
  g_test_message ("%s", error->message);
  where = g_strconcat (path, ":3:", NULL);
  g_assert_nonnull (strstr (error->message, where));
}

static void
test_load_empty (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = NULL;

  load_from_temp_file ("  \n", &path, &error);
  g_assert_error (error, DRTC_PIPELINE_CONFIG_ERROR,
      DRTC_PIPELINE_CONFIG_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, path));
}

static void
add_cases (const gchar * group, const ConfigCase * cases, gsize n_cases,
    GTestDataFunc func)
{
  for (gsize i = 0; i < n_cases; i++) {
    g_autofree gchar *path =
        g_strdup_printf ("/pipeline-config/%s/%s", group, cases[i].name);

    g_test_add_data_func (path, &cases[i], func);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/pipeline-config/default/validates",
      test_default_validates);
  add_cases ("validate", bad_cases, G_N_ELEMENTS (bad_cases), test_bad_case);
  add_cases ("validate/accepts", good_cases, G_N_ELEMENTS (good_cases),
      test_good_case);
  g_test_add_func ("/pipeline-config/validate/message", test_validate_message);
  g_test_add_func ("/pipeline-config/validate/accepts/empty-params",
      test_validate_empty_params);
  g_test_add_func ("/pipeline-config/validate/pipeline-unknown",
      test_validate_unknown_pipeline);
  g_test_add_func ("/pipeline-config/validate/t-index-list-default-steps",
      test_validate_t_index_default_steps);
  g_test_add_func ("/pipeline-config/validate/accepts/controlnets-model",
      test_validate_controlnets_other_model);
  g_test_add_func ("/pipeline-config/split/with-params",
      test_split_with_params);
  g_test_add_func ("/pipeline-config/split/default-pipeline",
      test_split_default_pipeline);
  g_test_add_func ("/pipeline-config/split/without-params",
      test_split_without_params);
  g_test_add_func ("/pipeline-config/split/errors", test_split_errors);
  g_test_add_func ("/pipeline-config/merge/flat-override",
      test_merge_flat_override);
  g_test_add_func ("/pipeline-config/merge/pipeline-override",
      test_merge_pipeline_override);
  g_test_add_func ("/pipeline-config/merge/invalid", test_merge_invalid);
  g_test_add_func ("/pipeline-config/diff", test_diff);
  g_test_add_func ("/pipeline-config/load/missing-file", test_load_missing);
  g_test_add_func ("/pipeline-config/load/invalid-json",
      test_load_invalid_json);
  g_test_add_func ("/pipeline-config/load/empty", test_load_empty);
  return g_test_run ();
}
