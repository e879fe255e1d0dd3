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
#include "drtc-serve.h"
#include "drtc-serve-private.h"
#include "drtc-frames.h"
#include "drtc-serve-bodies.h"
#include "drtc-http-util.h"
#include "drtc-json.h"
#include "drtc-request.h"
#include "drtc-http-route.h"

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
    g_autofree gchar *cache = drtc_serve_pipeline_cache_path (serve);

    ctl = drtc_stream_controller_new (serve, name, cache);
    if (ctl)
      g_hash_table_insert (serve->streams, g_strdup (name), ctl);
  }
  return ctl;
}

/* ---- routes ---- */

static void
route_healthz (gpointer server, SoupServerMessage * msg, DrtcRouteMatch * m)
{
  DrtcServe *serve = server;
  DrtcStreamController *ctl = drtc_serve_stream (serve, DRTC_DEFAULT_STREAM,
      TRUE);
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  drtc_json_builder_add_boolean (b, "ok", TRUE);
  drtc_json_builder_add_boolean (b, "frame_loop_ready",
      drtc_stream_controller_frame_loop_ready (ctl));
  drtc_json_builder_add_int (b, "queue_depth",
      drtc_stream_controller_queue_depth (ctl));
  /* lets a launcher tell this server from whatever else holds the port */
  drtc_json_builder_add_string (b, "service", "daydream-rtc");
  drtc_json_builder_add_string (b, "server_id", serve->server_id);
  drtc_json_builder_add_int (b, "pid", getpid ());
  drtc_http_reply_object (msg, SOUP_STATUS_OK, b);
}

