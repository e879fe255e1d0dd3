/* daydream-rtc gateway: what the bodies of /v1/streams must hold
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* the codes are the HTTP status to answer */
#define DRTC_GATEWAY_BODY_ERROR (drtc_gateway_body_error_quark ())
GQuark drtc_gateway_body_error_quark (void);

JsonObject *drtc_gateway_body_object (const gchar * data, gsize len,
    GError ** error);
gboolean drtc_gateway_body_name (JsonObject * body, const gchar ** name,
    GError ** error);
JsonObject *drtc_gateway_body_params (JsonObject * body,
    const gchar * current_pipeline, JsonObject * current, gchar ** pipeline,
    GError ** error);

G_END_DECLS
