/* daydream-rtc serve: what each route's JSON body must hold
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "drtc-request.h"
#include "drtc-serve-private.h"

G_BEGIN_DECLS

extern const DrtcJsonLimits drtc_serve_frames_limits;

gboolean drtc_serve_body_start (DrtcRequest * req, DrtcStartRequest * start);
gboolean drtc_serve_body_config (DrtcRequest * req, DrtcRuntimeConfig * config,
    const gchar ** queue_mode);
gboolean drtc_serve_body_pipeline (DrtcRequest * req, JsonNode ** config);
gboolean drtc_serve_body_frames (DrtcRequest * req, const gchar ** b64);
gchar *drtc_serve_body_whep_connect (DrtcRequest * req, guint * status,
    gchar ** detail);

G_END_DECLS
