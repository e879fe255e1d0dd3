/* daydream-rtc: whipsink's RGB -> I420 converter (libyuv)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

#define DRTC_TYPE_I420_CONVERT (drtc_i420_convert_get_type ())
G_DECLARE_FINAL_TYPE (DrtcI420Convert, drtc_i420_convert, DRTC, I420_CONVERT,
    GstVideoFilter)

G_END_DECLS
