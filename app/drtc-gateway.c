/* daydream-rtc gateway: a local Daydream-compatible service
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One SoupServer on one port serves the REST API (/v1/streams...), WHIP
 * ingest and WHEP egress (/live/video-to-video/...), so the whole loop runs
 * on one machine without an account: docs/gateway.md.
 */
#include "drtc-gateway-private.h"
#include "drtc-http-listen.h"
#include "drtc-http-server.h"
#include "drtc-log.h"
#include "drtc-preview.h"
#include "drtc-daydream.h"
#include "drtc-teardown.h"

#include <stdio.h>
#include <string.h>
#include <glib-unix.h>
#include <glib/gstdio.h>

#define SERVE_DEFAULT_PORT 8895 /* daydream-rtc serve's default --port */

/* ---- the tick (4 per second): rates, watchdogs, faults ---- */

static gboolean
on_tick (gpointer data)
{
  DrtcGateway *gw = data;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, gw->streams);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    drtc_gateway_stream_tick (value);
  return G_SOURCE_CONTINUE;
}

/**
 * drtc_gateway_new:
 *
 * Starts listening on @options->host (a loopback address unless the caller
 * knows better) and serves on the thread-default main context.
 *
 * Returns: (transfer full): the gateway, or %NULL with @error set
 */
DrtcGateway *
drtc_gateway_new (const DrtcGatewayOptions * options, GError ** error)
{
  g_autoptr (DrtcGateway) gw = g_new0 (DrtcGateway, 1);
  g_autoptr (GStrvBuilder) origins = NULL;
  DrtcHttpServerSetup setup = { 0 };
  g_auto (GStrv) allowed = NULL;

  gw->opts = *options;
  gw->opts.host = g_strdup (options->host ? options->host : "127.0.0.1");
  gw->opts.api_key = g_strdup (options->api_key);
  gw->opts.ice_servers = g_strdupv (options->ice_servers);
  gw->opts.local_addresses = g_strdupv (options->local_addresses);
  gw->opts.encoder = g_strdup (options->encoder);
  gw->opts.allowed_origins = gw->opts.allowed_hosts = NULL;     /* in guard */
  gw->context = g_main_context_ref_thread_default ();
  gw->streams = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) drtc_gateway_stream_free);
  gw->by_key = g_hash_table_new (g_str_hash, g_str_equal);
  gw->whep_503_left = options->whep_503;

  /* a stand-in for a cloud service, on the desktop: besides its own origin
   * and the --allowed-origins, only the pages that play its WHEP output in
   * the offline set-up: ComfyUI's (the preview node) and serve's /preview
   * at serve's default port */
  origins = g_strv_builder_new ();
  if (options->allowed_origins)
    g_strv_builder_addv (origins, (const gchar **) options->allowed_origins);
  g_strv_builder_add (origins, "http://127.0.0.1:" G_STRINGIFY
      (SERVE_DEFAULT_PORT));
  g_strv_builder_add (origins, "http://localhost:" G_STRINGIFY
      (SERVE_DEFAULT_PORT));
  allowed = g_strv_builder_end (origins);
  setup.host = gw->opts.host;
  setup.port = options->port;
  setup.allowed_hosts = (const gchar * const *) options->allowed_hosts;
  setup.allowed_origins = (const gchar * const *) allowed;
  setup.server_header = "daydream-rtc-gateway ";
  setup.idle_timeout_s = DRTC_HTTP_IDLE_TIMEOUT_S;
  setup.on_request = drtc_gateway_on_request;
  setup.on_preview = drtc_preview_gateway_handler;
  setup.on_request_headers = drtc_gateway_on_request_headers;
  setup.user_data = gw;
  if (!drtc_http_server_start (&setup, &gw->server, &gw->listener,
          &gw->guard, &gw->port, error))
    return NULL;

  /* often enough that a status read soon after media starts has rates */
  gw->tick = g_timeout_source_new (250);
  g_source_set_callback (gw->tick, on_tick, gw, NULL);
  g_source_attach (gw->tick, gw->context);
  return g_steal_pointer (&gw);
}

guint
drtc_gateway_get_port (DrtcGateway * gw)
{
  return gw->port;
}

