/* daydream-rtc: SoupServer reply helpers shared by serve and gateway
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "drtc-http-util.h"
#include "drtc-http.h"
#include "drtc-json.h"

#include <string.h>

void
drtc_http_reply_json (SoupServerMessage * msg, guint status, JsonNode * body)
{
  gchar *text = drtc_json_to_string (body, FALSE);

  /* libsoup 3.2 has no phrase for these */
  soup_server_message_set_status (msg, status, status == 421 ?
      "Misdirected Request" : status == 415 ? "Unsupported Media Type" : NULL);
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_TAKE, text, strlen (text));
}

/* Ends the object @b is building and answers it with @status. */
void
drtc_http_reply_object (SoupServerMessage * msg, guint status, JsonBuilder * b)
{
  g_autoptr (JsonNode) body = NULL;

  json_builder_end_object (b);
  body = json_builder_get_root (b);
  drtc_http_reply_json (msg, status, body);
}

/**
 * drtc_http_detail_body:
 *
 * `{"detail": "..."}`: the error shape of the REST API (FastAPI's).
 */
JsonNode *
drtc_http_detail_body (const gchar * detail)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "detail");
  json_builder_add_string_value (b, detail);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

void
drtc_http_reply_detail (SoupServerMessage * msg, guint status,
    const gchar * detail)
{
  g_autoptr (JsonNode) body = drtc_http_detail_body (detail);

  drtc_http_reply_json (msg, status, body);
}

void
drtc_http_reply_text (SoupServerMessage * msg, guint status,
    const gchar * content_type, const gchar * text)
{
  soup_server_message_set_status (msg, status, NULL);
  if (text)
    soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY,
        text, strlen (text));
}

/* A reply without a body. libsoup 3.2 closes the connection after a 204
 * without saying so; "Connection: close" tells the client, which would
 * otherwise reuse the dead connection. Other statuses get a zero length and
 * keep the connection. */
void
drtc_http_reply_empty (SoupServerMessage * msg, guint status)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);

  soup_server_message_set_status (msg, status, NULL);
  if (status == SOUP_STATUS_NO_CONTENT)
    soup_message_headers_replace (h, "Connection", "close");
  else
    soup_message_headers_set_content_length (h, 0);
}

/* (transfer full): the request body (empty when there is none) */
GBytes *
drtc_http_request_body (SoupServerMessage * msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  return soup_message_body_flatten (body);
}

/* (transfer full): the body as a NUL-terminated string */
gchar *
drtc_http_request_text (SoupServerMessage * msg)
{
  g_autoptr (GBytes) bytes = drtc_http_request_body (msg);
  gsize len = 0;
  const gchar *data = g_bytes_get_data (bytes, &len);

  return g_strndup (data ? data : "", len);
}

/* The token of "Authorization: Bearer <token>", or NULL. */
const gchar *
drtc_http_bearer (SoupServerMessage * msg)
{
  const gchar *auth = soup_message_headers_get_one
      (soup_server_message_get_request_headers (msg), "Authorization");

  if (!auth || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0)
    return NULL;
  return auth + 7;
}

gboolean
drtc_http_content_type_is (SoupServerMessage * msg, const gchar * type)
{
  const gchar *ct = soup_message_headers_get_content_type
      (soup_server_message_get_request_headers (msg), NULL);

  return ct && g_ascii_strcasecmp (ct, type) == 0;
}

/* Compares secrets in time independent of where they differ. */
gboolean
drtc_http_secret_equal (const gchar * a, const gchar * b)
{
  gsize la, lb;
  guint diff;

  if (!a || !b)
    return FALSE;
  la = strlen (a);
  lb = strlen (b);
  diff = la ^ lb;
  for (gsize i = 0; i < la; i++)
    diff |= (guchar) a[i] ^ (guchar) b[i % MAX (lb, 1)];
  return diff == 0;
}

/**
 * drtc_http_url_problem:
 * @max: the longest URL taken, bytes
 *
 * Returns: (transfer full) (nullable): NULL when @url is an http(s) URL
 *   with a host, no spaces or control characters and at most @max bytes,
 *   else what is wrong with it ("names no host", ...)
 */
gchar *
drtc_http_url_problem (const gchar * url, gsize max)
{
  g_autoptr (GUri) uri = NULL;
  const gchar *host;

  if (strlen (url) > max)
    return g_strdup_printf ("is longer than %" G_GSIZE_FORMAT " bytes", max);
  for (const gchar * c = url; *c; c++)
    if ((guchar) * c <= ' ' || *c == 0x7f)
      return g_strdup ("must not hold spaces or control characters");
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (!drtc_http_uri_is_http (uri))
    return g_strdup ("must be an http(s) URL");
  host = g_uri_get_host (uri);
  if (!host || !*host)
    return g_strdup ("names no host");
  return NULL;
}
