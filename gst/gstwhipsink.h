/* daydream-rtc: whipsink, a WHIP (RFC 9725) publisher on webrtcbin
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_DAYDREAM_WHIP_SINK (gst_daydream_whip_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstDaydreamWhipSink, gst_daydream_whip_sink, GST,
    DAYDREAM_WHIP_SINK, GstBin)

/**
 * GstDaydreamWhipTrickle:
 * @GST_DAYDREAM_WHIP_TRICKLE_AUTO: wait (bounded) for gathering, send the
 *   full offer; PATCH what was gathered late only if the server accepts it
 * @GST_DAYDREAM_WHIP_TRICKLE_ON: send the offer at once, PATCH every
 *   candidate (the server must support trickle)
 * @GST_DAYDREAM_WHIP_TRICKLE_OFF: wait (bounded) for gathering, never PATCH
 */
typedef enum
{
  GST_DAYDREAM_WHIP_TRICKLE_AUTO,
  GST_DAYDREAM_WHIP_TRICKLE_ON,
  GST_DAYDREAM_WHIP_TRICKLE_OFF,
} GstDaydreamWhipTrickle;

GST_ELEMENT_REGISTER_DECLARE (whipsink);

G_END_DECLS
