/* daydream-rtc serve: the REST control server ComfyUI workflows call
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Wire-compatible with the reference tool (routes, fields, status codes:
 * docs/rest-api.md), on the application's main loop: nothing here waits on
 * Daydream, a pipeline or a codec (those run async or on worker threads).
 * The reference routes act on the stream "default"; /streams/{name}/...
 * addresses others.
 */
#include "drtc-serve.h"
#include "drtc-serve-private.h"
#include "drtc-frames.h"
#include "drtc-http-util.h"
#include "drtc-json.h"
#include "drtc-log.h"
#include "drtc-plugin.h"
#include "drtc-request.h"
#include "drtc-daydream.h"

#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <unistd.h>
#include <glib-unix.h>

#define MAX_STREAMS 32
#define MAX_STREAM_NAME 64
#define MAX_DAYDREAM_NAME 256   /* the Daydream stream's name */
#define MAX_URL 4096

gdouble
drtc_now (void)
{
  return g_get_real_time () / 1e6;
}

gchar *
drtc_serve_pipeline_cache_path (DrtcServe * serve)
{
  return g_build_filename (serve->opts.settings_dir, DRTC_PIPELINE_CACHE_FILE,
      NULL);
}

/* ---- replies ---- */

static void
reply_invalid (SoupServerMessage * msg, DrtcRequest * req)
{
  g_autoptr (JsonNode) errors = drtc_request_errors (req);

  drtc_http_reply_json (msg, drtc_request_status (req), errors);
}

/* DrtcReplyFunc for paused messages */
static void
reply_later (guint status, JsonNode * body, gpointer data)
{
  SoupServerMessage *msg = data;

  drtc_http_reply_json (msg, status, body);
  soup_server_message_unpause (msg);
  g_object_unref (msg);
}

static DrtcStreamController *
stream (DrtcServe * serve, const gchar * name, gboolean create)
{
  DrtcStreamController *ctl = g_hash_table_lookup (serve->streams, name);

  if (!ctl && create) {
    ctl = drtc_stream_controller_new (serve, name);
    if (ctl)
      g_hash_table_insert (serve->streams, g_strdup (name), ctl);
  }
  return ctl;
}

/* ---- routes ---- */

static void
route_healthz (DrtcServe * serve, SoupServerMessage * msg)
{
  DrtcStreamController *ctl = stream (serve, DRTC_DEFAULT_STREAM, TRUE);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) body = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ok");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "frame_loop_ready");
  json_builder_add_boolean_value (b,
      drtc_stream_controller_frame_loop_ready (ctl));
  json_builder_set_member_name (b, "queue_depth");
  json_builder_add_int_value (b, drtc_stream_controller_queue_depth (ctl));
  /* lets a launcher tell this server from whatever else holds the port */
  json_builder_set_member_name (b, "service");
  json_builder_add_string_value (b, "daydream-rtc");
  json_builder_set_member_name (b, "server_id");
  json_builder_add_string_value (b, serve->server_id);
  json_builder_set_member_name (b, "pid");
  json_builder_add_int_value (b, getpid ());
  json_builder_end_object (b);
  body = json_builder_get_root (b);
  drtc_http_reply_json (msg, SOUP_STATUS_OK, body);
}

static const gchar *const queue_modes[] = {
  "backpressure", "leaky", "latest", NULL
};

/**
 * drtc_serve_queue_mode_lookup:
 *
 * Returns: (nullable): the static copy of @mode, NULL when it is none of
 * framebridgesrc's queue modes
 */
const gchar *
drtc_serve_queue_mode_lookup (const gchar * mode)
{
  for (guint i = 0; mode && queue_modes[i]; i++)
    if (g_str_equal (mode, queue_modes[i]))
      return queue_modes[i];
  return NULL;
}

