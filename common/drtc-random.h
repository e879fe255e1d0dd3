/* daydream-rtc: identifiers and keys from the kernel's CSPRNG
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS
/* the fewest random bytes of any identifier that grants access */
#define DRTC_RANDOM_MIN_BYTES 16
    gchar * drtc_random_token (const gchar * prefix, guint bytes);

G_END_DECLS
