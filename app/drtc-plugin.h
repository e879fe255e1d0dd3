/* daydream-rtc: the daydreamrtc plugin this binary was built with
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean drtc_plugin_ensure (GError ** error);
const gchar *drtc_plugin_filename (void);

G_END_DECLS