static void
route_start (DrtcServe * serve, DrtcStreamController * ctl,
    SoupServerMessage * msg)
{
  g_autoptr (DrtcRequest) req = drtc_request_new (msg, TRUE);
  DrtcStartRequest start = { NULL, NULL, -1, -1, -1, NULL };
  const gchar *name = NULL;
  JsonNode *config = NULL;

  if (drtc_request_string (req, "stream_name", FALSE, &name)
      && g_utf8_strlen (name, MAX_DAYDREAM_NAME + 1) > MAX_DAYDREAM_NAME)
    drtc_request_problem (req, "string_too_long", "stream_name",
        "String should have at most " G_STRINGIFY (MAX_DAYDREAM_NAME)
        " characters");
  drtc_request_object_field (req, "pipeline_config", FALSE, TRUE, &config);
  drtc_request_size (req, "frame_rate", 1, 240, FALSE, &start.frame_rate);
  drtc_request_size (req, "frame_width", 64, 4096, TRUE, &start.frame_width);
  drtc_request_size (req, "frame_height", 64, 4096, TRUE, &start.frame_height);
  drtc_request_enum (req, "queue_mode", queue_modes, &start.queue_mode);
  if (!drtc_request_ok (req)) {
    reply_invalid (msg, req);
    return;
  }
  start.stream_name = (gchar *) name;
  start.pipeline_config = config;
  soup_server_message_pause (msg);
  drtc_stream_controller_start (ctl, &start, reply_later, g_object_ref (msg));
}

static void
route_status (DrtcStreamController * ctl, SoupServerMessage * msg)
{
  g_autoptr (JsonNode) status = drtc_stream_controller_status (ctl);

  drtc_http_reply_json (msg, SOUP_STATUS_OK, status);
}

static void
route_stop (DrtcStreamController * ctl, SoupServerMessage * msg)
{
  drtc_stream_controller_stop (ctl, "Stream stopped");
  route_status (ctl, msg);
}

static void
route_frames (DrtcServe * serve, DrtcStreamController * ctl,
    SoupServerMessage * msg, GHashTable * query)
{
  /* one base64 image: a long string, nothing deep */
  static const DrtcJsonLimits limits = { DRTC_SERVE_MAX_BODY, 0,
    DRTC_SERVE_MAX_BODY
  };
  g_autoptr (DrtcRequest) req = NULL;
  const gchar *b64 = NULL;
  GstElement *src = drtc_stream_controller_frame_source (ctl);

  if (drtc_http_content_type_is (msg, "application/octet-stream")) {
    drtc_frames_push_raw (src, msg, query, serve->opts.frames_timeout_ms);
    return;
  }
  req = drtc_request_new_limited (msg, TRUE, &limits);
  drtc_request_string (req, "frame_b64", TRUE, &b64);
  if (!drtc_request_ok (req)) {
    reply_invalid (msg, req);
    return;
  }
  drtc_frames_push_b64 (src, msg, b64, serve->opts.frames_timeout_ms);
}

static JsonNode *
config_json (const DrtcRuntimeConfig * config, const gchar * queue_mode,
    gboolean locked)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "frame_rate");
  json_builder_add_int_value (b, config->frame_rate);
  json_builder_set_member_name (b, "frame_width");
  json_builder_add_int_value (b, config->frame_width);
  json_builder_set_member_name (b, "frame_height");
  json_builder_add_int_value (b, config->frame_height);
  json_builder_set_member_name (b, "queue_mode");
  json_builder_add_string_value (b, queue_mode);
  json_builder_set_member_name (b, "locked");
  json_builder_add_boolean_value (b, locked);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
route_config (DrtcServe * serve, DrtcStreamController * ctl,
    SoupServerMessage * msg)
{
  g_autoptr (DrtcRequest) req = NULL;
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (GError) err = NULL;
  DrtcRuntimeConfig c;
  gint64 rate = 0, width = 0, height = 0;
  const gchar *queue_mode = NULL;

  if (g_str_equal (soup_server_message_get_method (msg), SOUP_METHOD_GET)) {
    body = config_json (drtc_stream_controller_config (ctl),
        drtc_stream_controller_queue_mode (ctl),
        drtc_stream_controller_running (ctl));
    drtc_http_reply_json (msg, SOUP_STATUS_OK, body);
    return;
  }
  req = drtc_request_new (msg, TRUE);
  drtc_request_int (req, "frame_rate", TRUE, FALSE, &rate);
  drtc_request_int (req, "frame_width", TRUE, FALSE, &width);
  drtc_request_int (req, "frame_height", TRUE, FALSE, &height);
  drtc_request_enum (req, "queue_mode", queue_modes, &queue_mode);
  if (!drtc_request_ok (req)) {
    reply_invalid (msg, req);
    return;
  }
  if (drtc_stream_controller_running (ctl)) {
    drtc_http_reply_detail (msg, SOUP_STATUS_CONFLICT,
        "Stream is running; stop before changing settings");
    return;
  }
  /* clamped as the reference does; sizes also made even for 4:2:0 */
  c.frame_rate = (gint) CLAMP (rate, 1, 240);
  c.frame_width = (gint) CLAMP (width, 64, 4096) & ~1;
  c.frame_height = (gint) CLAMP (height, 64, 4096) & ~1;
  if (!drtc_stream_controller_set_config (ctl, &c, &err)) {
    drtc_http_reply_detail (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
        err->message);
    return;
  }
  if (queue_mode)
    drtc_stream_controller_set_queue_mode (ctl, queue_mode);
  body = config_json (&c, drtc_stream_controller_queue_mode (ctl), FALSE);
  drtc_http_reply_json (msg, SOUP_STATUS_OK, body);
}

