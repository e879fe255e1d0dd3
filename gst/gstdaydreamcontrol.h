/* daydream-rtc: daydreamcontrol, a Daydream stream driven from a pipeline
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_DAYDREAM_CONTROL (gst_daydream_control_get_type ())
G_DECLARE_FINAL_TYPE (GstDaydreamControl, gst_daydream_control, GST,
    DAYDREAM_CONTROL, GstElement)

GST_ELEMENT_REGISTER_DECLARE (daydreamcontrol);

G_GNUC_INTERNAL
gboolean gst_daydream_control_is_managing (GstElement * element);

G_END_DECLS
