/* daydream-rtc: async HTTP for elements (WHIP/WHEP signalling)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS typedef struct _DrtcHttp DrtcHttp;

typedef struct
{
  guint status;
  SoupMessageHeaders *headers;  /* response headers */
  GBytes *body;
  GUri *uri;                    /* the URL that answered, after redirects */
  guint redirects;
} DrtcHttpResponse;

/* On the DrtcHttp thread. @response is NULL when the request failed
 * (network, timeout, too many redirects, cancelled): @error says why. */
typedef void (*DrtcHttpCallback) (DrtcHttpResponse * response,
    const GError * error, gpointer user_data);

/* Where a redirect may take the Authorization header. */
typedef enum
{
  /* a stream-scoped WHIP/WHEP token: follows a 307 to another host (RFC
   * 9725 clients do; Daydream sends WHIP to regional gateway hosts) */
  DRTC_HTTP_BEARER_FOLLOWS = 0,
  /* an account-wide key: dropped once a redirect changes scheme, host or
   * port, as curl and requests do */
  DRTC_HTTP_BEARER_SAME_ORIGIN = 1,
} DrtcHttpBearerScope;

typedef enum
{
  DRTC_HTTP_REDIRECT_REFUSE,    /* not http(s), or https -> http */
  DRTC_HTTP_REDIRECT_KEEP_AUTH,
  DRTC_HTTP_REDIRECT_DROP_AUTH,
} DrtcHttpRedirect;

typedef struct
{
  const gchar *method;
  const gchar *url;
  const gchar *bearer;          /* Authorization: Bearer (see bearer_scope) */
  const gchar *content_type;
  GBytes *body;
  const gchar *if_match;
  guint timeout_s;              /* whole request, redirects included */
  guint max_redirects;          /* 307/308 followed with method and body;
                                 * never from https to http */
  DrtcHttpBearerScope bearer_scope;
} DrtcHttpRequest;

DrtcHttp *drtc_http_new (const gchar * name);
DrtcHttp *drtc_http_new_for_context (GMainContext * context);
void drtc_http_free (DrtcHttp * http);
GMainContext *drtc_http_get_context (DrtcHttp * http);
void drtc_http_invoke (DrtcHttp * http, GSourceFunc func, gpointer data,
    GDestroyNotify notify);
void drtc_http_cancel_all (DrtcHttp * http);

void drtc_http_send (DrtcHttp * http, const DrtcHttpRequest * request,
    DrtcHttpCallback callback, gpointer user_data, GDestroyNotify notify);
gboolean drtc_http_send_and_wait (DrtcHttp * http,
    const DrtcHttpRequest * request, guint wait_s, guint * status);

gchar *drtc_http_resolve (GUri * base, const gchar * reference);
gboolean drtc_http_uri_is_http (GUri * uri);
gboolean drtc_http_host_is_loopback (const gchar * host);
gboolean drtc_http_same_origin (const gchar * a, const gchar * b);
DrtcHttpRedirect drtc_http_redirect_policy (GUri * from, GUri * to,
    DrtcHttpBearerScope scope);
GPtrArray *drtc_http_ice_servers_from_links (SoupMessageHeaders * headers);
gchar *drtc_http_redact_url (const gchar * url);
gchar *drtc_http_body_excerpt (GBytes * body, gsize max);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DrtcHttp, drtc_http_free)
    G_END_DECLS