static void
route_pipeline_cache (DrtcServe * serve, SoupServerMessage * msg)
{
  g_autoptr (DrtcRequest) req = drtc_request_new (msg, TRUE);
  g_autofree gchar *path = drtc_serve_pipeline_cache_path (serve);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (GError) err = NULL;
  JsonNode *config = NULL;
  const gchar *pipeline;

  drtc_request_object_field (req, "pipeline_config", TRUE, FALSE, &config);
  if (!drtc_request_ok (req)) {
    reply_invalid (msg, req);
    return;
  }
  /* a cache beside the shipped default, which stays untouched; compact:
   * indenting a deep document multiplies its size */
  if (!drtc_write_json_atomic (path, config, FALSE, 0600, &err)) {
    drtc_http_reply_detail (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
        err->message);
    return;
  }
  pipeline = drtc_json_get_string (json_node_get_object (config), "pipeline");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "cached");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "pipeline");
  json_builder_add_string_value (b, pipeline ? pipeline : "");
  json_builder_set_member_name (b, "path");
  json_builder_add_string_value (b, DRTC_PIPELINE_CACHE_FILE);
  json_builder_end_object (b);
  body = json_builder_get_root (b);
  drtc_http_reply_json (msg, SOUP_STATUS_OK, body);
}

static void
route_pipeline (DrtcStreamController * ctl, SoupServerMessage * msg)
{
  g_autoptr (DrtcRequest) req = drtc_request_new (msg, TRUE);
  JsonNode *config = NULL;

  drtc_request_object_field (req, "pipeline_config", TRUE, FALSE, &config);
  if (!drtc_request_ok (req)) {
    reply_invalid (msg, req);
    return;
  }
  soup_server_message_pause (msg);
  drtc_stream_controller_update (ctl, config, reply_later, g_object_ref (msg));
}

static void
route_whep (DrtcStreamController * ctl, SoupServerMessage * msg,
    const gchar * what, GHashTable * query)
{
  DrtcWhepController *whep = drtc_stream_controller_whep (ctl);
  g_autoptr (JsonNode) status = NULL;

  if (g_str_equal (what, "connect")) {
    g_autoptr (DrtcRequest) req = drtc_request_new (msg, TRUE);
    const gchar *url = NULL;
    g_autofree gchar *trimmed = NULL, *problem = NULL;

    drtc_request_string (req, "whep_url", TRUE, &url);
    if (!drtc_request_ok (req)) {
      reply_invalid (msg, req);
      return;
    }
    trimmed = g_strstrip (g_strdup (url));
    if (!*trimmed) {
      drtc_http_reply_detail (msg, SOUP_STATUS_BAD_REQUEST,
          "whep_url is required");
      return;
    }
    if ((problem = drtc_http_url_problem (trimmed, MAX_URL))) {
      g_autofree gchar *detail = g_strdup_printf ("whep_url %s", problem);

      drtc_http_reply_detail (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, detail);
      return;
    }
    drtc_whep_controller_connect (whep, trimmed);
  } else if (g_str_equal (what, "disconnect")) {
    drtc_whep_controller_disconnect (whep, "Manual disconnect");
  } else if (g_str_equal (what, "frame")) {
    const gchar *format = query ? g_hash_table_lookup (query, "format") : NULL;
    g_autoptr (GstSample) sample = NULL;
    gdouble ts;
    gint w, h;

    if (format && !g_str_equal (format, "png") && !g_str_equal (format,
            "jpeg") && !g_str_equal (format, "raw")) {
      drtc_http_reply_detail (msg, SOUP_STATUS_BAD_REQUEST,
          "format must be png, jpeg or raw");
      return;
    }
    sample = drtc_whep_controller_latest (whep, &ts, &w, &h);
    drtc_frames_whep_frame (sample, w, h, ts, format ? format : "png",
        drtc_whep_controller_status (whep, FALSE), msg);
    return;
  }
  status = drtc_whep_controller_status (whep, g_str_equal (what, "status"));
  drtc_http_reply_json (msg, SOUP_STATUS_OK, status);
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar * const *) a, *(const gchar * const *) b);
}

