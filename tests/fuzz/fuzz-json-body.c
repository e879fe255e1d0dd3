/* daydream-rtc: libFuzzer harness for REST bodies: drtc_json_parse_limited
 * (what serve's drtc_request_new_limited and the gateway call on every
 * body: the strict pre-scan of common/drtc-json-scan.c, then json-glib),
 * with the default limits and with small ones, and the typed getters the
 * routes read fields with (common/drtc-json.c), over every member, nested
 * objects included. */
#include "drtc-json.h"
#include "drtc-json-scan.h"

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
  static const DrtcJsonLimits small = { 512, 4, 32 };
  g_autoptr (JsonNode) root = drtc_json_parse ((const gchar *) data, size,
      NULL);
  g_autoptr (JsonNode) bounded = drtc_json_parse_limited ((const gchar *) data,
      size, &small, NULL);

  /* what passes the small limits passes the defaults */
  if (bounded && !root)
    __builtin_trap ();
  if (root && JSON_NODE_HOLDS_OBJECT (root)) {
    g_autofree gchar *text = NULL;

    read_fields (json_node_get_object (root), 0);
    text = drtc_json_to_string (root, FALSE);
  }
  return 0;
}
