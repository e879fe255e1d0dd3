/* daydream-rtc: how serve and the gateway start their HTTP server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libsoup/soup.h>

#include "drtc-http-guard.h"

G_BEGIN_DECLS

typedef struct
{
  const gchar *host;            /* an IP address */
  gint port;                    /* 0: any free port */
  const gchar *const *allowed_hosts;    /* for the guard */
  const gchar *const *allowed_origins;
  const gchar *server_header;
  guint idle_timeout_s;
  SoupServerCallback on_request;        /* every path but /preview... */
  SoupServerCallback on_preview;        /* /preview... */
  SoupServerCallback on_request_headers;        /* the early handler: both */
  gpointer user_data;
} DrtcHttpServerSetup;

gboolean drtc_http_server_start (const DrtcHttpServerSetup * setup,
    SoupServer ** server, GSocketService ** listener, DrtcHttpGuard ** guard,
    guint * port, GError ** error);

G_END_DECLS
