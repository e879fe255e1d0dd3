/* daydream-rtc: SoupServer reply helpers shared by serve and gateway
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS
/* libsoup 3.2 names neither */
#define DRTC_METHOD_PATCH "PATCH"
#define DRTC_STATUS_TOO_MANY_REQUESTS 429
void drtc_http_reply_json (SoupServerMessage * msg, guint status,
    JsonNode * body);
void drtc_http_reply_object (SoupServerMessage * msg, guint status,
    JsonBuilder * b);
void drtc_http_reply_text (SoupServerMessage * msg, guint status,
    const gchar * content_type, const gchar * text);
void drtc_http_reply_empty (SoupServerMessage * msg, guint status);
JsonNode *drtc_http_detail_body (const gchar * detail);
void drtc_http_reply_detail (SoupServerMessage * msg, guint status,
    const gchar * detail);
GBytes *drtc_http_request_body (SoupServerMessage * msg);
gchar *drtc_http_request_text (SoupServerMessage * msg);
const gchar *drtc_http_bearer (SoupServerMessage * msg);
gboolean drtc_http_content_type_is (SoupServerMessage * msg,
    const gchar * type);
gboolean drtc_http_secret_equal (const gchar * a, const gchar * b);
gchar *drtc_http_url_problem (const gchar * url, gsize max);

G_END_DECLS
