/* daydream-rtc serve: frames in (POST /frames) and out (GET /whep/frame)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "drtc-frame-check.h"

G_BEGIN_DECLS
    void drtc_frames_push_b64 (GstElement * src, SoupServerMessage * msg,
    const gchar * b64, guint timeout_ms);
GstSample *drtc_frames_decode_b64 (const gchar * b64, GError ** error);
GstSample *drtc_frames_decode_image (GBytes * image,
    const DrtcFrameCheck * check, GError ** error);
gboolean drtc_frames_parse_raw_params (const gchar * w, const gchar * h,
    const gchar * f, guint * width, guint * height, GstVideoFormat * format,
    gchar ** error);
void drtc_frames_push_raw (GstElement * src, SoupServerMessage * msg,
    GHashTable * query, guint timeout_ms);
void drtc_frames_whep_frame (GstSample * sample, gint width, gint height,
    gdouble timestamp, const gchar * format, JsonNode * status,
    SoupServerMessage * msg);

G_END_DECLS
