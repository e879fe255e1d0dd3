/* daydream-rtc serve: what a frame_b64 must be before a decoder sees it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define DRTC_FRAME_MAX_SIDE 16384
#define DRTC_FRAME_MAX_PIXELS (1 << 25)  /* 8192x4096: 96 MiB as RGB */

typedef enum
{
  DRTC_FRAME_PNG = 1,
  DRTC_FRAME_JPEG,
} DrtcFrameType;

typedef struct
{
  DrtcFrameType type;
  guint width, height;
  gsize size;                   /* the bytes to decode: up to IEND or EOI */
} DrtcFrameCheck;

gboolean drtc_frame_check (const guint8 * data, gsize len,
    DrtcFrameCheck * out, GError ** error);
GBytes *drtc_frame_check_b64 (const gchar * b64, DrtcFrameCheck * out,
    GError ** error);

G_END_DECLS
