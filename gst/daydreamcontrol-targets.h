/* daydream-rtc: the whipsink and whepsrc a daydreamcontrol drives
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS
    GstElement * control_find_target (GstElement * control, const gchar * name,
    const gchar * factory);
void control_give_endpoint (GWeakRef * ref, const gchar * property,
    const gchar * url, const gchar * token);

G_END_DECLS
