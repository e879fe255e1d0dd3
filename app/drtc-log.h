/* daydream-rtc: logging levels for the commands (-v, -vv)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

void drtc_log_add_options (GOptionContext * ctx);
void drtc_log_setup (void);

G_END_DECLS