static void
route_start (gpointer server, SoupServerMessage * msg, DrtcRouteMatch * m)
{
  DrtcStreamController *ctl = m->stream;
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
route_status (gpointer server, SoupServerMessage * msg, DrtcRouteMatch * m)
{
  g_autoptr (JsonNode) status = drtc_stream_controller_status (m->stream);

  drtc_http_reply_json (msg, SOUP_STATUS_OK, status);
}

static void
route_stop (gpointer server, SoupServerMessage * msg, DrtcRouteMatch * m)
{
  drtc_stream_controller_stop (m->stream, "Stream stopped");
  route_status (server, msg, m);
}

static void
route_frames (gpointer server, SoupServerMessage * msg, DrtcRouteMatch * m)
{
  DrtcServe *serve = server;
  g_autoptr (DrtcRequest) req = NULL;
  const gchar *b64 = NULL;
  GstElement *src = drtc_stream_controller_frame_source (m->stream);

  if (drtc_http_content_type_is (msg, "application/octet-stream")) {
    drtc_frames_push_raw (src, msg, m->query, serve->opts.frames_timeout_ms);
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
  drtc_runtime_config_add_members (config, b);
  drtc_json_builder_add_string (b, "queue_mode", queue_mode);
  drtc_json_builder_add_boolean (b, "locked", locked);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
route_config_post (gpointer server, SoupServerMessage * msg, DrtcRouteMatch * m)
{
  DrtcStreamController *ctl = m->stream;
  g_autoptr (DrtcRequest) req = NULL;
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (GError) err = NULL;
  DrtcRuntimeConfig c;
  const gchar *queue_mode = NULL;

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

static void
reply_no_stream (SoupServerMessage * msg, const gchar * name)
{
  g_autofree gchar *detail = g_strdup_printf ("No stream named '%s' (POST "
      "/streams/%s/start creates it)", name, name);

  drtc_http_reply_detail (msg, SOUP_STATUS_NOT_FOUND, detail);
}

/* GET /streams/{name}/config of a stream not in memory (say, after a
 * restart) whose settings were saved is answered from the file, creating
 * nothing. */
static void
route_config_get (gpointer server, SoupServerMessage * msg, DrtcRouteMatch * m)
{
  DrtcServe *serve = server;
  DrtcStreamController *ctl = m->stream;
  const gchar *name = m->param[0];
  g_autofree gchar *path = NULL;
  g_autoptr (JsonNode) body = NULL;
  DrtcRuntimeConfig c;

  if (ctl) {
    body = config_json (drtc_stream_controller_config (ctl),
        drtc_stream_controller_queue_mode (ctl),
        drtc_stream_controller_running (ctl));
    drtc_http_reply_json (msg, SOUP_STATUS_OK, body);
    return;
  }
  path = drtc_runtime_config_path (serve->opts.settings_dir, name);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
    reply_no_stream (msg, name);
    return;
  }
  drtc_runtime_config_load (serve->opts.settings_dir, name, &c);
  body = config_json (&c, serve->opts.queue_mode, FALSE);
  drtc_http_reply_json (msg, SOUP_STATUS_OK, body);
}

static void
route_pipeline_cache (gpointer server, SoupServerMessage * msg,
    DrtcRouteMatch * m)
{
  DrtcServe *serve = server;
  g_autoptr (DrtcRequest) req = drtc_request_new (msg, TRUE);
  g_autofree gchar *path = drtc_serve_pipeline_cache_path (serve);
  g_autoptr (JsonBuilder) b = json_builder_new ();
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
  drtc_json_builder_add_boolean (b, "cached", TRUE);
  drtc_json_builder_add_string (b, "pipeline", pipeline ? pipeline : "");
  drtc_json_builder_add_string (b, "path", DRTC_PIPELINE_CACHE_FILE);
  drtc_http_reply_object (msg, SOUP_STATUS_OK, b);
}

static void
route_pipeline (gpointer server, SoupServerMessage * msg, DrtcRouteMatch * m)
{
  DrtcStreamController *ctl = m->stream;
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
reply_whep_status (SoupServerMessage * msg, DrtcWhepController * whep,
    gboolean with_bridge_stats)
{
  g_autoptr (JsonNode) status = drtc_whep_controller_status (whep,
      with_bridge_stats);

  drtc_http_reply_json (msg, SOUP_STATUS_OK, status);
}

static void
route_whep_status (gpointer server, SoupServerMessage * msg, DrtcRouteMatch * m)
{
  reply_whep_status (msg, drtc_stream_controller_whep (m->stream), TRUE);
}

static void
route_whep_connect (gpointer server, SoupServerMessage * msg,
    DrtcRouteMatch * m)
{
  DrtcWhepController *whep = drtc_stream_controller_whep (m->stream);
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
  reply_whep_status (msg, whep, FALSE);
}

static void
route_whep_disconnect (gpointer server, SoupServerMessage * msg,
    DrtcRouteMatch * m)
{
  DrtcWhepController *whep = drtc_stream_controller_whep (m->stream);

  drtc_whep_controller_disconnect (whep, "Manual disconnect");
  reply_whep_status (msg, whep, FALSE);
}

static void
route_whep_frame (gpointer server, SoupServerMessage * msg, DrtcRouteMatch * m)
{
  DrtcWhepController *whep = drtc_stream_controller_whep (m->stream);
  const gchar *format = m->query ? g_hash_table_lookup (m->query,
      "format") : NULL;
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
route_metrics (gpointer server, SoupServerMessage * msg, DrtcRouteMatch * m)
{
  DrtcServe *serve = server;
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
route_openapi (gpointer server, SoupServerMessage * msg, DrtcRouteMatch * m)
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
route_streams (gpointer server, SoupServerMessage * msg, DrtcRouteMatch * m)
{
  DrtcServe *serve = server;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  GHashTableIter iter;
  gpointer value;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "streams");
  json_builder_begin_array (b);
  g_hash_table_iter_init (&iter, serve->streams);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    json_builder_add_value (b, drtc_stream_controller_status (value));
  json_builder_end_array (b);
  drtc_http_reply_object (msg, SOUP_STATUS_OK, b);
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
route_delete (gpointer server, SoupServerMessage * msg, DrtcRouteMatch * m)
{
  DrtcServe *serve = server;
  const gchar *name = m->param[0];
  g_autoptr (JsonBuilder) b = json_builder_new ();

  if (g_str_equal (name, DRTC_DEFAULT_STREAM)) {
    drtc_http_reply_detail (msg, SOUP_STATUS_CONFLICT,
        "the default stream stays (POST /stop stops it)");
    return;
  }
  retire (serve, name);
  json_builder_begin_object (b);
  drtc_json_builder_add_boolean (b, "deleted", TRUE);
  drtc_json_builder_add_string (b, "stream_name", name);
  drtc_http_reply_object (msg, SOUP_STATUS_OK, b);
}

/* ---- the table ---- */

/* raw frames come as bytes: not a type a page can send without a
 * preflight either */
static const gchar *const frame_types[] = {
  "application/json", "application/octet-stream", NULL
};

#define STREAM DRTC_ROUTE_NEEDS_STREAM
#define CREATES DRTC_ROUTE_CHANGES_STATE
#define NAMED DRTC_ROUTE_PER_STREAM     /* also /streams/{name}/... */

/* One entry per method and path; the reference routes act on the stream
 * "default", NAMED ones also on /streams/{name}/...; /openapi.json
 * documents each (tests/app/routes.py checks). Bodies: at most
 * DRTC_SERVE_MAX_JSON bytes of application/json unless the entry says. */
static const DrtcHttpRoute routes[] = {
  {"GET", "/healthz", route_healthz, DRTC_ROUTE_PUBLIC},
  {"POST", "/start", route_start, STREAM | CREATES | NAMED},
  {"POST", "/stop", route_stop, STREAM | NAMED},
  {"GET", "/status", route_status, STREAM | NAMED},
  {"POST", "/frames", route_frames, STREAM | NAMED, DRTC_SERVE_MAX_BODY,
      frame_types},
  {"GET", "/config", route_config_get, NAMED},  /* or the saved file's */
  {"POST", "/config", route_config_post, STREAM | CREATES | NAMED},
  {"POST", "/pipeline/cache", route_pipeline_cache, 0},
  {"PATCH", "/pipeline", route_pipeline, STREAM | NAMED},
  {"GET", "/whep/status", route_whep_status, STREAM | NAMED},
  {"POST", "/whep/connect", route_whep_connect, STREAM | NAMED},
  {"POST", "/whep/disconnect", route_whep_disconnect, STREAM | NAMED},
  {"GET", "/whep/frame", route_whep_frame, STREAM | NAMED},
  {"GET", "/openapi.json", route_openapi, 0},
  {"GET", "/metrics", route_metrics, 0},
  {"GET", "/streams", route_streams, 0},
  {"DELETE", "", route_delete, STREAM | DRTC_ROUTE_ONLY_PER_STREAM},
};

static const DrtcRouteTable table = {
  routes, G_N_ELEMENTS (routes), "/streams/{name}"
};

/**
 * drtc_serve_routes:
 *
 * Returns: serve's route table (the early handler reads its flags)
 */
const DrtcRouteTable *
drtc_serve_routes (void)
{
  return &table;
}

gchar *
drtc_serve_describe_routes (void)
{
  return drtc_route_table_describe (&table);
}

/* ---- dispatch ---- */

static void
dispatch (DrtcServe * serve, SoupServerMessage * msg, DrtcRouteMatch * m,
    const gchar * name)
{
  gboolean create = (m->route->flags & DRTC_ROUTE_CHANGES_STATE)
      || g_str_equal (name, DRTC_DEFAULT_STREAM);

  if (create && !g_hash_table_contains (serve->streams, name)
      && g_hash_table_size (serve->streams) >= MAX_STREAMS
      && !reclaim_slot (serve)) {
    drtc_http_reply_detail (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "at most " G_STRINGIFY (MAX_STREAMS) " streams in one server");
    return;
  }
  m->stream = drtc_serve_stream (serve, name, create);
  if ((m->route->flags & DRTC_ROUTE_NEEDS_STREAM) && !m->stream) {
    reply_no_stream (msg, name);
    return;
  }
  m->route->handler (serve, msg, m);
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

/* The route @path names into @m (the stream it is for in m->param[0]:
 * the default one unless under /streams/{name}), labelling @msg with it,
 * or NULL with the answer to give: 404, or 405 for a method it does not
 * take */
static const gchar *
find_route (SoupServerMessage * msg, const gchar * path, DrtcRouteMatch * m,
    guint * status)
{
  gboolean method_ok;

  *status = SOUP_STATUS_NOT_FOUND;
  if (!drtc_route_table_find (&table, soup_server_message_get_method (msg),
          path, m, &method_ok))
    return "Not Found";
  if (!m->param[0])
    m->param[0] = g_strdup (DRTC_DEFAULT_STREAM);
  if (!valid_stream_name (m->param[0]))
    return "stream names are 1 to 64 letters, digits, '-' or '_'";
  g_object_set_data_full (G_OBJECT (msg), "drtc-route",
      g_strdup (m->route->pattern), g_free);
  if (!method_ok) {
    *status = SOUP_STATUS_METHOD_NOT_ALLOWED;
    return "Method Not Allowed";
  }
  return NULL;
}

/**
 * drtc_serve_route_refusal:
 * @status: (out): 404 or 405
 *
 * For the early handler: why no route takes @msg (NULL: one does).
 */
const gchar *
drtc_serve_route_refusal (SoupServerMessage * msg, const gchar * path,
    guint * status)
{
  g_auto (DrtcRouteMatch) m = { 0 };

  return find_route (msg, path, &m, status);
}

void
drtc_serve_on_request (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer data)
{
  DrtcServe *serve = data;
  const gchar *method = soup_server_message_get_method (msg);
  g_auto (DrtcRouteMatch) m = { 0 };
  const gchar *why;
  guint status;

  /* the early handler added CORS headers for an allowed Origin */
  if (g_str_equal (method, SOUP_METHOD_OPTIONS)) {
    drtc_http_reply_text (msg, SOUP_STATUS_OK, "text/plain", "OK");
    return;
  }
  why = find_route (msg, path, &m, &status);
  if (why) {
    drtc_http_reply_detail (msg, status, why);
    return;
  }
  m.query = query;
  dispatch (serve, msg, &m, m.param[0]);
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
