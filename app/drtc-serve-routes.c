/* daydream-rtc serve: the routes of the REST API
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Wire-compatible with the reference tool (routes, fields, status codes:
 * docs/rest-api.md), on the application's main loop: nothing here waits on
 * Daydream, a pipeline or a codec (those run async or on worker threads).
 * The reference routes act on the stream "default"; /streams/{name}/...
 * addresses others. What a request must be to get here at all (Host,
 * Origin, Content-Type, token, size) is drtc-serve-guard.c's.
 */
#include "drtc-serve-private.h"
#include "drtc-frames.h"
#include "drtc-serve-bodies.h"
#include "drtc-http-util.h"
#include "drtc-json.h"
#include "drtc-request.h"

#include <string.h>
#include <unistd.h>

#define MAX_STREAMS 32
#define MAX_STREAM_NAME 64

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

/**
 * drtc_serve_stream:
 * @create: whether a stream not there yet is made
 *
 * Returns: (nullable): the stream named @name
 */
DrtcStreamController *
drtc_serve_stream (DrtcServe * serve, const gchar * name, gboolean create)
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
  DrtcStreamController *ctl = drtc_serve_stream (serve, DRTC_DEFAULT_STREAM,
      TRUE);
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

static void
route_start (DrtcServe * serve, DrtcStreamController * ctl,
    SoupServerMessage * msg)
{
  g_autoptr (DrtcRequest) req = drtc_request_new (msg, TRUE);
  DrtcStartRequest start;

  if (!drtc_serve_body_start (req, &start)) {
    reply_invalid (msg, req);
    return;
  }
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
  g_autoptr (DrtcRequest) req = NULL;
  const gchar *b64 = NULL;
  GstElement *src = drtc_stream_controller_frame_source (ctl);

  if (drtc_http_content_type_is (msg, "application/octet-stream")) {
    drtc_frames_push_raw (src, msg, query, serve->opts.frames_timeout_ms);
    return;
  }
  req = drtc_request_new_limited (msg, TRUE, &drtc_serve_frames_limits);
  if (!drtc_serve_body_frames (req, &b64)) {
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
  const gchar *queue_mode = NULL;

  if (g_str_equal (soup_server_message_get_method (msg), SOUP_METHOD_GET)) {
    body = config_json (drtc_stream_controller_config (ctl),
        drtc_stream_controller_queue_mode (ctl),
        drtc_stream_controller_running (ctl));
    drtc_http_reply_json (msg, SOUP_STATUS_OK, body);
    return;
  }
  req = drtc_request_new (msg, TRUE);
  if (!drtc_serve_body_config (req, &c, &queue_mode)) {
    reply_invalid (msg, req);
    return;
  }
  if (drtc_stream_controller_running (ctl)) {
    drtc_http_reply_detail (msg, SOUP_STATUS_CONFLICT,
        "Stream is running; stop before changing settings");
    return;
  }
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

/* GET /streams/{name}/config of a stream not in memory (say, after a
 * restart) whose settings were saved: answered from the file, creating
 * nothing. FALSE: there is none. */
static gboolean
route_saved_config (DrtcServe * serve, const gchar * name,
    SoupServerMessage * msg)
{
  g_autofree gchar *path = drtc_runtime_config_path (serve->opts.settings_dir,
      name);
  DrtcRuntimeConfig c;
  g_autoptr (JsonNode) body = NULL;

  if (!g_str_equal (soup_server_message_get_method (msg), SOUP_METHOD_GET)
      || !g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return FALSE;
  drtc_runtime_config_load (serve->opts.settings_dir, name, &c);
  body = config_json (&c, serve->opts.queue_mode, FALSE);
  drtc_http_reply_json (msg, SOUP_STATUS_OK, body);
  return TRUE;
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

  if (!drtc_serve_body_pipeline (req, &config)) {
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

  if (!drtc_serve_body_pipeline (req, &config)) {
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
    g_autofree gchar *url = NULL, *detail = NULL;
    guint refused = 0;

    if (!(url = drtc_serve_body_whep_connect (req, &refused, &detail))) {
      if (drtc_request_ok (req))
        drtc_http_reply_detail (msg, refused, detail);
      else
        reply_invalid (msg, req);
      return;
    }
    drtc_whep_controller_connect (whep, url);
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

/* ---- deleted streams ---- */

/* Frees the deleted streams nothing is in flight for any more (their
 * Daydream calls hold them). */
static gboolean
on_sweep (gpointer data)
{
  DrtcServe *serve = data;

  for (guint i = serve->retired->len; i > 0; i--)
    if (serve->pending_deletes == 0
        && drtc_stream_controller_idle (serve->retired->pdata[i - 1]))
      g_ptr_array_remove_index_fast (serve->retired, i - 1);
  if (serve->retired->len > 0)
    return G_SOURCE_CONTINUE;
  g_clear_pointer (&serve->sweep, g_source_unref);
  return G_SOURCE_REMOVE;
}

/* The stream stops and its slot is free at once; its memory goes once
 * nothing is in flight for it. */
static void
retire (DrtcServe * serve, const gchar * name)
{
  gpointer key, ctl;

  if (!g_hash_table_steal_extended (serve->streams, name, &key, &ctl))
    return;
  g_free (key);
  drtc_stream_controller_stop (ctl, "Stream deleted");
  g_ptr_array_add (serve->retired, ctl);
  if (!serve->sweep) {
    serve->sweep = g_timeout_source_new (500);
    g_source_set_callback (serve->sweep, on_sweep, serve, NULL);
    g_source_attach (serve->sweep, serve->context);
  }
}

/* A stopped named stream gives its slot to a new one. */
static gboolean
reclaim_slot (DrtcServe * serve)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, serve->streams);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    if (!g_str_equal (key, DRTC_DEFAULT_STREAM)
        && !drtc_stream_controller_running (value)) {
      g_message ("stream '%s' (stopped) gives its slot to a new one",
          (const gchar *) key);
      retire (serve, key);
      return TRUE;
    }
  }
  return FALSE;
}

static void
route_delete (DrtcServe * serve, const gchar * name, SoupServerMessage * msg)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) body = NULL;

  if (g_str_equal (name, DRTC_DEFAULT_STREAM)) {
    drtc_http_reply_detail (msg, SOUP_STATUS_CONFLICT,
        "the default stream stays (POST /stop stops it)");
    return;
  }
  retire (serve, name);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "deleted");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "stream_name");
  json_builder_add_string_value (b, name);
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
  {"", "DELETE", TRUE},         /* /streams/{name} */
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
  /* only POSTs make streams: no GET creates or changes anything */
  gboolean create = g_str_equal (r->path, "/start")
      || (g_str_equal (r->path, "/config")
      && g_str_equal (soup_server_message_get_method (msg), SOUP_METHOD_POST))
      || g_str_equal (name, DRTC_DEFAULT_STREAM);
  DrtcStreamController *ctl = NULL;
  g_autofree gchar *missing = NULL;

  if (create && !g_hash_table_contains (serve->streams, name)
      && g_hash_table_size (serve->streams) >= MAX_STREAMS
      && !reclaim_slot (serve)) {
    missing = g_strdup_printf ("at most %d streams in one server", MAX_STREAMS);
    drtc_http_reply_detail (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, missing);
    return;
  }
  ctl = drtc_serve_stream (serve, name, create);

  if (!ctl && g_str_equal (r->path, "/config")
      && route_saved_config (serve, name, msg))
    return;
  if (r->per_stream && !ctl) {
    missing = g_strdup_printf ("No stream named '%s' (POST /streams/%s/start "
        "creates it)", name, name);
    drtc_http_reply_detail (msg, SOUP_STATUS_NOT_FOUND, missing);
    return;
  }
  if (!*r->path)
    route_delete (serve, name, msg);
  else if (g_str_equal (r->path, "/healthz"))
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

void
drtc_serve_on_request (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer data)
{
  DrtcServe *serve = data;
  const gchar *method = soup_server_message_get_method (msg);
  const gchar *rest = path;
  g_autofree gchar *name = g_strdup (DRTC_DEFAULT_STREAM);
  const Route *route = NULL;

  /* the early handler added CORS headers for an allowed Origin */
  if (g_str_equal (method, SOUP_METHOD_OPTIONS)) {
    drtc_http_reply_text (msg, SOUP_STATUS_OK, "text/plain", "OK");
    return;
  }
  if (g_str_has_prefix (path, "/streams/")) {
    const gchar *start = path + strlen ("/streams/");
    const gchar *slash = strchr (start, '/');

    /* /streams/{name}/route, or /streams/{name} itself (route "") */
    g_free (name);
    name = slash ? g_strndup (start, slash - start) : g_strdup (start);
    rest = slash ? slash : start + strlen (start);
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

void
drtc_serve_on_request_finished (SoupServer * server, SoupServerMessage * msg,
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