/* the hash table's values in the order of its (string) keys: /metrics
 * comes out the same way every time */
static GPtrArray *
sorted_values (GHashTable * table, GPtrArray ** keys_out)
{
  g_autoptr (GPtrArray) keys = g_ptr_array_new ();
  GPtrArray *values = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (keys, key);
  g_ptr_array_sort (keys, compare_strings);
  for (guint i = 0; i < keys->len; i++)
    g_ptr_array_add (values, g_hash_table_lookup (table, keys->pdata[i]));
  if (keys_out)
    *keys_out = g_steal_pointer (&keys);
  return values;
}

static void
route_metrics (DrtcServe * serve, SoupServerMessage * msg)
{
  GString *out = g_string_new (NULL);
  g_autoptr (GPtrArray) streams = sorted_values (serve->streams, NULL);
  g_autoptr (GPtrArray) keys = NULL;
  g_autoptr (GPtrArray) counts = sorted_values (serve->requests, &keys);

  drtc_stream_controller_metrics (streams, out);
  g_string_append (out, "# HELP daydream_rtc_http_requests_total "
      "Requests answered, by route and status\n"
      "# TYPE daydream_rtc_http_requests_total counter\n");
  for (guint i = 0; i < keys->len; i++) {
    g_auto (GStrv) parts = g_strsplit (keys->pdata[i], " ", 2);

    g_string_append_printf (out, "daydream_rtc_http_requests_total{route=\"%s"
        "\",status=\"%s\"} %" G_GUINT64_FORMAT "\n", parts[0], parts[1],
        *(guint64 *) counts->pdata[i]);
  }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain; version=0.0.4",
      SOUP_MEMORY_TAKE, out->str, out->len);
  g_string_free (out, FALSE);
}

/* GResource of app/drtc-app.gresource.xml (docs/openapi.json) */
GResource *drtc_app_get_resource (void);
void drtc_app_register_resource (void);

static void
route_openapi (SoupServerMessage * msg)
{
  static gsize registered = 0;
  g_autoptr (GBytes) doc = NULL;

  if (g_once_init_enter (&registered)) {
    drtc_app_register_resource ();
    g_once_init_leave (&registered, 1);
  }
  doc = g_resource_lookup_data (drtc_app_get_resource (),
      "/live/daydream/rtc/openapi.json", 0, NULL);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_COPY, g_bytes_get_data (doc, NULL), g_bytes_get_size (doc));
}

static void
route_streams (DrtcServe * serve, SoupServerMessage * msg)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) body = NULL;
  GHashTableIter iter;
  gpointer value;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "streams");
  json_builder_begin_array (b);
  g_hash_table_iter_init (&iter, serve->streams);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    json_builder_add_value (b, drtc_stream_controller_status (value));
  json_builder_end_array (b);
  json_builder_end_object (b);
  body = json_builder_get_root (b);
  drtc_http_reply_json (msg, SOUP_STATUS_OK, body);
}

/* ---- dispatch ---- */

typedef struct
{
  const gchar *path;
  const gchar *method;          /* the one accepted ("GET|POST": two) */
  gboolean per_stream;          /* also under /streams/{name} */
} Route;

static const Route routes[] = {
  {"/healthz", "GET", FALSE},
  {"/start", "POST", TRUE},
  {"/stop", "POST", TRUE},
  {"/status", "GET", TRUE},
  {"/frames", "POST", TRUE},
  {"/config", "GET|POST", TRUE},
  {"/pipeline/cache", "POST", FALSE},
  {"/pipeline", "PATCH", TRUE},
  {"/whep/status", "GET", TRUE},
  {"/whep/connect", "POST", TRUE},
  {"/whep/disconnect", "POST", TRUE},
  {"/whep/frame", "GET", TRUE},
  {"/openapi.json", "GET", FALSE},
  {"/metrics", "GET", FALSE},
  {"/streams", "GET", FALSE},
};

static gboolean
method_allowed (const Route * r, const gchar * method)
{
  g_auto (GStrv) methods = g_strsplit (r->method, "|", -1);

  return g_strv_contains ((const gchar * const *) methods, method)
      || (g_str_equal (method, "HEAD") && strstr (r->method, "GET"));
}

