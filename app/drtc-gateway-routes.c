/* daydream-rtc gateway: its routes and how a request reaches one
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The table of every method and path the gateway answers, the early
 * handler that reads the entry's flags before the body (guard, API key,
 * body limit) and the dispatch: the stream the path names, the method,
 * --api-delay, the handler (drtc-gateway-api.c, drtc-gateway-whip-whep.c).
 * A new route is an entry here and its handler there.
 */
#include "drtc-gateway-private.h"
#include "drtc-http-util.h"

#include <string.h>

#define LIVE_PREFIX DRTC_GATEWAY_LIVE_PREFIX

/* ---- the route table ---- */

static void
reply_healthz (gpointer gw, SoupServerMessage * msg, DrtcRouteMatch * m)
{
  drtc_http_reply_text (msg, SOUP_STATUS_OK, "application/json",
      "{\"ok\":true}");
}

static const gchar *const json_types[] = { "application/json", NULL };

/* the WHIP/WHEP handlers check which of them each method takes */
static const gchar *const media_types[] = {
  "application/sdp", "application/trickle-ice-sdpfrag", NULL
};

#define LIVE LIVE_PREFIX
#define API DRTC_GATEWAY_ROUTE_API
#define STREAM DRTC_ROUTE_NEEDS_STREAM
#define MEDIA (DRTC_ROUTE_NEEDS_STREAM | DRTC_GATEWAY_ROUTE_BY_KEY)

/* One entry per method and path (docs/gateway.md lists each:
 * tests/app/routes.py checks); {id} and {stream_key} name the stream,
 * looked up before the handler runs. Bodies: at most
 * DRTC_GATEWAY_MAX_BODY bytes of application/json unless the entry says. */
static const DrtcHttpRoute routes[] = {
  {"GET", "/healthz", reply_healthz, DRTC_ROUTE_PUBLIC},
  {"POST", "/v1/streams", drtc_gateway_api_create, API},
  {"GET", "/v1/streams/{id}", drtc_gateway_api_get, API | STREAM},
  {"PATCH", "/v1/streams/{id}", drtc_gateway_api_update, API | STREAM},
  {"DELETE", "/v1/streams/{id}", drtc_gateway_api_delete, API | STREAM},
  {"GET", "/v1/streams/{id}/status", drtc_gateway_api_status, API | STREAM},
  {"POST", LIVE "{stream_key}/whip", drtc_gateway_whip_post, MEDIA, 0,
      media_types},
  {"PATCH", LIVE "{stream_key}/whip/{session}", drtc_gateway_whip_patch,
      MEDIA, 0, media_types},
  {"DELETE", LIVE "{stream_key}/whip/{session}", drtc_gateway_whip_delete,
      MEDIA, 0, media_types},
  {"POST", LIVE "{stream_key}-out/whep", drtc_gateway_whep_post, MEDIA, 0,
      media_types},
  {"PATCH", LIVE "{stream_key}-out/whep/{viewer}", drtc_gateway_whep_patch,
      MEDIA, 0, media_types},
  {"DELETE", LIVE "{stream_key}-out/whep/{viewer}", drtc_gateway_whep_delete,
      MEDIA, 0, media_types},
};

static const DrtcRouteTable table = { routes, G_N_ELEMENTS (routes), NULL };

gchar *
drtc_gateway_describe_routes (void)
{
  return drtc_route_table_describe (&table);
}

/* Daydream's clients create at /v1/streams and /v1/streams/ alike */
static const gchar *
route_path (const gchar * path)
{
  return g_str_equal (path, "/v1/streams/") ? "/v1/streams" : path;
}

/* ---- routing ---- */

/* The early handler, once the head is in and before the body is read:
 * Host, Origin and Content-Type (drtc-http-guard.c), the API key (API,
 * WHIP and WHEP alike), a path
 * nothing serves, and the body's size, counted as it comes when it is
 * chunked; by the route's flags (the same for a wrong method). A refusal
 * goes out at once, the body unread. */
