/* daydream-rtc: the route table of an HTTP server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * serve and the gateway each keep one table (drtc-serve-routes.c,
 * drtc-gateway-routes.c): an entry per method and path with its handler and
 * flags; the early handler reads the flags (token, body types and size),
 * the request handler dispatches on the entry. A route is one entry plus
 * its handler. `daydream-rtc serve|gateway --list-routes` prints the table
 * (tests/app/routes.py checks it against the documents).
 */
#include "drtc-http-route.h"

#include <string.h>

static const gchar *
segment_end (const gchar * s)
{
  const gchar *slash = strchr (s, '/');

  return slash ? slash : s + strlen (s);
}

/* Whether @path is @pattern's, segment by segment; the placeholders'
 * values go to @out (cleared first). */
static gboolean
match_pattern (const gchar * pattern, const gchar * path, gchar ** out)
{
  const gchar *p = pattern, *s = path;
  guint k = 0;

  for (;;) {
    const gchar *pe = segment_end (p), *se = segment_end (s);
    const gchar *close = *p == '{' ? memchr (p, '}', pe - p) : NULL;
    gsize tail = close ? (gsize) (pe - close - 1) : 0;

    if (close) {
      if ((gsize) (se - s) < tail || memcmp (se - tail, close + 1, tail))
        break;
      if (k < DRTC_ROUTE_MAX_PARAMS)
        out[k++] = g_strndup (s, se - s - tail);
    } else if (pe - p != se - s || memcmp (p, s, pe - p)) {
      break;
    }
    if (!*pe || !*se) {
      if (!*pe && !*se)
        return TRUE;
      break;
    }
    p = pe + 1;
    s = se + 1;
  }
  for (guint i = 0; i < k; i++)
    g_clear_pointer (&out[i], g_free);
  return FALSE;
}

static gboolean
on_stream_prefix (const DrtcRouteTable * table, const DrtcHttpRoute * route)
{
  return table->stream_prefix && (route->flags & (DRTC_ROUTE_PER_STREAM |
          DRTC_ROUTE_ONLY_PER_STREAM));
}

static gboolean
route_matches (const DrtcRouteTable * table, const DrtcHttpRoute * route,
    const gchar * path, DrtcRouteMatch * match)
{
  g_autofree gchar *full = NULL;

  drtc_route_match_clear (match);
  if (!(route->flags & DRTC_ROUTE_ONLY_PER_STREAM)
      && match_pattern (route->pattern, path, match->param)) {
    match->route = route;
    return TRUE;
  }
  /* the prefix's literal head first: most paths are not under it */
  if (!on_stream_prefix (table, route) || strncmp (path, table->stream_prefix,
          strcspn (table->stream_prefix, "{")) != 0)
    return FALSE;
  full = g_strconcat (table->stream_prefix, route->pattern, NULL);
  if (!match_pattern (full, path, match->param))
    return FALSE;
  match->route = route;
  return TRUE;
}

static gboolean
method_is (const DrtcHttpRoute * route, const gchar * method)
{
  return g_str_equal (route->method, method)
      || (g_str_equal (method, SOUP_METHOD_HEAD)
      && g_str_equal (route->method, SOUP_METHOD_GET));
}

/**
 * drtc_route_table_find:
 * @match: (out caller-allocates): the route and the path's placeholders
 *   (the caller sets query and stream)
 * @method_ok: (out): whether the route takes @method
 *
 * Returns: (nullable): the route for @method at @path; else the first one
 * at @path (*@method_ok FALSE: 405); NULL when no route has @path
 */
const DrtcHttpRoute *
drtc_route_table_find (const DrtcRouteTable * table, const gchar * method,
    const gchar * path, DrtcRouteMatch * match, gboolean * method_ok)
{
  const DrtcHttpRoute *first = NULL;
  DrtcRouteMatch found = { 0 };

  for (gsize i = 0; i < table->n_routes; i++) {
    const DrtcHttpRoute *route = &table->routes[i];

    if (!route_matches (table, route, path, match))
      continue;
    if (method_is (route, method)) {
      drtc_route_match_clear (&found);
      *method_ok = TRUE;
      return route;
    }
    if (!first) {
      first = route;
      found = *match;
      memset (match, 0, sizeof (*match));
    }
  }
  drtc_route_match_clear (match);
  *match = found;
  *method_ok = FALSE;
  return first;
}

/**
 * drtc_route_table_allow:
 *
 * Returns: (transfer full): the methods routed at @path, for an Allow
 * header ("GET, PATCH, DELETE"; "" when none)
 */
gchar *
drtc_route_table_allow (const DrtcRouteTable * table, const gchar * path)
{
  g_autoptr (GStrvBuilder) methods = g_strv_builder_new ();
  g_auto (GStrv) list = NULL;
  g_auto (DrtcRouteMatch) match = { 0 };

  for (gsize i = 0; i < table->n_routes; i++)
    if (route_matches (table, &table->routes[i], path, &match))
      g_strv_builder_add (methods, table->routes[i].method);
  list = g_strv_builder_end (methods);
  return g_strjoinv (", ", list);
}

/**
 * drtc_route_table_describe:
 *
 * Returns: (transfer full): a line per method and path: "POST /start\n"
 */
gchar *
drtc_route_table_describe (const DrtcRouteTable * table)
{
  GString *out = g_string_new (NULL);

  for (gsize i = 0; i < table->n_routes; i++) {
    const DrtcHttpRoute *route = &table->routes[i];

    if (!(route->flags & DRTC_ROUTE_ONLY_PER_STREAM))
      g_string_append_printf (out, "%s %s\n", route->method, route->pattern);
    if (on_stream_prefix (table, route))
      g_string_append_printf (out, "%s %s%s\n", route->method,
          table->stream_prefix, route->pattern);
  }
  return g_string_free (out, FALSE);
}

void
drtc_route_match_clear (DrtcRouteMatch * match)
{
  for (guint i = 0; i < DRTC_ROUTE_MAX_PARAMS; i++)
    g_clear_pointer (&match->param[i], g_free);
  match->route = NULL;
}