static void
dispatch (DrtcServe * serve, SoupServerMessage * msg, const Route * r,
    const gchar * name, GHashTable * query)
{
  gboolean create = g_str_equal (r->path, "/start")
      || g_str_equal (r->path, "/config")
      || g_str_equal (name, DRTC_DEFAULT_STREAM);
  DrtcStreamController *ctl = NULL;
  g_autofree gchar *missing = NULL;

  if (create && !g_hash_table_contains (serve->streams, name)
      && g_hash_table_size (serve->streams) >= MAX_STREAMS) {
    missing = g_strdup_printf ("at most %d streams in one server", MAX_STREAMS);
    drtc_http_reply_detail (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, missing);
    return;
  }
  ctl = stream (serve, name, create);

  if (r->per_stream && !ctl) {
    missing = g_strdup_printf ("No stream named '%s' (POST /streams/%s/start "
        "creates it)", name, name);
    drtc_http_reply_detail (msg, SOUP_STATUS_NOT_FOUND, missing);
    return;
  }
  if (g_str_equal (r->path, "/healthz"))
    route_healthz (serve, msg);
  else if (g_str_equal (r->path, "/start"))
    route_start (serve, ctl, msg);
  else if (g_str_equal (r->path, "/stop"))
    route_stop (ctl, msg);
  else if (g_str_equal (r->path, "/status"))
    route_status (ctl, msg);
  else if (g_str_equal (r->path, "/frames"))
    route_frames (serve, ctl, msg, query);
  else if (g_str_equal (r->path, "/config"))
    route_config (serve, ctl, msg);
  else if (g_str_equal (r->path, "/pipeline/cache"))
    route_pipeline_cache (serve, msg);
  else if (g_str_equal (r->path, "/pipeline"))
    route_pipeline (ctl, msg);
  else if (g_str_has_prefix (r->path, "/whep/"))
    route_whep (ctl, msg, r->path + strlen ("/whep/"), query);
  else if (g_str_equal (r->path, "/openapi.json"))
    route_openapi (msg);
  else if (g_str_equal (r->path, "/metrics"))
    route_metrics (serve, msg);
  else if (g_str_equal (r->path, "/streams"))
    route_streams (serve, msg);
}

/* Only pages served from this machine may call us from a browser: the
 * reference tool's "any origin" let any web page spend Daydream credits. */
static gboolean
origin_allowed (const gchar * origin)
{
  g_autoptr (GUri) uri = origin ? g_uri_parse (origin, G_URI_FLAGS_NONE,
      NULL) : NULL;
  const gchar *host = uri ? g_uri_get_host (uri) : NULL;

  return host && (g_str_equal (host, "127.0.0.1")
      || g_str_equal (host, "localhost") || g_str_equal (host, "::1")
      || g_str_equal (host, "[::1]"));
}

static gboolean
apply_cors (SoupServerMessage * msg)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  const gchar *origin = soup_message_headers_get_one (req, "Origin");
  const gchar *asked;

  if (!origin || !origin_allowed (origin))
    return FALSE;
  soup_message_headers_replace (h, "Access-Control-Allow-Origin", origin);
  soup_message_headers_append (h, "Vary", "Origin");
  if (!g_str_equal (soup_server_message_get_method (msg), SOUP_METHOD_OPTIONS))
    return TRUE;
  soup_message_headers_replace (h, "Access-Control-Allow-Methods",
      "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT");
  asked = soup_message_headers_get_one (req, "Access-Control-Request-Headers");
  if (asked)
    soup_message_headers_replace (h, "Access-Control-Allow-Headers", asked);
  soup_message_headers_replace (h, "Access-Control-Max-Age", "600");
  return TRUE;
}

/* Names end up in file names and metrics labels: a safe alphabet only. */
static gboolean
valid_stream_name (const gchar * name)
{
  gsize len = strlen (name);

  if (len == 0 || len > MAX_STREAM_NAME)
    return FALSE;
  for (const gchar * c = name; *c; c++)
    if (!g_ascii_isalnum (*c) && *c != '-' && *c != '_')
      return FALSE;
  return TRUE;
}

