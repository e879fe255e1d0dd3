/* daydream-rtc: libFuzzer harness for pipeline-config validation (the
 * params of POST /start, PATCH, /config and the gateway's /v1/streams):
 * common/drtc-pipeline-config.c, after common/drtc-json.c's parse. */
#include "drtc-json.h"
#include "drtc-pipeline-config.h"

int LLVMFuzzerTestOneInput (const guint8 * data, gsize size);

int
LLVMFuzzerTestOneInput (const guint8 * data, gsize size)
{
  g_autoptr (JsonNode) root = drtc_json_parse ((const gchar *) data, size,
      NULL);
  JsonObject *o, *params;
  const gchar *pipeline;

  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    return 0;
  o = json_node_get_object (root);
  pipeline = drtc_json_get_string (o, "pipeline");
  params = drtc_json_member_is (o, "params", JSON_TYPE_OBJECT) ?
      json_object_get_object_member (o, "params") : o;
  drtc_pipeline_config_validate (pipeline ? pipeline : "streamdiffusion",
      params, NULL);
  return 0;
}
