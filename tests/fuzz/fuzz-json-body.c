/* daydream-rtc: libFuzzer harness for REST bodies, route by route. The
 * first byte picks the route (modulo 8), the rest is the body:
 *   0  drtc_json_parse_limited alone (what every body route parses with:
 *      the strict pre-scan, then json-glib), default and small limits,
 *      and the typed getters of common/drtc-json.c over every member
 *   1  serve POST /start        drtc_serve_body_start, then the pipeline
 *                               config as the stream controller splits
 *                               and validates it
 *   2  serve POST /config       drtc_serve_body_config
 *   3  serve POST /pipeline/cache, PATCH /pipeline
 *                               drtc_serve_body_pipeline, split, validate
 *   4  serve POST /whep/connect drtc_serve_body_whep_connect
 *   5  serve POST /frames (JSON) drtc_serve_body_frames with its limits,
 *                               then frame_b64 through drtc_frame_check_b64
 *   6  gateway POST /v1/streams       drtc_gateway_body_object, _name,
 *                                     _params
 *   7  gateway PATCH /v1/streams/ID   drtc_gateway_body_object, _params
 *                                     over a stream's current params
 * Every answer a route would send must be strict JSON (serve's 422 list,
 * the gateway's error message); what a validator passes must hold what
 * the route relies on. */
#include "drtc-frame-check.h"
#include "drtc-gateway-bodies.h"
#include "drtc-http-util.h"
#include "drtc-json.h"
#include "drtc-json-scan.h"
#include "drtc-pipeline-config.h"
#include "drtc-serve-bodies.h"

int LLVMFuzzerTestOneInput (const guint8 * data, gsize size);

static void
read_fields (JsonObject * o, guint depth)
{
  g_autoptr (GList) members = json_object_get_members (o);
  gdouble d;
  gint64 i;

  for (GList * l = members; l; l = l->next) {
    drtc_json_get_string (o, l->data);
    drtc_json_get_number (o, l->data, &d);
    drtc_json_get_int (o, l->data, &i);
    if (depth < 8 && drtc_json_member_is (o, l->data, JSON_TYPE_OBJECT))
      read_fields (json_object_get_object_member (o, l->data), depth + 1);
  }
  /* names the routes ask for, present or not */
  drtc_json_get_string (o, "prompt");
  drtc_json_get_number (o, "guidance_scale", &d);
  drtc_json_get_int (o, "seed", &i);
}

static void
parse_only (const gchar * body, gsize len)
{
  static const DrtcJsonLimits small = { 512, 4, 32 };
  g_autoptr (JsonNode) root = drtc_json_parse (body, len, NULL);
  g_autoptr (JsonNode) bounded = drtc_json_parse_limited (body, len, &small,
      NULL);

  /* what passes the small limits passes the defaults */
  if (bounded && !root)
    __builtin_trap ();
  if (root && JSON_NODE_HOLDS_OBJECT (root)) {
    g_autofree gchar *text = NULL;

    read_fields (json_node_get_object (root), 0);
    text = drtc_json_to_string (root, FALSE);
  }
}

/* (transfer none) @text parses again as strict JSON */
static void
strict_json (const gchar * text)
{
  g_autoptr (JsonNode) again = drtc_json_parse (text, -1, NULL);

  if (!again)
    __builtin_trap ();
}

/* A serve route's answer to a refused body: 413 or 422, strict JSON. */
static void
serve_refused (DrtcRequest * req)
{
  g_autoptr (JsonNode) errors = drtc_request_errors (req);
  g_autofree gchar *text = drtc_json_to_string (errors, FALSE);
  guint status = drtc_request_status (req);

  if (status != SOUP_STATUS_UNPROCESSABLE_ENTITY
      && status != SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE)
    __builtin_trap ();
  strict_json (text);
}

/* The stream controller's reading of a pipeline_config (start, PATCH). */
static void
pipeline_config (JsonNode * config)
{
  g_autofree gchar *pipeline = NULL;
  g_autoptr (JsonObject) params = NULL;
  g_autofree gchar *stored = NULL;

  if (!config)
    return;
  params = drtc_pipeline_config_split (config, &pipeline, NULL);
  if (params)
    drtc_pipeline_config_validate (pipeline, params, NULL);
  /* what /pipeline/cache writes */
  stored = drtc_json_to_string (config, FALSE);
  strict_json (stored);
}