static void
on_request (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer data)
{
  DrtcServe *serve = data;
  const gchar *method = soup_server_message_get_method (msg);
  const gchar *rest = path;
  g_autofree gchar *name = g_strdup (DRTC_DEFAULT_STREAM);
  const Route *route = NULL;

  apply_cors (msg);
  if (g_str_equal (method, SOUP_METHOD_OPTIONS)) {
    drtc_http_reply_text (msg, SOUP_STATUS_OK, "text/plain", "OK");
    return;
  }
  if (serve->opts.access_token && !g_str_equal (path, "/healthz")
      && !drtc_http_secret_equal (drtc_http_bearer (msg),
          serve->opts.access_token)) {
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "WWW-Authenticate", "Bearer");
    drtc_http_reply_detail (msg, SOUP_STATUS_UNAUTHORIZED,
        "Authorization: Bearer <access token> required");
    return;
  }
  if (g_str_has_prefix (path, "/streams/")) {
    const gchar *slash = strchr (path + strlen ("/streams/"), '/');

    if (slash) {
      g_free (name);
      name = g_strndup (path + strlen ("/streams/"),
          slash - path - strlen ("/streams/"));
      rest = slash;
    }
  }
  for (guint i = 0; i < G_N_ELEMENTS (routes); i++) {
    if (g_str_equal (routes[i].path, rest)
        && (rest == path || routes[i].per_stream)) {
      route = &routes[i];
      break;
    }
  }
  if (!route) {
    drtc_http_reply_detail (msg, SOUP_STATUS_NOT_FOUND, "Not Found");
    return;
  }
  if (!valid_stream_name (name)) {
    drtc_http_reply_detail (msg, SOUP_STATUS_NOT_FOUND,
        "stream names are 1 to 64 " "letters, digits, '-' or '_'");
    return;
  }
  g_object_set_data_full (G_OBJECT (msg), "drtc-route",
      g_strdup (route->path), g_free);
  if (!method_allowed (route, method)) {
    drtc_http_reply_detail (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
        "Method Not Allowed");
    return;
  }
  dispatch (serve, msg, route, name, query);
}

static void
on_request_finished (SoupServer * server, SoupServerMessage * msg,
    gpointer data)
{
  DrtcServe *serve = data;
  const gchar *route = g_object_get_data (G_OBJECT (msg), "drtc-route");
  g_autofree gchar *key = g_strdup_printf ("%s %u", route ? route : "other",
      soup_server_message_get_status (msg));
  guint64 *count = g_hash_table_lookup (serve->requests, key);

  if (!count) {
    count = g_new0 (guint64, 1);
    g_hash_table_insert (serve->requests, g_steal_pointer (&key), count);
  }
  (*count)++;
  /* the path only: query strings may carry anything */
  g_debug ("%s %s -> %u", soup_server_message_get_method (msg),
      g_uri_get_path (soup_server_message_get_uri (msg)),
      soup_server_message_get_status (msg));
}

/* ---- life cycle ---- */

static void
stop_listening (DrtcServe * serve)
{
  if (!serve->listener)
    return;
  g_socket_service_stop (serve->listener);
  g_socket_listener_close (G_SOCKET_LISTENER (serve->listener));
  g_clear_object (&serve->listener);
}

static void
serve_free (DrtcServe * serve)
{
  stop_listening (serve);
  if (serve->server) {
    soup_server_disconnect (serve->server);
    g_object_unref (serve->server);
  }
  /* every stream stops (whipsink DELETEs its session) before we go */
  g_clear_pointer (&serve->streams, g_hash_table_unref);
  g_clear_pointer (&serve->http, drtc_http_free);
  g_clear_pointer (&serve->requests, g_hash_table_unref);
  g_clear_pointer (&serve->context, g_main_context_unref);
  g_free (serve->server_id);
  g_free (serve);
}

static gboolean
is_loopback (const gchar * host)
{
  g_autoptr (GInetAddress) a = g_inet_address_new_from_string (host);

  return a && g_inet_address_get_is_loopback (a);
}