void
drtc_gateway_free (DrtcGateway * gw)
{
  if (!gw)
    return;
  if (gw->tick) {
    g_source_destroy (gw->tick);
    g_source_unref (gw->tick);
  }
  if (gw->listener) {
    drtc_http_listen_stop (gw->listener);
    g_clear_object (&gw->listener);
  }
  if (gw->server) {
    soup_server_disconnect (gw->server);
    g_object_unref (gw->server);
  }
  g_clear_pointer (&gw->guard, drtc_http_guard_free);
  g_clear_pointer (&gw->by_key, g_hash_table_unref);
  g_clear_pointer (&gw->streams, g_hash_table_unref);
  /* a clean exit: every pipeline in NULL first (webrtcbin says goodbye) */
  if (!drtc_teardown_wait (10 * G_USEC_PER_SEC))
    g_warning ("some media were still stopping after 10 s");
  g_clear_pointer (&gw->context, g_main_context_unref);
  g_free (gw->opts.host);
  g_free (gw->opts.api_key);
  g_strfreev (gw->opts.ice_servers);
  g_strfreev (gw->opts.local_addresses);
  g_free (gw->opts.encoder);
  g_free (gw);
}

/* ---- command line ---- */

static gboolean
on_signal (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* The API key: --api-key-file (must not be readable by others) or the
 * environment. Never from argv: the process list would show it. */
static gboolean
read_api_key (const gchar * file, gchar ** key, GError ** error)
{
  const gchar *env = g_getenv ("DRTC_GATEWAY_API_KEY");

  if (!file) {
    *key = env && *env ? g_strstrip (g_strdup (env)) : NULL;
    return TRUE;
  }
  *key = drtc_daydream_read_secret (file, "API key", error);
  return *key != NULL;
}

/* Like serve: beyond loopback, only with a key (a LAN host could otherwise
 * create streams and take over WHIP/WHEP sessions). */
static gboolean
bind_allowed (const gchar * host, const gchar * key)
{
  if (key && *key)
    return TRUE;
  if (drtc_http_host_is_loopback (host ? host : "127.0.0.1"))
    return TRUE;
  g_printerr ("daydream-rtc gateway: listening on %s (not loopback) needs "
      "--api-key-file or DRTC_GATEWAY_API_KEY\n", host);
  return FALSE;
}

/* The command line as GOption fills it in. */
typedef struct
{
  gchar *host, *key_file, *mode, *encoder;
  gchar **ice, **local, **origins, **hosts;
  gint port, fps, bitrate, latency, timeout, max_viewers, viewer_timeout;
  gint max_pending, max_pending_total, max_streams, connect_timeout,
      fail_creates, api_delay, whep_503;
  gdouble whep_404, drop_after;
  gboolean never_ready, counter_offer, bad_answer;
} GatewayArgs;

static void
gateway_args_clear (GatewayArgs * a)
{
  g_free (a->host);
  g_free (a->key_file);
  g_free (a->mode);
  g_free (a->encoder);
  g_strfreev (a->ice);
  g_strfreev (a->local);
  g_strfreev (a->origins);
  g_strfreev (a->hosts);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (GatewayArgs, gateway_args_clear)
     static void add_service_options (GOptionContext * ctx, GatewayArgs * a)
{
  GOptionEntry entries[] = {
    {"host", 0, 0, G_OPTION_ARG_STRING, &a->host,
        "Address to listen on (default 127.0.0.1)", "ADDR"},
    {"port", 'p', 0, G_OPTION_ARG_INT, &a->port,
        "Port for API and media (default 8896; 0 = any free port)", "PORT"},
    {"api-key-file", 0, 0, G_OPTION_ARG_FILENAME, &a->key_file,
          "Require this Bearer key on the API, WHIP and WHEP (file mode "
          "0600; or DRTC_GATEWAY_API_KEY)",
        "FILE"},
    {"allowed-origin", 0, 0, G_OPTION_ARG_STRING_ARRAY, &a->origins,
          "Also answer browser requests from this origin (scheme://host:port; "
          "repeatable; allowed always: the gateway's own, ComfyUI's "
          "http://127.0.0.1:8188 and http://localhost:8188, and serve's "
          "/preview at http://127.0.0.1:8895 and http://localhost:8895)",
        "ORIGIN"},
    {"allowed-host", 0, 0, G_OPTION_ARG_STRING_ARRAY, &a->hosts,
        "Also answer requests whose Host names this (repeatable; always: "
          "127.0.0.1, localhost, [::1] and the --host address)", "NAME"},
    {"mode", 0, 0, G_OPTION_ARG_STRING, &a->mode,
        "daydream: like Daydream's gateway (no WHIP PATCH/DELETE); rfc: full "
          "RFC 9725 (default daydream)", "MODE"},
    {"ice-server", 0, 0, G_OPTION_ARG_STRING_ARRAY, &a->ice,
        "Advertise a STUN/TURN URL in Link headers (repeatable)", "URL"},
    {"ice-local-address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &a->local,
        "Gather ICE candidates on this address only (repeatable)", "ADDR"},
    {"encoder", 0, 0, G_OPTION_ARG_STRING, &a->encoder,
        "H.264 encoder element (default: best available)", "NAME"},
    {"bitrate", 0, 0, G_OPTION_ARG_INT, &a->bitrate,
        "Output bitrate in kbit/s (default 2000)", "KBPS"},
    {"fps", 0, 0, G_OPTION_ARG_INT, &a->fps,
        "Nominal frame rate (default 30)", "FPS"},
    {"latency", 0, 0, G_OPTION_ARG_INT, &a->latency,
        "Jitterbuffer latency in ms (default 50)", "MS"},
    {"publisher-timeout", 0, 0, G_OPTION_ARG_INT, &a->timeout,
          "Seconds without media before a publisher is dropped (default 10)",
        "S"},
    {"max-viewers", 0, 0, G_OPTION_ARG_INT, &a->max_viewers,
        "WHEP viewers per stream before 429 (default 5)", "N"},
    {"max-pending-viewers", 0, 0, G_OPTION_ARG_INT, &a->max_pending,
        "WHEP viewers per stream still connecting (they take no viewer "
          "slot) before 503 (default 10)", "N"},
    {"max-pending-viewers-total", 0, 0, G_OPTION_ARG_INT,
          &a->max_pending_total,
        "WHEP viewers still connecting over all streams together before "
          "503 (default 40)", "N"},
    {"max-streams", 0, 0, G_OPTION_ARG_INT, &a->max_streams,
          "Streams at once before POST /v1/streams answers 429 (default 64)",
        "N"},
    {"viewer-connect-timeout", 0, 0, G_OPTION_ARG_INT, &a->connect_timeout,
        "Seconds a WHEP viewer has to connect after its answer before it "
          "is dropped (default 5)", "S"},
    {"viewer-timeout", 0, 0, G_OPTION_ARG_INT, &a->viewer_timeout,
        "Seconds without RTCP before a WHEP viewer counts as gone "
          "(default 10)", "S"},
    {"whep-counter-offer", 0, 0, G_OPTION_ARG_NONE, &a->counter_offer,
        "Answer WHEP POSTs with 406 and the gateway's own offer; the "
          "viewer PATCHes its answer", NULL},
    {NULL}
  };

  g_option_context_add_main_entries (ctx, entries, NULL);
}

/* Fault switches, for tests of the clients (docs/gateway.md): a new one is
 * an entry here, a member of DrtcGatewayOptions, a line in
 * args_to_options and the check where it bites. */
static void
add_fault_options (GOptionContext * ctx, GatewayArgs * a)
{
  GOptionEntry entries[] = {
    {"fail-creates", 0, 0, G_OPTION_ARG_INT, &a->fail_creates,
        "Fault: the first N stream creations answer 500", "N"},
    {"never-ready", 0, 0, G_OPTION_ARG_NONE, &a->never_ready,
        "Fault: status never becomes ONLINE, no WHEP URL", NULL},
    {"whep-404-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &a->whep_404,
        "Fault: WHEP answers 404 for S seconds after publishing starts", "S"},
    {"drop-publisher-after", 0, 0, G_OPTION_ARG_DOUBLE, &a->drop_after,
        "Fault: drop each WHIP peer S seconds after it connected", "S"},
    {"api-delay", 0, 0, G_OPTION_ARG_INT, &a->api_delay,
        "Fault: answer every API request MS milliseconds late", "MS"},
    {"whep-503", 0, 0, G_OPTION_ARG_INT, &a->whep_503,
        "Fault: the first N WHEP POSTs answer 503 with Retry-After: 1", "N"},
    {"whep-bad-answer", 0, 0, G_OPTION_ARG_NONE, &a->bad_answer,
        "Fault: WHEP POSTs get a 201 whose SDP answer is unusable", NULL},
    {NULL}
  };

  g_option_context_add_main_entries (ctx, entries, NULL);
}

/* 0 when @a holds a valid command line, else the exit status (2) */
static int
parse_args (int argc, char **argv, GatewayArgs * a)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) err = NULL;

  a->port = 8896;
  a->fps = 30;
  a->bitrate = 2000;
  a->latency = 50;
  a->timeout = 10;
  a->max_viewers = 5;
  a->viewer_timeout = 10;
  a->max_pending = 10;
  a->max_pending_total = 40;
  a->max_streams = 64;
  a->connect_timeout = 5;
  ctx = g_option_context_new ("- local Daydream-compatible service");
  g_option_context_set_summary (ctx, "Serves Daydream's stream API, WHIP "
      "ingest, a prompt-driven video effect and WHEP egress on one port, so "
      "everything runs offline. See docs/gateway.md.");
  add_service_options (ctx, a);
  add_fault_options (ctx, a);
  drtc_log_add_options (ctx);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("daydream-rtc gateway: %s\n", err->message);
    return 2;
  }
  drtc_log_setup ();
  if (a->mode && !g_str_equal (a->mode, "daydream")
      && !g_str_equal (a->mode, "rfc")) {
    g_printerr ("daydream-rtc gateway: --mode is daydream or rfc\n");
    return 2;
  }
  if (a->port < 0 || a->port > 65535 || a->fps < 1 || a->bitrate < 50
      || a->latency < 0 || a->timeout < 1 || a->max_viewers < 1
      || a->fail_creates < 0 || a->api_delay < 0 || a->viewer_timeout < 1
      || a->whep_503 < 0 || a->max_pending < 1 || a->max_pending_total < 1
      || a->max_streams < 1 || a->connect_timeout < 1) {
    g_printerr ("daydream-rtc gateway: an option is out of range\n");
    return 2;
  }
  return 0;
}

