/* daydream-rtc gateway: state shared by its modules
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

#include "drtc-gateway.h"
#include "drtc-gateway-media.h"
#include "drtc-http-guard.h"
#include "drtc-http-route.h"

G_BEGIN_DECLS

#define DRTC_GATEWAY_MAX_BODY (256 * 1024)      /* any request's body */
#define DRTC_GATEWAY_LIVE_PREFIX "/live/video-to-video/"

/* The gateway's own route flags (drtc-gateway-routes.c's table). API: the API
 * key, --api-delay, JSON errors. BY_KEY: the stream is {stream_key}'s. */
#define DRTC_GATEWAY_ROUTE_API DRTC_ROUTE_SERVER_FLAGS
#define DRTC_GATEWAY_ROUTE_BY_KEY (DRTC_ROUTE_SERVER_FLAGS << 1)

/* The layers, each calling only those below it (docs/architecture.md):
 *   drtc-gateway.c        options, the server, its tick
 *   drtc-gateway-routes.c the route table, the early handler, dispatch
 *   drtc-gateway-api.c    /v1/streams (the REST API)
 *   drtc-gateway-whip-whep.c  /live/...: WHIP ingest, WHEP egress
 *   drtc-gateway-stream.c the streams and their publishers
 *   drtc-gateway-media.c  (and -viewers.c, -media-util.c) the pipelines
 * Upward only through callbacks: media events, answers. */

typedef struct
{
  DrtcGateway *gateway;         /* owner */
  gchar *id;                    /* str_... */
  gchar *key;                   /* stk_..., secret: in URLs, never logged */
  gchar *playback_id;
  gchar *name;
  gchar *pipeline;
  JsonObject *params;
  gchar *created_at;            /* ISO 8601 */
  gchar *params_updated_at;

  DrtcGatewayMedia *media;      /* NULL until the first publisher */
  gchar *session_id;            /* the newest WHIP session, or NULL */
  gchar *previous_session_id;   /* the current publisher's, while the
                                 * newest has not connected yet */
  guint etag_serial;
  gint64 publish_started_us;
  gboolean dropped_by_fault;    /* --drop-publisher-after did its job */
  gint64 unpublished_us;        /* when the publisher went, for cleanup */
  guint publisher_sessions;     /* WHIP offers answered, replacements too */
  guint viewer_serial;
  gdouble input_fps, output_fps;
  gchar *last_error;
} DrtcGatewayStream;

struct _DrtcGateway
{
  DrtcGatewayOptions opts;
  GMainContext *context;
  SoupServer *server;
  GSocketService *listener;     /* accepts for server */
  DrtcHttpGuard *guard;         /* Host, Origin, Content-Type */
  guint port;
  GHashTable *streams;          /* id -> DrtcGatewayStream (owned) */
  GHashTable *by_key;           /* key -> DrtcGatewayStream */
  guint creates;
  guint whep_503_left;          /* --whep-503 */
  GSource *tick;
};

/* drtc-gateway-routes.c: the server's handlers */
void drtc_gateway_on_request_headers (SoupServer * server,
    SoupServerMessage * msg, const char *path, GHashTable * query,
    gpointer gw);
void drtc_gateway_on_request (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer gw);

/* drtc-gateway-stream.c */
gchar *drtc_gateway_url (DrtcGateway * gw, const gchar * path);
gchar *drtc_gateway_whip_path (DrtcGatewayStream * stream);
gchar *drtc_gateway_whep_path (DrtcGatewayStream * stream);
gchar *drtc_gateway_random_id (const gchar * prefix);
void drtc_gateway_stream_free (DrtcGatewayStream * stream);
gboolean drtc_gateway_ensure_media (DrtcGatewayStream * stream,
    GError ** error);
void drtc_gateway_publisher_started (DrtcGatewayStream * stream);
void drtc_gateway_end_publisher (DrtcGatewayStream * stream,
    const gchar * reason);
void drtc_gateway_apply_params (DrtcGatewayStream * stream);
void drtc_gateway_stream_tick (DrtcGatewayStream * stream);

/* drtc-gateway-api.c: route handlers (DrtcRouteFunc) and helpers */
DrtcRouteHandler drtc_gateway_api_create;
DrtcRouteHandler drtc_gateway_api_get;
DrtcRouteHandler drtc_gateway_api_update;
DrtcRouteHandler drtc_gateway_api_delete;
DrtcRouteHandler drtc_gateway_api_status;
gboolean drtc_gateway_api_authorized (DrtcGateway * gw,
    SoupServerMessage * msg);
void drtc_gateway_reply_error (SoupServerMessage * msg, guint status,
    const gchar * format, ...) G_GNUC_PRINTF (3, 4);
void drtc_gateway_reply_message (SoupServerMessage * msg, guint status,
    const gchar * message);

/* drtc-gateway-whip-whep.c: route handlers (DrtcRouteFunc) */
DrtcRouteHandler drtc_gateway_whip_post;
DrtcRouteHandler drtc_gateway_whip_patch;
DrtcRouteHandler drtc_gateway_whip_delete;
DrtcRouteHandler drtc_gateway_whep_post;
DrtcRouteHandler drtc_gateway_whep_patch;
DrtcRouteHandler drtc_gateway_whep_delete;

G_END_DECLS
