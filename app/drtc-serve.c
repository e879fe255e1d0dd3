/* daydream-rtc serve: the REST control server ComfyUI workflows call
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Its life cycle and command line; the routes are drtc-serve-routes.c's,
 * what a request must be to reach them drtc-serve-guard.c's.
 */
#include "drtc-serve.h"
#include "drtc-serve-private.h"
#include "drtc-http-listen.h"
#include "drtc-http-server.h"
#include "drtc-preview.h"
#include "drtc-log.h"
#include "drtc-plugin.h"
#include "drtc-daydream.h"

#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <unistd.h>
#include <glib-unix.h>

/* ---- life cycle ---- */

static void
stop_listening (DrtcServe * serve)
{
  if (!serve->listener)
    return;
  drtc_http_listen_stop (serve->listener);
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
  g_clear_pointer (&serve->retired, g_ptr_array_unref);
  if (serve->sweep) {
    g_source_destroy (serve->sweep);
    g_clear_pointer (&serve->sweep, g_source_unref);
  }
  g_clear_pointer (&serve->guard, drtc_http_guard_free);
  g_clear_pointer (&serve->http, drtc_http_free);
  g_clear_pointer (&serve->requests, g_hash_table_unref);
  g_clear_pointer (&serve->context, g_main_context_unref);
  g_free (serve->server_id);
  g_free (serve);
}

static DrtcServe *
serve_new (const DrtcServeOptions * opts, GError ** error)
{
  DrtcServe *serve = g_new0 (DrtcServe, 1);
  DrtcHttpServerSetup setup = { 0 };

  serve->opts = *opts;
  serve->context = g_main_context_ref_thread_default ();
  serve->http = drtc_http_new_for_context (serve->context);
  serve->streams = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) drtc_stream_controller_free);
  serve->requests = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  serve->retired = g_ptr_array_new_with_free_func ((GDestroyNotify)
      drtc_stream_controller_free);
  serve->server_id = g_uuid_string_random ();
  if (!drtc_serve_stream (serve, DRTC_DEFAULT_STREAM, TRUE)) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "the daydreamrtc GStreamer plugin is missing (GST_PLUGIN_PATH?)");
    serve_free (serve);
    return NULL;
  }
  setup.host = opts->host;
  setup.port = opts->port;
  setup.allowed_hosts = (const gchar * const *) opts->allowed_hosts;
  setup.allowed_origins = (const gchar * const *) opts->allowed_origins;
  setup.server_header = "daydream-rtc ";
  setup.idle_timeout_s = opts->idle_timeout_s;
  setup.on_request = drtc_serve_on_request;
  setup.on_preview = drtc_preview_serve_handler;
  setup.on_request_headers = drtc_serve_on_request_headers;
  setup.user_data = serve;
  if (!drtc_http_server_start (&setup, &serve->server, &serve->listener,
          &serve->guard, &serve->port, error)) {
    serve_free (serve);
    return NULL;
  }
  g_signal_connect (serve->server, "request-finished",
      G_CALLBACK (drtc_serve_on_request_finished), serve);
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

/* The command line, as parsed. */
typedef struct
{
  gchar *host, *settings, *pipeline, *api_url, *key_file, *token_file;
  gchar *whep_url, *queue_mode;
  gchar **local, **origins, **hosts;
  gint port, max_frames, frames_timeout, whep_timeout, idle_timeout;
  gboolean keep_streams;
  gchar *default_settings;
} ServeArgs;

static void
serve_args_clear (ServeArgs * a)
{
  g_free (a->host);
  g_free (a->settings);
  g_free (a->pipeline);
  g_free (a->api_url);
  g_free (a->key_file);
  g_free (a->token_file);
  g_free (a->whep_url);
  g_free (a->queue_mode);
  g_strfreev (a->local);
  g_strfreev (a->origins);
  g_strfreev (a->hosts);
  g_free (a->default_settings);
}