void
drtc_gateway_on_request_headers (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer data)
{
  DrtcGateway *gw = data;
  const gchar *method = soup_server_message_get_method (msg);
  g_auto (DrtcRouteMatch) m = { 0 };
  const DrtcHttpRoute *route;
  gboolean method_ok;
  const gchar *why;
  guint status = 0;

  route = drtc_route_table_find (&table, method, route_path (path), &m,
      &method_ok);
  why = drtc_http_guard_check (gw->guard, msg, route && route->body_types ?
      route->body_types : json_types, &status);
  if (why) {
    drtc_http_guard_refuse (msg, status, why, drtc_gateway_reply_message);
    return;
  }
  drtc_http_guard_cors (gw->guard, msg,
      "Location, ETag, Link, Livepeer-Playback-URL, Accept-Patch");
  /* the key, when set, guards the media routes too: a stream key in a
   * URL is no proof (it shows in logs, status JSON and players) */
  if (route && (route->flags & (API | DRTC_GATEWAY_ROUTE_BY_KEY))
      && !g_str_equal (method, SOUP_METHOD_OPTIONS)
      && !drtc_gateway_api_authorized (gw, msg)) {
    drtc_http_guard_answer_now (msg);
    return;
  }
  /* /preview routes its own requests */
  if (!route && !g_str_has_prefix (path, "/preview")) {
    drtc_http_guard_refuse (msg, SOUP_STATUS_NOT_FOUND, "Not Found",
        drtc_gateway_reply_message);
    return;
  }
  drtc_http_guard_limit_body (msg, route && route->body_limit ?
      route->body_limit : DRTC_GATEWAY_MAX_BODY, drtc_gateway_reply_message);
}

/* Errors are JSON ({"success": false, "error"}), but text on WHIP/WHEP
 * resources (as Daydream's gateway answers there) */
static void
reply_route_error (SoupServerMessage * msg, const DrtcHttpRoute * route,
    guint status, const gchar * text)
{
  if (!(route->flags & DRTC_GATEWAY_ROUTE_BY_KEY))
    drtc_gateway_reply_error (msg, status, "%s", text);
  else
    drtc_http_reply_text (msg, status, "text/plain; charset=utf-8", text);
}

/* The stream the path names (404 when none), the method (405), the
 * route's handler. */
static void
handle_route (DrtcGateway * gw, SoupServerMessage * msg, DrtcRouteMatch * m,
    gboolean method_ok, const gchar * path)
{
  const DrtcHttpRoute *route = m->route;
  gboolean by_key = route->flags & DRTC_GATEWAY_ROUTE_BY_KEY;

  if (route->flags & DRTC_ROUTE_NEEDS_STREAM) {
    m->stream = g_hash_table_lookup (by_key ? gw->by_key : gw->streams,
        m->param[0]);
    if (!m->stream) {
      reply_route_error (msg, route, SOUP_STATUS_NOT_FOUND, by_key ?
          "no stream with this key" : "stream not found");
      return;
    }
  }
  if (!method_ok) {
    g_autofree gchar *allow = drtc_route_table_allow (&table, path);

    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Allow", allow);
    reply_route_error (msg, route, SOUP_STATUS_METHOD_NOT_ALLOWED,
        "Method Not Allowed");
    return;
  }
  route->handler (gw, msg, m);
}

/* --api-delay: a request of the API, answered late */
typedef struct
{
  DrtcGateway *gw;
  SoupServerMessage *msg;
  DrtcRouteMatch match;
  gboolean method_ok;
  gchar *path;
} Delayed;

static gboolean
on_delay_done (gpointer data)
{
  Delayed *d = data;

  handle_route (d->gw, d->msg, &d->match, d->method_ok, d->path);
  soup_server_message_unpause (d->msg);
  g_object_unref (d->msg);
  drtc_route_match_clear (&d->match);
  g_free (d->path);
  g_free (d);
  return G_SOURCE_REMOVE;
}

static void
handle_later (DrtcGateway * gw, SoupServerMessage * msg, DrtcRouteMatch * m,
    gboolean method_ok, const gchar * path)
{
  Delayed *d = g_new0 (Delayed, 1);
  GSource *source;

  d->gw = gw;
  d->msg = g_object_ref (msg);
  d->match = *m;
  memset (m, 0, sizeof (*m));
  d->method_ok = method_ok;
  d->path = g_strdup (path);
  soup_server_message_pause (msg);
  source = g_timeout_source_new (gw->opts.api_delay_ms);
  g_source_set_callback (source, on_delay_done, d, NULL);
  g_source_attach (source, gw->context);
  g_source_unref (source);
}

void
drtc_gateway_on_request (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer data)
{
  DrtcGateway *gw = data;
  const gchar *method = soup_server_message_get_method (msg);
  g_auto (DrtcRouteMatch) m = { 0 };
  gboolean method_ok;

  /* the early handler added CORS headers for an allowed Origin */
  if (g_str_equal (method, SOUP_METHOD_OPTIONS)) {
    drtc_http_reply_empty (msg, SOUP_STATUS_NO_CONTENT);
    return;
  }
  path = route_path (path);
  if (!drtc_route_table_find (&table, method, path, &m, &method_ok)) {
    drtc_gateway_reply_error (msg, SOUP_STATUS_NOT_FOUND, "Not Found");
    return;
  }
  m.query = query;
  if ((m.route->flags & API) && gw->opts.api_delay_ms)
    handle_later (gw, msg, &m, method_ok, path);
  else
    handle_route (gw, msg, &m, method_ok, path);
}
