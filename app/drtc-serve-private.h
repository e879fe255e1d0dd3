/* daydream-rtc serve: state shared by its modules
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

#include "drtc-http.h"
#include "drtc-runtime-config.h"
#include "drtc-json-scan.h"
#include "drtc-http-guard.h"
#include "drtc-http-route.h"
#include "drtc-clock.h"

G_BEGIN_DECLS

typedef struct _DrtcServe DrtcServe;
typedef struct _DrtcStreamController DrtcStreamController;
typedef struct _DrtcWhepController DrtcWhepController;

typedef struct
{
  gchar *host;
  gint port;
  gchar *settings_dir;
  gchar *pipeline_config;       /* the default pipeline file, or NULL */
  gchar *api_url;
  gchar *api_key_file;
  gchar *access_token;          /* required on every route but /healthz */
  gchar *whep_url;              /* connect at start-up */
  guint whep_timeout_s;         /* a WHEP attempt not connected: retry */
  gchar **ice_local_addresses;
  gchar **allowed_origins;      /* --allowed-origin */
  gchar **allowed_hosts;        /* --allowed-host */
  guint max_frames;
  const gchar *queue_mode;      /* framebridgesrc queue-mode, by nick */
  guint frames_timeout_ms;      /* how long POST /frames waits for room */
  guint idle_timeout_s;         /* a connection silent this long closes */
  gboolean delete_on_stop;
} DrtcServeOptions;

struct _DrtcServe
{
  DrtcServeOptions opts;
  GMainContext *context;
  SoupServer *server;
  GSocketService *listener;     /* accepts for server */
  guint port;
  DrtcHttp *http;               /* on the main context */
  GHashTable *streams;          /* name -> DrtcStreamController */
  GPtrArray *retired;           /* deleted streams, freed once idle */
  GSource *sweep;               /* frees what retired holds */
  DrtcHttpGuard *guard;         /* Host, Origin, Content-Type */
  gchar *server_id;
  gboolean stopping;
  guint pending_deletes;        /* Daydream DELETEs still in flight */
  /* metrics */
  GHashTable *requests;         /* "route status" -> count (guint64 *) */
};


/* drtc-stream-controller.c */
typedef struct
{
  gchar *stream_name;
  JsonNode *pipeline_config;    /* nullable */
  gint frame_rate, frame_width, frame_height;   /* < 0: unset */
  const gchar *queue_mode;      /* static string; NULL: the stream's */
} DrtcStartRequest;

/* @status: HTTP status to answer (200 or an error); @body the JSON */
typedef void (*DrtcReplyFunc) (guint status, JsonNode * body,
    gpointer user_data);

DrtcStreamController *drtc_stream_controller_new (DrtcServe * serve,
    const gchar * name, const gchar * pipeline_cache);
void drtc_stream_controller_free (DrtcStreamController * ctl);
void drtc_stream_controller_start (DrtcStreamController * ctl,
    DrtcStartRequest * request, DrtcReplyFunc reply, gpointer user_data);
void drtc_stream_controller_stop (DrtcStreamController * ctl,
    const gchar * detail);
void drtc_stream_controller_update (DrtcStreamController * ctl,
    JsonNode * pipeline_config, DrtcReplyFunc reply, gpointer user_data);
JsonNode *drtc_stream_controller_status (DrtcStreamController * ctl);
gboolean drtc_stream_controller_running (DrtcStreamController * ctl);
gboolean drtc_stream_controller_frame_loop_ready (DrtcStreamController * ctl);
guint drtc_stream_controller_queue_depth (DrtcStreamController * ctl);
GstElement *drtc_stream_controller_frame_source (DrtcStreamController * ctl);
const DrtcRuntimeConfig *drtc_stream_controller_config (DrtcStreamController *
    ctl);
gboolean drtc_stream_controller_set_config (DrtcStreamController * ctl,
    const DrtcRuntimeConfig * config, GError ** error);
DrtcWhepController *drtc_stream_controller_whep (DrtcStreamController * ctl);
const gchar *drtc_stream_controller_queue_mode (DrtcStreamController * ctl);
void drtc_stream_controller_set_queue_mode (DrtcStreamController * ctl,
    const gchar * mode);
void drtc_stream_controller_metrics (GPtrArray * ctls, GString * out);
gboolean drtc_stream_controller_wait_stopped (DrtcStreamController * ctl);
gboolean drtc_stream_controller_idle (DrtcStreamController * ctl);

/* drtc-whep-controller.c */

/* Whether @url is the WHIP URL of one of @serve's streams; if so @name
 * gets the stream's name and @whep_url its WHEP URL ("" while unknown). */
typedef gboolean (*DrtcOwnStreamFunc) (DrtcServe * serve, const gchar * url,
    gchar ** name, gchar ** whep_url);

DrtcWhepController *drtc_whep_controller_new (DrtcServe * serve,
    DrtcOwnStreamFunc own_stream);
void drtc_whep_controller_free (DrtcWhepController * whep);
JsonNode *drtc_whep_controller_status (DrtcWhepController * whep,
    gboolean with_bridge_stats);
void drtc_whep_controller_connect (DrtcWhepController * whep,
    const gchar * url);
void drtc_whep_controller_disconnect (DrtcWhepController * whep,
    const gchar * reason);
GstSample *drtc_whep_controller_latest (DrtcWhepController * whep,
    gdouble * timestamp, gint * width, gint * height);

/* drtc-serve-guard.c */
#define DRTC_SERVE_MAX_PATH 8192        /* request path and query, bytes */
#define DRTC_SERVE_MAX_BODY (64 * 1024 * 1024)  /* POST /frames */
#define DRTC_SERVE_MAX_JSON DRTC_JSON_DEFAULT_SIZE      /* other bodies */
void drtc_serve_on_request_headers (SoupServer * server,
    SoupServerMessage * msg, const char *path, GHashTable * query,
    gpointer data);

/* drtc-serve-routes.c */
const DrtcRouteTable *drtc_serve_routes (void);
const gchar *drtc_serve_queue_mode_lookup (const gchar * mode);
gchar *drtc_serve_pipeline_cache_path (DrtcServe * serve);
DrtcStreamController *drtc_serve_stream (DrtcServe * serve,
    const gchar * name, gboolean create);
const gchar *drtc_serve_route_refusal (SoupServerMessage * msg,
    const gchar * path, guint * status);
void drtc_serve_on_request (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer data);
void drtc_serve_on_request_finished (SoupServer * server,
    SoupServerMessage * msg, gpointer data);

G_END_DECLS
