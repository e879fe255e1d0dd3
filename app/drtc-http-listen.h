/* daydream-rtc: the listening socket of serve and the gateway
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

#define DRTC_HTTP_MAX_LINE 8256 /* first request line, bytes */
#define DRTC_HTTP_HEAD_TIMEOUT_S 10     /* a request head must be in by then */
#define DRTC_HTTP_IDLE_TIMEOUT_S 60     /* the default of --idle-timeout */

GSocketService *drtc_http_listen (SoupServer * server,
    GSocketAddress * address, guint idle_timeout_s, guint * port,
    GError ** error);
void drtc_http_listen_stop (GSocketService * service);
gboolean drtc_http_listen_answer_now (SoupServerMessage * msg);

G_END_DECLS
