/* daydream-rtc serve: the REST control server ComfyUI workflows call
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

int drtc_serve_main (int argc, char **argv);

/* "METHOD PATH" a line, for tests: daydream-rtc serve --list-routes */
gchar *drtc_serve_describe_routes (void);

G_END_DECLS