/* @opts borrows @a's strings */
static void
args_to_options (const GatewayArgs * a, DrtcGatewayOptions * opts)
{
  opts->host = a->host;
  opts->port = a->port;
  opts->allowed_origins = a->origins;
  opts->allowed_hosts = a->hosts;
  opts->rfc = a->mode && g_str_equal (a->mode, "rfc");
  opts->ice_servers = a->ice;
  opts->local_addresses = a->local;
  opts->encoder = a->encoder;
  opts->bitrate_kbps = a->bitrate;
  opts->fps = a->fps;
  opts->latency_ms = a->latency;
  opts->publisher_timeout_s = a->timeout;
  opts->max_viewers = a->max_viewers;
  opts->max_pending_viewers = a->max_pending;
  opts->max_pending_total = a->max_pending_total;
  opts->max_streams = a->max_streams;
  opts->viewer_connect_timeout_s = a->connect_timeout;
  opts->viewer_timeout_s = a->viewer_timeout;
  opts->whep_counter_offer = a->counter_offer;
  opts->fail_creates = a->fail_creates;
  opts->never_ready = a->never_ready;
  opts->whep_404_s = a->whep_404;
  opts->drop_publisher_s = a->drop_after;
  opts->api_delay_ms = a->api_delay;
  opts->whep_503 = a->whep_503;
  opts->whep_bad_answer = a->bad_answer;
}

