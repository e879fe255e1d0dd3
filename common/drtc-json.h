/* daydream-rtc: small json-glib helpers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "drtc-json-scan.h"

G_BEGIN_DECLS

JsonNode *drtc_json_parse (const gchar * data, gssize length, GError ** error);
JsonNode *drtc_json_parse_limited (const gchar * data, gssize length,
    const DrtcJsonLimits * limits, GError ** error);
gchar *drtc_json_to_string (JsonNode * node, gboolean pretty);

gboolean drtc_json_member_is (JsonObject * object, const gchar * member,
    GType value_type);
const gchar *drtc_json_get_string (JsonObject * object, const gchar * member);
gboolean drtc_json_get_number (JsonObject * object, const gchar * member,
    gdouble * value);
gboolean drtc_json_get_int (JsonObject * object, const gchar * member,
    gint64 * value);

void drtc_json_builder_add_string (JsonBuilder * b, const gchar * member,
    const gchar * value);
void drtc_json_builder_add_int (JsonBuilder * b, const gchar * member,
    gint64 value);
void drtc_json_builder_add_double (JsonBuilder * b, const gchar * member,
    gdouble value);
void drtc_json_builder_add_boolean (JsonBuilder * b, const gchar * member,
    gboolean value);

G_END_DECLS