static DrtcServe *
serve_new (const DrtcServeOptions * opts, GError ** error)
{
  DrtcServe *serve = g_new0 (DrtcServe, 1);
  g_autoptr (GInetAddress) address = NULL;
  g_autoptr (GSocketAddress) sockaddr = NULL;

  serve->opts = *opts;
  serve->context = g_main_context_ref_thread_default ();
  serve->http = drtc_http_new_for_context (serve->context);
  serve->streams = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) drtc_stream_controller_free);
  serve->requests = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  serve->server_id = g_uuid_string_random ();
  if (!stream (serve, DRTC_DEFAULT_STREAM, TRUE)) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "the daydreamrtc GStreamer plugin is missing (GST_PLUGIN_PATH?)");
    serve_free (serve);
    return NULL;
  }
  address = g_inet_address_new_from_string (opts->host);
  if (!address) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "--host must be an IP address, not '%s'", opts->host);
    serve_free (serve);
    return NULL;
  }
  serve->server = soup_server_new ("server-header", "daydream-rtc ", NULL);
  soup_server_add_handler (serve->server, NULL, on_request, serve, NULL);
  soup_server_add_early_handler (serve->server, NULL,
      drtc_serve_on_request_headers, serve, NULL);
  g_signal_connect (serve->server, "request-finished",
      G_CALLBACK (on_request_finished), serve);
  sockaddr = g_inet_socket_address_new (address, opts->port);
  serve->listener = drtc_serve_listen (serve->server, sockaddr, &serve->port,
      error);
  if (!serve->listener) {
    serve_free (serve);
    return NULL;
  }
  return serve;
}

