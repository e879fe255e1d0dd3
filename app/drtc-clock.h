/* daydream-rtc: the wall clock the REST fields use
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A leaf: serve, its stream and WHEP controllers and the preview all read
 * it, and it calls none of them.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gdouble drtc_now (void);

G_END_DECLS
