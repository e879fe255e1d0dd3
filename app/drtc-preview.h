/* daydream-rtc: the /preview page of serve and of the gateway
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS
/* SoupServerCallbacks for soup_server_add_handler (server, "/preview", ...):
 * the first takes the DrtcServe, the second the DrtcGateway. */
void drtc_preview_serve_handler (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer serve);
void drtc_preview_gateway_handler (SoupServer * server,
    SoupServerMessage * msg, const char *path, GHashTable * query,
    gpointer gateway);

G_END_DECLS
