/* daydream-rtc gateway: a local Daydream-compatible service
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  gchar *host;
  gint port;                    /* 0: any free port */
  gchar *api_key;               /* Bearer key the API, WHIP and WHEP
                                 * require, or NULL */
  gchar **allowed_origins;      /* browser origins besides our own */
  gchar **allowed_hosts;        /* Host names besides loopback and host */
  gboolean rfc;                 /* full RFC 9725 (trickle PATCH, DELETE) */
  gchar **ice_servers;          /* advertised in Link rel="ice-server" */
  gchar **local_addresses;      /* ICE gathers on these only */
  gchar *encoder;               /* H.264 encoder factory, NULL: choose */
  guint bitrate_kbps;
  guint fps;
  guint latency_ms;
  guint publisher_timeout_s;
  guint max_viewers;            /* connected WHEP viewers per stream */
  guint max_pending_viewers;    /* WHEP viewers still connecting, per stream */
  guint max_pending_total;      /* ... and over all streams together */
  guint max_streams;            /* streams at once; POST /v1/streams then 429 */
  guint viewer_connect_timeout_s;       /* a viewer not connected this long
                                         * after its answer is dropped */
  guint viewer_timeout_s;       /* a viewer without RTCP this long is gone */
  gboolean whep_counter_offer;  /* WHEP POST -> 406 + our offer, PATCH */
  /* fault switches, for tests */
  guint fail_creates;
  gboolean never_ready;
  gdouble whep_404_s;
  gdouble drop_publisher_s;
  guint api_delay_ms;
  guint whep_503;               /* the first N WHEP POSTs answer 503 */
  gboolean whep_bad_answer;     /* WHEP answers 201 with unusable SDP */
} DrtcGatewayOptions;

typedef struct _DrtcGateway DrtcGateway;

DrtcGateway *drtc_gateway_new (const DrtcGatewayOptions * options,
    GError ** error);
guint drtc_gateway_get_port (DrtcGateway * gateway);
void drtc_gateway_free (DrtcGateway * gateway);

int drtc_gateway_main (int argc, char **argv);

/* "METHOD PATH" a line, for tests: daydream-rtc gateway --list-routes */
gchar *drtc_gateway_describe_routes (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DrtcGateway, drtc_gateway_free)

G_END_DECLS
