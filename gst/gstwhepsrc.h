/* daydream-rtc: whepsrc, a WHEP subscriber (webrtcbin -> depay -> decoder)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_DAYDREAM_WHEP_SRC (gst_daydream_whep_src_get_type ())
G_DECLARE_FINAL_TYPE (GstDaydreamWhepSrc, gst_daydream_whep_src,
    GST, DAYDREAM_WHEP_SRC, GstBin)

GST_ELEMENT_REGISTER_DECLARE (whepsrc);

G_END_DECLS
