/* daydream-rtc: async client of Daydream's stream API
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "drtc-http.h"

G_BEGIN_DECLS
#define DRTC_DAYDREAM_DEFAULT_API_URL "https://api.daydream.live"
#define DRTC_DAYDREAM_ERROR (drtc_daydream_error_quark ())
    GQuark drtc_daydream_error_quark (void);

/* Error codes: an HTTP status (400..599) when the service answered, else: */
typedef enum
{
  DRTC_DAYDREAM_ERROR_NETWORK = 1,      /* no answer: connection, timeout */
  DRTC_DAYDREAM_ERROR_RESPONSE = 2,     /* an answer we cannot use */
  DRTC_DAYDREAM_ERROR_NO_KEY = 3,
  DRTC_DAYDREAM_ERROR_NO_STREAM = 4,   /* no stream (yet, or any more) */
} DrtcDaydreamErrorCode;

typedef struct
{
  gchar *id;
  gchar *name;
  gchar *whip_url;
  gchar *playback_id;
  gchar *whep_url;              /* rarely given at creation */
  JsonNode *body;               /* the whole stream object */
} DrtcDaydreamStream;

typedef struct
{
  guint http_status;
  JsonNode *body;               /* the JSON, or {"error": "<text>"} */
  gchar *whep_url;              /* data.gateway_status.whep_url */
  gchar *state;                 /* data.state, state or status */
  gboolean ready;               /* state is ready or online */
} DrtcDaydreamStatus;

typedef struct _DrtcDaydreamClient DrtcDaydreamClient;

/* @result: DrtcDaydreamStream *, DrtcDaydreamStatus * or JsonNode *
 * (transfer none), NULL with @error on failure. Runs on the DrtcHttp's
 * context. */
typedef void (*DrtcDaydreamCallback) (gpointer result, const GError * error,
    gpointer user_data);

DrtcDaydreamClient *drtc_daydream_client_new (DrtcHttp * http,
    const gchar * api_url, const gchar * api_key);
void drtc_daydream_client_free (DrtcDaydreamClient * client);
void drtc_daydream_client_set_retries (DrtcDaydreamClient * client,
    guint attempts);
void drtc_daydream_client_cancel_retries (DrtcDaydreamClient * client);
const gchar *drtc_daydream_client_get_base (DrtcDaydreamClient * client);
gchar *drtc_daydream_client_media_token (DrtcDaydreamClient * client,
    const gchar * media_url);

void drtc_daydream_create_stream (DrtcDaydreamClient * client,
    const gchar * pipeline, JsonObject * params, const gchar * name,
    DrtcDaydreamCallback callback, gpointer user_data, GDestroyNotify notify);
void drtc_daydream_get_stream (DrtcDaydreamClient * client, const gchar * id,
    DrtcDaydreamCallback callback, gpointer user_data, GDestroyNotify notify);
void drtc_daydream_get_status (DrtcDaydreamClient * client, const gchar * id,
    DrtcDaydreamCallback callback, gpointer user_data, GDestroyNotify notify);
void drtc_daydream_update_stream (DrtcDaydreamClient * client,
    const gchar * id, const gchar * pipeline, JsonObject * params,
    DrtcDaydreamCallback callback, gpointer user_data, GDestroyNotify notify);
void drtc_daydream_delete_stream (DrtcDaydreamClient * client,
    const gchar * id, DrtcDaydreamCallback callback, gpointer user_data,
    GDestroyNotify notify);

gchar *drtc_daydream_normalize_base (const gchar * url);
gchar *drtc_daydream_read_secret (const gchar * file, const gchar * what,
    GError ** error);
gchar *drtc_daydream_resolve_key (const gchar * key_file, GError ** error);
gchar *drtc_daydream_media_token (const gchar * api_url,
    const gchar * api_key, const gchar * media_url);
JsonNode *drtc_daydream_default_config (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DrtcDaydreamClient, drtc_daydream_client_free)
    G_END_DECLS
