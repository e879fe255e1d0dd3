/* daydream-rtc: choice and set-up of the H.264 encoder
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct
{
  guint fps;                    /* frames per second the stream runs at */
  guint bitrate_kbps;
  guint keyframe_interval;      /* frames between keyframes; 0 = fps / 2 */
  guint width, height;          /* of the frames, when known (else 0) */
} DrtcEncoderSettings;

GList *drtc_encoder_candidates (void);

GstElement *drtc_encoder_make (const gchar * factory_name,
    const DrtcEncoderSettings * settings, GError ** error);

void drtc_encoder_configure (GstElement * encoder,
    const DrtcEncoderSettings * settings);

G_END_DECLS
