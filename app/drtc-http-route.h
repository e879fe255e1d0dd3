/* daydream-rtc: the route table of an HTTP server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef enum
{
  DRTC_ROUTE_PUBLIC = 1 << 0,   /* answered without the token or API key */
  DRTC_ROUTE_NEEDS_STREAM = 1 << 1,     /* acts on a stream that exists */
  DRTC_ROUTE_CHANGES_STATE = 1 << 2,    /* makes the stream it names when
                                         * missing (POSTs only: no GET
                                         * creates or changes anything) */
  DRTC_ROUTE_PER_STREAM = 1 << 3,       /* also under the server's stream
                                         * prefix (serve: /streams/{name}) */
  DRTC_ROUTE_ONLY_PER_STREAM = 1 << 4,  /* only there */
  DRTC_ROUTE_SERVER_FLAGS = 1 << 8,     /* the first of a server's own */
} DrtcRouteFlags;

#define DRTC_ROUTE_MAX_PARAMS 2

typedef struct _DrtcHttpRoute DrtcHttpRoute;

/* What a request's path gave; param[i] is the i-th {placeholder} (the
 * stream prefix's first), NULL where the route has none. */
typedef struct
{
  const DrtcHttpRoute *route;
  gchar *param[DRTC_ROUTE_MAX_PARAMS];
  GHashTable *query;            /* nullable */
  gpointer stream;              /* the server's, once it looked it up */
} DrtcRouteMatch;

/* A route's handler; DrtcRouteHandler declares one: "DrtcRouteHandler
 * my_route;" */
typedef void DrtcRouteHandler (gpointer server, SoupServerMessage * msg,
    DrtcRouteMatch * match);
typedef DrtcRouteHandler *DrtcRouteFunc;

struct _DrtcHttpRoute
{
  const gchar *method;          /* GET also answers HEAD */
  const gchar *pattern;         /* "/v1/streams/{id}/status": a {name}
                                 * stands for one segment (with a literal
                                 * tail: "{stream_key}-out") */
  DrtcRouteFunc handler;
  guint flags;                  /* DrtcRouteFlags, the server's own */
  goffset body_limit;           /* bytes; 0: the server's default */
  const gchar *const *body_types;       /* NULL: the server's default */
};

typedef struct
{
  const DrtcHttpRoute *routes;
  gsize n_routes;
  const gchar *stream_prefix;   /* for DRTC_ROUTE_PER_STREAM, or NULL */
} DrtcRouteTable;

const DrtcHttpRoute *drtc_route_table_find (const DrtcRouteTable * table,
    const gchar * method, const gchar * path, DrtcRouteMatch * match,
    gboolean * method_ok);
gchar *drtc_route_table_allow (const DrtcRouteTable * table,
    const gchar * path);
gchar *drtc_route_table_describe (const DrtcRouteTable * table);
void drtc_route_match_clear (DrtcRouteMatch * match);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DrtcRouteMatch, drtc_route_match_clear)

G_END_DECLS