/* Serves until SIGINT or SIGTERM. */
static void
run (DrtcGateway * gw)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);

  /* SIGTERM may come as soon as the line below is read: the handlers
   * are in place first */
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  /* tests and scripts read this line to learn the port */
  printf ("daydream-rtc gateway listening on http://%s:%u (%s mode)\n",
      gw->opts.host, gw->port, gw->opts.rfc ? "rfc" : "daydream");
  fflush (stdout);
  g_main_loop_run (loop);
  g_message ("gateway stopping");
}

int
drtc_gateway_main (int argc, char **argv)
{
  g_auto (GatewayArgs) args = { 0 };
  DrtcGatewayOptions opts = { 0 };
  g_autofree gchar *api_key = NULL;
  g_autoptr (GError) err = NULL;
  g_autoptr (DrtcGateway) gw = NULL;
  int status;

  if ((status = parse_args (argc, argv, &args)) != 0)
    return status;
  if (!read_api_key (args.key_file, &api_key, &err)) {
    g_printerr ("daydream-rtc gateway: %s\n", err->message);
    return 2;
  }
  if (!bind_allowed (args.host, api_key))
    return 2;
  args_to_options (&args, &opts);
  opts.api_key = api_key;
  gw = drtc_gateway_new (&opts, &err);
  if (!gw) {
    g_printerr ("daydream-rtc gateway: %s\n", err->message);
    return 1;
  }
  run (gw);
  return 0;
}
