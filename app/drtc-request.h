/* daydream-rtc serve: reading request bodies the way the reference tool's
 * clients expect (FastAPI/pydantic rules, 422 list errors)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "drtc-json-scan.h"

G_BEGIN_DECLS

typedef struct _DrtcRequest DrtcRequest;

DrtcRequest *drtc_request_new_from_bytes (const gchar * data, gsize len,
    gboolean body_required, const DrtcJsonLimits * limits);
DrtcRequest *drtc_request_new (SoupServerMessage * msg, gboolean body_required);
DrtcRequest *drtc_request_new_limited (SoupServerMessage * msg,
    gboolean body_required, const DrtcJsonLimits * limits);
void drtc_request_free (DrtcRequest * req);
JsonObject *drtc_request_object (DrtcRequest * req);
gboolean drtc_request_ok (DrtcRequest * req);

/* Each returns TRUE when the field is present and usable; an unusable one
 * is recorded as a 422 item. @nullable: JSON null reads as absent. */
gboolean drtc_request_int (DrtcRequest * req, const gchar * field,
    gboolean required, gboolean nullable, gint64 * value);
gboolean drtc_request_string (DrtcRequest * req, const gchar * field,
    gboolean required, const gchar ** value);
gboolean drtc_request_object_field (DrtcRequest * req, const gchar * field,
    gboolean required, gboolean nullable, JsonNode ** value);
void drtc_request_enum (DrtcRequest * req, const gchar * field,
    const gchar * const *choices, const gchar ** out);
void drtc_request_size (DrtcRequest * req, const gchar * field, gint64 min,
    gint64 max, gboolean even, gint * out);
void drtc_request_range (DrtcRequest * req, const gchar * field, gint64 value,
    gint64 min, gint64 max);
void drtc_request_problem (DrtcRequest * req, const gchar * type,
    const gchar * field, const gchar * msg);

guint drtc_request_status (DrtcRequest * req);
JsonNode *drtc_request_errors (DrtcRequest * req);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DrtcRequest, drtc_request_free)

G_END_DECLS
