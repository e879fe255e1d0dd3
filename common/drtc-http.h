/* daydream-rtc: async HTTP for elements (WHIP/WHEP signalling)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _DrtcHttp DrtcHttp;

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

typedef struct
{
  const gchar *method;
  const gchar *url;
  const gchar *bearer;          /* Authorization: Bearer, kept on redirects */
  const gchar *content_type;
  GBytes *body;
  const gchar *if_match;
  guint timeout_s;              /* whole request, redirects included */
  guint max_redirects;          /* 307/308 followed with method and body */
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
GPtrArray *drtc_http_ice_servers_from_links (SoupMessageHeaders * headers);
gchar *drtc_http_redact_url (const gchar * url);
gchar *drtc_http_body_excerpt (GBytes * body, gsize max);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DrtcHttp, drtc_http_free)

G_END_DECLS
