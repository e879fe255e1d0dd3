/* daydream-rtc serve: what a request must be before a route sees it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The early handler runs once a request's head is in, before its body is
 * read: a request refused here (414 path, 421 Host, 403 Origin, 415
 * Content-Type, 401 token, 404 route, 405 method, 413 size) is answered
 * at once, its body unread, and the connection closes
 * (drtc_http_guard_refuse). A body without Content-Length (chunked) is
 * counted as it comes and refused as soon as it passes the route's limit.
 */
#include "drtc-serve-private.h"
#include "drtc-http-util.h"

#include <string.h>

static const gchar *const json_types[] = { "application/json", NULL };

static gboolean
authorized (DrtcServe * serve, SoupServerMessage * msg, const gchar * path,
    const DrtcHttpRoute * route)
{
  /* /preview's page and scripts are public; the frames it shows are not */
  gboolean page = g_str_has_prefix (path, "/preview")
      && !g_str_equal (path, "/preview/input.jpg");

  if (!serve->opts.access_token || page
      || (route && (route->flags & DRTC_ROUTE_PUBLIC))
      || g_str_equal (soup_server_message_get_method (msg),
          SOUP_METHOD_OPTIONS))
    return TRUE;
  if (drtc_http_secret_equal (drtc_http_bearer (msg), serve->opts.access_token))
    return TRUE;
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "WWW-Authenticate", "Bearer");
  return FALSE;
}

/* 404 or 405 before the body (/preview routes its own requests; OPTIONS
 * answers a preflight on any path) */
static const gchar *
routed (SoupServerMessage * msg, const gchar * path, guint * status)
{
  if (g_str_has_prefix (path, "/preview")
      || g_str_equal (soup_server_message_get_method (msg),
          SOUP_METHOD_OPTIONS))
    return NULL;
  return drtc_serve_route_refusal (msg, path, status);
}

/**
 * drtc_serve_on_request_headers:
 *
 * The early handler: requests refused before their body is read.
 */
void
drtc_serve_on_request_headers (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer data)
{
  DrtcServe *serve = data;
  const gchar *q = g_uri_get_query (soup_server_message_get_uri (msg));
  g_auto (DrtcRouteMatch) match = { 0 };
  const DrtcHttpRoute *route;
  gboolean method_ok;
  const gchar *why;
  guint status = 0;

  if (strlen (path) + (q ? strlen (q) : 0) > DRTC_SERVE_MAX_PATH) {
    drtc_http_guard_refuse (msg, SOUP_STATUS_REQUEST_URI_TOO_LONG,
        "request path and query over " G_STRINGIFY (DRTC_SERVE_MAX_PATH)
        " bytes", drtc_http_reply_detail);
    return;
  }
  /* what the route takes, by the table; the same for a wrong method */
  route = drtc_route_table_find (drtc_serve_routes (),
      soup_server_message_get_method (msg), path, &match, &method_ok);
  why = drtc_http_guard_check (serve->guard, msg, route && route->body_types ?
      route->body_types : json_types, &status);
  if (why) {
    drtc_http_guard_refuse (msg, status, why, drtc_http_reply_detail);
    return;
  }
  drtc_http_guard_cors (serve->guard, msg, NULL);
  if (!authorized (serve, msg, path, route)) {
    drtc_http_guard_refuse (msg, SOUP_STATUS_UNAUTHORIZED,
        "Authorization: Bearer <access token> required",
        drtc_http_reply_detail);
    return;
  }
  why = routed (msg, path, &status);
  if (why) {
    drtc_http_guard_refuse (msg, status, why, drtc_http_reply_detail);
    return;
  }
  drtc_http_guard_limit_body (msg, route && route->body_limit ?
      route->body_limit : DRTC_SERVE_MAX_JSON, drtc_http_reply_detail);
}
