/* daydream-rtc serve: the REST control server ComfyUI workflows call
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

int drtc_serve_main (int argc, char **argv);

G_END_DECLS