/* (transfer full): the options, writing into @a (GLib copies the table) */
static GOptionContext *
option_context (ServeArgs * a)
{
  GOptionContext *ctx;
  GOptionEntry entries[] = {
    {"host", 0, 0, G_OPTION_ARG_STRING, &a->host,
        "Address to listen on (default 127.0.0.1)", "ADDR"},
    {"port", 'p', 0, G_OPTION_ARG_INT, &a->port,
        "Port (default 8895; 0 = any free port)", "PORT"},
    {"settings-dir", 0, 0, G_OPTION_ARG_FILENAME, &a->settings,
          "Runtime config and pipeline cache (default ~/.config/daydream-rtc)",
        "DIR"},
    {"pipeline-config", 0, 0, G_OPTION_ARG_FILENAME, &a->pipeline,
        "Default pipeline config file (default: the built-in one)", "FILE"},
    {"api-url", 0, 0, G_OPTION_ARG_STRING, &a->api_url,
        "Daydream API (default DAYDREAM_API_URL, else "
          "https://api.daydream.live)", "URL"},
    {"api-key-file", 0, 0, G_OPTION_ARG_FILENAME, &a->key_file,
        "File (mode 0600) with the Daydream API key (default: "
          "DAYDREAM_API_KEY, read at each start)", "FILE"},
    {"access-token-file", 0, 0, G_OPTION_ARG_FILENAME, &a->token_file,
        "Require Authorization: Bearer <token> (file mode 0600); needed to "
          "listen on a non-loopback address", "FILE"},
    {"whep-url", 0, 0, G_OPTION_ARG_STRING, &a->whep_url,
        "Subscribe to this WHEP URL at start-up", "URL"},
    {"whep-timeout", 0, 0, G_OPTION_ARG_INT, &a->whep_timeout,
        "Seconds a WHEP subscription may take to connect before it fails "
          "and is retried with a backoff (default 15)", "S"},
    {"ice-local-address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &a->local,
        "Gather ICE candidates on this address only (repeatable)", "ADDR"},
    {"max-frames", 0, 0, G_OPTION_ARG_INT, &a->max_frames,
        "Frame queue bound per stream (default 90)", "N"},
    {"queue-mode", 0, 0, G_OPTION_ARG_STRING, &a->queue_mode,
        "backpressure (default: every frame sent in order at the frame "
          "rate; POST /frames waits for room, then 503), leaky (a full queue "
          "drops the oldest frame, a stalled stream drops what it missed) or "
          "latest (only the newest frame, sent as it comes: lowest latency); "
          "a stream's /start or /config queue_mode overrides it", "MODE"},
    {"frames-timeout", 0, 0, G_OPTION_ARG_INT, &a->frames_timeout,
          "Milliseconds POST /frames waits for room before 503 (default 2000)",
        "MS"},
    {"allowed-origin", 0, 0, G_OPTION_ARG_STRING_ARRAY, &a->origins,
        "Also answer browser requests from this origin (scheme://host:port; "
          "repeatable; allowed always: ComfyUI's http://127.0.0.1:8188 and "
          "http://localhost:8188, and this server's own)", "ORIGIN"},
    {"allowed-host", 0, 0, G_OPTION_ARG_STRING_ARRAY, &a->hosts,
        "Also answer requests whose Host names this (repeatable; always: "
          "127.0.0.1, localhost, [::1] and the --host address)", "NAME"},
    {"idle-timeout", 0, 0, G_OPTION_ARG_INT, &a->idle_timeout,
        "Seconds a connection may sit without a byte from its client "
          "(between requests, within a body) before it is closed (default "
          G_STRINGIFY (DRTC_HTTP_IDLE_TIMEOUT_S) ")", "S"},
    {"keep-streams", 0, 0, G_OPTION_ARG_NONE, &a->keep_streams,
        "Do not delete Daydream streams on stop", NULL},
    {NULL}
  };

  ctx = g_option_context_new ("- REST control server for ComfyUI");
  g_option_context_set_summary (ctx, "The REST API of the rtc-node tool "
      "(same routes and fields), on GStreamer: see docs/rest-api.md.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  drtc_log_add_options (ctx);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  return ctx;
}

static void
tune_malloc (void)
{
#ifdef __GLIBC__
  /* glibc raises its mmap threshold after each large free (up to 32 MiB),
   * so the memory of big request bodies stayed with the process (tens of
   * MiB after a few hundred); fixed thresholds give it back. Frames up to
   * 4 MiB (720p RGB) stay on the heap. */
  mallopt (M_MMAP_THRESHOLD, 4 * 1024 * 1024);
  mallopt (M_TRIM_THRESHOLD, 8 * 1024 * 1024);
#endif
}

/* The options of @a, clamped; FALSE after printing why they cannot be. */
static gboolean
options_from_args (ServeArgs * a, DrtcServeOptions * opts)
{
  g_autoptr (GError) err = NULL;

  opts->host = a->host ? a->host : (gchar *) "127.0.0.1";
  opts->port = a->port;
  opts->settings_dir = a->settings ? a->settings : (a->default_settings =
      g_build_filename (g_get_user_config_dir (), "daydream-rtc", NULL));
  opts->pipeline_config = a->pipeline;
  opts->api_url = a->api_url;
  opts->api_key_file = a->key_file;
  opts->whep_url = a->whep_url;
  opts->whep_timeout_s = CLAMP (a->whep_timeout, 1, 600);
  opts->ice_local_addresses = a->local;
  opts->allowed_origins = a->origins;
  opts->allowed_hosts = a->hosts;
  opts->max_frames = CLAMP (a->max_frames, 1, 10000);
  opts->queue_mode = drtc_serve_queue_mode_lookup (a->queue_mode ?
      a->queue_mode : "backpressure");
  if (!opts->queue_mode) {
    g_printerr ("daydream-rtc serve: --queue-mode must be backpressure, "
        "leaky or latest\n");
    return FALSE;
  }
  opts->frames_timeout_ms = CLAMP (a->frames_timeout, 0, 60000);
  opts->idle_timeout_s = CLAMP (a->idle_timeout, 1, 3600);
  opts->delete_on_stop = !a->keep_streams;
  if (a->token_file) {
    opts->access_token = drtc_daydream_read_secret (a->token_file,
        "access token", &err);
    if (!opts->access_token) {
      g_printerr ("daydream-rtc serve: %s\n", err->message);
      return FALSE;
    }
  } else if (!drtc_http_host_is_loopback (opts->host)) {
    g_printerr ("daydream-rtc serve: listening on %s (not loopback) needs "
        "--access-token-file\n", opts->host);
    return FALSE;
  }
  return TRUE;
}

/* Until SIGINT or SIGTERM; then every stream ends. */
static void
serve_run (DrtcServe * serve)
{
  g_autoptr (GMainLoop) loop = NULL;

  if (serve->opts.whep_url)
    drtc_whep_controller_connect (drtc_stream_controller_whep
        (drtc_serve_stream (serve, DRTC_DEFAULT_STREAM, TRUE)),
        serve->opts.whep_url);
  /* SIGTERM may come as soon as the line below is read: the handlers
   * are in place first */
  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  printf ("daydream-rtc serve listening on http://%s:%u\n", serve->opts.host,
      serve->port);
  fflush (stdout);
  g_main_loop_run (loop);
  g_message ("serve stopping: streams end, WHIP sessions are deleted");
  serve_shutdown (serve);
}

int
drtc_serve_main (int argc, char **argv)
{
  ServeArgs a = {.port = 8895,.max_frames = 90,.frames_timeout = 2000,
    .whep_timeout = 15,.idle_timeout = DRTC_HTTP_IDLE_TIMEOUT_S
  };
  DrtcServeOptions opts = { 0 };
  g_autoptr (GOptionContext) ctx = option_context (&a);
  g_autoptr (GError) err = NULL;
  DrtcServe *serve;
  int rc = 0;

  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("daydream-rtc serve: %s\n", err->message);
    rc = 2;
  } else {
    drtc_log_setup ();
    if (!drtc_plugin_ensure (&err)) {
      g_printerr ("daydream-rtc serve: %s\n", err->message);
      rc = 1;
    }
  }
  if (rc == 0) {
    tune_malloc ();
    rc = options_from_args (&a, &opts) ? 0 : 2;
  }
  if (rc == 0 && !(serve = serve_new (&opts, &err))) {
    g_printerr ("daydream-rtc serve: %s\n", err->message);
    rc = 1;
  } else if (rc == 0) {
    serve_run (serve);
    serve_free (serve);
  }
  g_free (opts.access_token);
  serve_args_clear (&a);
  return rc;
}