static gboolean
on_signal (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static gboolean
on_shutdown_timeout (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Every stream stops; the Daydream streams they leave are ended before we
 * exit (bounded: a service that does not answer keeps us 5 s at most). */
static void
serve_shutdown (DrtcServe * serve)
{
  GHashTableIter iter;
  gpointer value;
  gboolean timed_out = FALSE;
  GSource *timeout;

  serve->stopping = TRUE;
  stop_listening (serve);
  soup_server_disconnect (serve->server);
  g_hash_table_iter_init (&iter, serve->streams);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    drtc_stream_controller_stop (value, "Server stopping");
  timeout = g_timeout_source_new_seconds (5);
  g_source_set_callback (timeout, on_shutdown_timeout, &timed_out, NULL);
  g_source_attach (timeout, serve->context);
  while (serve->pending_deletes > 0 && !timed_out)
    g_main_context_iteration (serve->context, TRUE);
  g_source_destroy (timeout);
  g_source_unref (timeout);
  if (serve->pending_deletes > 0)
    g_message ("%u Daydream stream(s) did not answer the DELETE in time",
        serve->pending_deletes);
}

int
drtc_serve_main (int argc, char **argv)
{
  DrtcServeOptions opts = { 0 };
  g_autofree gchar *host = NULL, *settings = NULL, *pipeline = NULL;
  g_autofree gchar *api_url = NULL, *key_file = NULL, *token_file = NULL;
  g_autofree gchar *whep_url = NULL, *queue_mode = NULL;
  g_autofree gchar *default_settings = NULL;    /* freed on every return */
  g_auto (GStrv) local = NULL;
  gint port = 8895, max_frames = 90, frames_timeout = 2000, whep_timeout = 15;
  gboolean keep_streams = FALSE;
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) err = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  DrtcServe *serve;
  GOptionEntry entries[] = {
    {"host", 0, 0, G_OPTION_ARG_STRING, &host,
        "Address to listen on (default 127.0.0.1)", "ADDR"},
    {"port", 'p', 0, G_OPTION_ARG_INT, &port,
        "Port (default 8895; 0 = any free port)", "PORT"},
    {"settings-dir", 0, 0, G_OPTION_ARG_FILENAME, &settings,
          "Runtime config and pipeline cache (default ~/.config/daydream-rtc)",
        "DIR"},
    {"pipeline-config", 0, 0, G_OPTION_ARG_FILENAME, &pipeline,
        "Default pipeline config file (default: the built-in one)", "FILE"},
    {"api-url", 0, 0, G_OPTION_ARG_STRING, &api_url,
        "Daydream API (default DAYDREAM_API_URL, else "
          "https://api.daydream.live)", "URL"},
    {"api-key-file", 0, 0, G_OPTION_ARG_FILENAME, &key_file,
        "File (mode 0600) with the Daydream API key (default: "
          "DAYDREAM_API_KEY, read at each start)", "FILE"},
    {"access-token-file", 0, 0, G_OPTION_ARG_FILENAME, &token_file,
        "Require Authorization: Bearer <token> (file mode 0600); needed to "
          "listen on a non-loopback address", "FILE"},
    {"whep-url", 0, 0, G_OPTION_ARG_STRING, &whep_url,
        "Subscribe to this WHEP URL at start-up", "URL"},
    {"whep-timeout", 0, 0, G_OPTION_ARG_INT, &whep_timeout,
        "Seconds a WHEP subscription may take to connect before it fails "
          "and is retried with a backoff (default 15)", "S"},
    {"ice-local-address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &local,
        "Gather ICE candidates on this address only (repeatable)", "ADDR"},
    {"max-frames", 0, 0, G_OPTION_ARG_INT, &max_frames,
        "Frame queue bound per stream (default 90)", "N"},
    {"queue-mode", 0, 0, G_OPTION_ARG_STRING, &queue_mode,
        "backpressure (default: every frame sent in order at the frame "
          "rate; POST /frames waits for room, then 503), leaky (a full queue "
          "drops the oldest frame, a stalled stream drops what it missed) or "
          "latest (only the newest frame, sent as it comes: lowest latency); "
          "a stream's /start or /config queue_mode overrides it", "MODE"},
    {"frames-timeout", 0, 0, G_OPTION_ARG_INT, &frames_timeout,
          "Milliseconds POST /frames waits for room before 503 (default 2000)",
        "MS"},
    {"keep-streams", 0, 0, G_OPTION_ARG_NONE, &keep_streams,
        "Do not delete Daydream streams on stop", NULL},
    {NULL}
  };

  ctx = g_option_context_new ("- REST control server for ComfyUI");
  g_option_context_set_summary (ctx, "The REST API of the rtc-node tool "
      "(same routes and fields), on GStreamer: see docs/rest-api.md.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  drtc_log_add_options (ctx);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("daydream-rtc serve: %s\n", err->message);
    return 2;
  }
  drtc_log_setup ();
  if (!drtc_plugin_ensure (&err)) {
    g_printerr ("daydream-rtc serve: %s\n", err->message);
    return 1;
  }
#ifdef __GLIBC__
  /* glibc raises its mmap threshold after each large free (up to 32 MiB),
   * so the memory of big request bodies stayed with the process (tens of
   * MiB after a few hundred); fixed thresholds give it back. Frames up to
   * 4 MiB (720p RGB) stay on the heap. */
  mallopt (M_MMAP_THRESHOLD, 4 * 1024 * 1024);
  mallopt (M_TRIM_THRESHOLD, 8 * 1024 * 1024);
#endif
  opts.host = host ? host : (gchar *) "127.0.0.1";
  opts.port = port;
  opts.settings_dir = settings ? settings : (default_settings =
      g_build_filename (g_get_user_config_dir (), "daydream-rtc", NULL));
  opts.pipeline_config = pipeline;
  opts.api_url = api_url;
  opts.api_key_file = key_file;
  opts.whep_url = whep_url;
  opts.whep_timeout_s = CLAMP (whep_timeout, 1, 600);
  opts.ice_local_addresses = local;
  opts.max_frames = CLAMP (max_frames, 1, 10000);
  opts.queue_mode = drtc_serve_queue_mode_lookup (queue_mode ?
      queue_mode : "backpressure");
  if (!opts.queue_mode) {
    g_printerr ("daydream-rtc serve: --queue-mode must be backpressure, "
        "leaky or latest\n");
    return 2;
  }
  opts.frames_timeout_ms = CLAMP (frames_timeout, 0, 60000);
  opts.delete_on_stop = !keep_streams;
  if (token_file) {
    opts.access_token = drtc_daydream_read_secret (token_file,
        "access token", &err);
    if (!opts.access_token) {
      g_printerr ("daydream-rtc serve: %s\n", err->message);
      return 2;
    }
  } else if (!is_loopback (opts.host)) {
    g_printerr ("daydream-rtc serve: listening on %s (not loopback) needs "
        "--access-token-file\n", opts.host);
    return 2;
  }
  serve = serve_new (&opts, &err);
  if (!serve) {
    g_printerr ("daydream-rtc serve: %s\n", err->message);
    g_free (opts.access_token);
    return 1;
  }
  if (whep_url)
    drtc_whep_controller_connect (drtc_stream_controller_whep (stream (serve,
                DRTC_DEFAULT_STREAM, TRUE)), whep_url);
  /* SIGTERM may come as soon as the line below is read: the handlers
   * are in place first */
  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  printf ("daydream-rtc serve listening on http://%s:%u\n", opts.host,
      serve->port);
  fflush (stdout);
  g_main_loop_run (loop);
  g_message ("serve stopping: streams end, WHIP sessions are deleted");
  serve_shutdown (serve);
  serve_free (serve);
  g_free (opts.access_token);
  return 0;
}
