/* daydream-rtc: libFuzzer harness for REST bodies: drtc_json_parse (what
 * serve's drtc_request_new and the gateway call on every body) and the
 * typed getters the routes read fields with (common/drtc-json.c), over
 * every member, nested objects included. */
#include "drtc-json.h"

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

int
LLVMFuzzerTestOneInput (const guint8 * data, gsize size)
{
  g_autoptr (JsonNode) root = drtc_json_parse ((const gchar *) data, size,
      NULL);

  if (root && JSON_NODE_HOLDS_OBJECT (root)) {
    g_autofree gchar *text = NULL;

    read_fields (json_node_get_object (root), 0);
    text = drtc_json_to_string (root, FALSE);
  }
  return 0;
}
