/* daydream-rtc: stopping elements and pipelines off the calling thread
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS
    void drtc_teardown_run (const gchar * thread_name, GThreadFunc func,
    gpointer data);
void drtc_teardown_element (GstElement * element, const gchar * thread_name);
gboolean drtc_teardown_wait (gint64 timeout_us);

G_END_DECLS