static void
serve_route (guint route, const gchar * body, gsize len)
{
  g_autoptr (DrtcRequest) req = drtc_request_new_from_bytes (body, len, TRUE,
      route == 5 ? &drtc_serve_frames_limits : NULL);
  DrtcStartRequest start;
  DrtcRuntimeConfig c;
  const gchar *queue_mode = NULL, *b64 = NULL;
  JsonNode *config = NULL;
  g_autofree gchar *url = NULL, *detail = NULL;
  guint status = 0;
  gboolean ok = FALSE;

  switch (route) {
    case 1:
      if ((ok = drtc_serve_body_start (req, &start))) {
        if ((start.frame_width >= 0 && start.frame_width % 2)
            || start.frame_rate == 0 || start.frame_rate > 240
            || (start.stream_name && g_utf8_strlen (start.stream_name,
                    -1) > 256))
          __builtin_trap ();
        pipeline_config (start.pipeline_config);
      }
      break;
    case 2:
      if ((ok = drtc_serve_body_config (req, &c, &queue_mode))
          && (c.frame_rate < 1 || c.frame_rate > 240 || c.frame_width < 64
              || c.frame_width > 4096 || c.frame_width % 2
              || c.frame_height < 64 || c.frame_height > 4096
              || c.frame_height % 2
              || (queue_mode && !drtc_serve_queue_mode_lookup (queue_mode))))
        __builtin_trap ();
      break;
    case 3:
      if ((ok = drtc_serve_body_pipeline (req, &config))) {
        if (!JSON_NODE_HOLDS_OBJECT (config))
          __builtin_trap ();
        pipeline_config (config);
      }
      break;
    case 4:
      url = drtc_serve_body_whep_connect (req, &status, &detail);
      ok = url != NULL;
      if (url && (drtc_http_url_problem (url, 4096) || g_ascii_isspace (*url)))
        __builtin_trap ();
      if (!url && drtc_request_ok (req)) {
        /* a {"detail": "..."} answer: 400 or 422 */
        g_autoptr (JsonNode) answer = drtc_http_detail_body (detail);
        g_autofree gchar *text = drtc_json_to_string (answer, FALSE);

        if (status != SOUP_STATUS_BAD_REQUEST
            && status != SOUP_STATUS_UNPROCESSABLE_ENTITY)
          __builtin_trap ();
        strict_json (text);
        return;
      }
      break;
    default:
      if ((ok = drtc_serve_body_frames (req, &b64))) {
        DrtcFrameCheck check;
        g_autoptr (GBytes) image = drtc_frame_check_b64 (b64, &check, NULL);

        if (image && g_bytes_get_size (image) != check.size)
          __builtin_trap ();
      }
      break;
  }
  if (ok != drtc_request_ok (req))
    __builtin_trap ();
  if (!ok)
    serve_refused (req);
}

/* The gateway's answer to a refused body: {"success": false, "error"}. */
static void
gateway_refused (const GError * error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) answer = NULL;
  g_autofree gchar *text = NULL;

  if (!error || error->domain != DRTC_GATEWAY_BODY_ERROR
      || (error->code != SOUP_STATUS_BAD_REQUEST
          && error->code != SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE
          && error->code != SOUP_STATUS_UNPROCESSABLE_ENTITY))
    __builtin_trap ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_add_string_value (b, error->message);
  json_builder_end_object (b);
  answer = json_builder_get_root (b);
  text = drtc_json_to_string (answer, FALSE);
  strict_json (text);
}

static void
gateway_route (gboolean update, const gchar * body, gsize len)
{
  static const gchar current[] = "{\"model_id\": \"stabilityai/sd-turbo\", "
      "\"prompt\": \"a cat\", \"seed\": 42}";
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) object = drtc_gateway_body_object (body, len, &error);
  g_autoptr (JsonNode) now = drtc_json_parse (current, -1, NULL);
  g_autoptr (JsonObject) params = NULL;
  g_autofree gchar *pipeline = NULL;
  const gchar *name = NULL;

  if (object && (update || drtc_gateway_body_name (object, &name, &error)))
    params = drtc_gateway_body_params (object, update ? "streamdiffusion" :
        NULL, update ? json_node_get_object (now) : NULL, &pipeline, &error);
  if (!params) {
    gateway_refused (error);
    return;
  }
  if (!pipeline || error || (name && g_utf8_strlen (name, -1) > 256))
    __builtin_trap ();
}

int
LLVMFuzzerTestOneInput (const guint8 * data, gsize size)
{
  const gchar *body = (const gchar *) data + 1;

  if (size < 1)
    return 0;
  switch (data[0] % 8) {
    case 0:
      parse_only (body, size - 1);
      break;
    case 6:
    case 7:
      gateway_route (data[0] % 8 == 7, body, size - 1);
      break;
    default:
      serve_route (data[0] % 8, body, size - 1);
      break;
  }
  return 0;
}
