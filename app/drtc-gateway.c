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
#include "drtc-http-util.h"
#include "drtc-log.h"
#include "drtc-json.h"
#include "drtc-preview.h"
#include "drtc-daydream.h"
#include "drtc-random.h"

#include <stdio.h>
#include <string.h>
#include <glib-unix.h>
#include <glib/gstdio.h>

#define SERVE_DEFAULT_PORT 8895 /* daydream-rtc serve's default --port */

#define LIVE_PREFIX "/live/video-to-video/"

/* ---- helpers shared by the modules ---- */

gchar *
drtc_gateway_url (DrtcGateway * gw, const gchar * path)
{
  return g_strdup_printf ("http://%s:%u%s", gw->opts.host, gw->port, path);
}

gchar *
drtc_gateway_whip_path (DrtcGatewayStream * stream)
{
  return g_strdup_printf (LIVE_PREFIX "%s/whip", stream->key);
}

gchar *
drtc_gateway_whep_path (DrtcGatewayStream * stream)
{
  return g_strdup_printf (LIVE_PREFIX "%s-out/whep", stream->key);
}

/* prefix + 32 hex digits: 128 bits from the kernel's CSPRNG */
gchar *
drtc_gateway_random_id (const gchar * prefix)
{
  return drtc_random_token (prefix, DRTC_RANDOM_MIN_BYTES);
}

void
drtc_gateway_reply_error (SoupServerMessage * msg, guint status,
    const gchar * format, ...)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "success");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "error");
  json_builder_add_string_value (b, text);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  drtc_http_reply_json (msg, status, root);
}

void
drtc_gateway_stream_free (DrtcGatewayStream * stream)
{
  if (!stream)
    return;
  g_clear_pointer (&stream->media, drtc_gateway_media_free);
  g_free (stream->id);
  g_free (stream->key);
  g_free (stream->playback_id);
  g_free (stream->name);
  g_free (stream->pipeline);
  g_clear_pointer (&stream->params, json_object_unref);
  g_free (stream->created_at);
  g_free (stream->params_updated_at);
  g_free (stream->session_id);
  g_free (stream->previous_session_id);
  g_free (stream->last_error);
  g_free (stream);
}

/* Brings the effect in line with the stream's params. */
void
drtc_gateway_apply_params (DrtcGatewayStream * stream)
{
  DrtcEffectSettings settings;
  g_autofree gchar *text = NULL;

  if (!stream->media)
    return;
  drtc_effect_settings_from_params (stream->params, &settings);
  text = drtc_effect_settings_describe (&settings);
  g_message ("stream %s: effect %s", stream->id, text);
  drtc_gateway_media_apply_effect (stream->media, &settings);
}

static void
on_media_event (DrtcGatewayMedia * media, DrtcMediaEvent event,
    const gchar * detail, gpointer data)
{
  DrtcGatewayStream *stream = data;

  switch (event) {
    case DRTC_MEDIA_PUBLISHER_LOST:
      drtc_gateway_end_publisher (stream, detail);
      break;
    case DRTC_MEDIA_PUBLISHER_REPLACED:
      g_message ("stream %s: the new publisher connected and took over",
          stream->id);
      g_clear_pointer (&stream->previous_session_id, g_free);
      drtc_gateway_publisher_started (stream);
      break;
    case DRTC_MEDIA_OFFER_ABANDONED:
      /* the current publisher's session is the stream's again */
      g_message ("stream %s: the new publisher went (%s); the current one "
          "stays", stream->id, detail);
      g_free (stream->session_id);
      stream->session_id = g_steal_pointer (&stream->previous_session_id);
      break;
    case DRTC_MEDIA_VIEWER_GONE:
      g_message ("stream %s: viewer %s left", stream->id, detail);
      drtc_gateway_media_remove_viewer (media, detail);
      break;
  }
}

gboolean
drtc_gateway_ensure_media (DrtcGatewayStream * stream, GError ** error)
{
  DrtcGateway *gw = stream->gateway;
  DrtcGatewayMediaConfig cfg = { 0 };

  if (stream->media)
    return TRUE;
  cfg.webrtc.local_addresses = (const gchar * const *) gw->opts.local_addresses;
  cfg.webrtc.latency_ms = gw->opts.latency_ms;
  cfg.encoder = gw->opts.encoder;
  cfg.bitrate_kbps = gw->opts.bitrate_kbps;
  cfg.fps = gw->opts.fps;
  cfg.gather_timeout_ms = 3000;
  cfg.takeover_timeout_s = gw->opts.publisher_timeout_s;
  cfg.max_viewers = gw->opts.max_viewers;
  cfg.viewer_connect_timeout_s = gw->opts.viewer_connect_timeout_s;
  cfg.context = gw->context;
  stream->media = drtc_gateway_media_new (&cfg, on_media_event, stream, error);
  if (!stream->media)
    return FALSE;
  drtc_gateway_apply_params (stream);
  return TRUE;
}

/* A publisher session took over the stream's media. */
void
drtc_gateway_publisher_started (DrtcGatewayStream * stream)
{
  stream->publish_started_us = g_get_monotonic_time ();
  stream->dropped_by_fault = FALSE;
  stream->unpublished_us = 0;
  stream->publisher_sessions++;
  g_clear_pointer (&stream->last_error, g_free);
}

void
drtc_gateway_end_publisher (DrtcGatewayStream * stream, const gchar * reason)
{
  if (!stream->media || !drtc_gateway_media_has_publisher (stream->media))
    return;
  g_message ("stream %s: publisher gone (%s)", stream->id, reason);
  drtc_gateway_media_unpublish (stream->media);
  g_clear_pointer (&stream->session_id, g_free);
  g_clear_pointer (&stream->previous_session_id, g_free);
  g_free (stream->last_error);
  stream->last_error = g_strdup (reason);
  stream->unpublished_us = g_get_monotonic_time ();
}

/* ---- the tick (4 per second): rates, watchdogs, faults ---- */

static void
tick_stream (DrtcGateway * gw, DrtcGatewayStream * stream)
{
  gint64 idle_us, now = g_get_monotonic_time ();

  if (!stream->media)
    return;
  if (gw->opts.viewer_timeout_s)
    drtc_gateway_media_expire_viewers (stream->media,
        (gint64) gw->opts.viewer_timeout_s * G_USEC_PER_SEC);
  drtc_gateway_media_sample_rates (stream->media, &stream->input_fps,
      &stream->output_fps, &idle_us);
  if (drtc_gateway_media_has_publisher (stream->media)) {
    if (gw->opts.drop_publisher_s > 0 && !stream->dropped_by_fault
        && now - stream->publish_started_us >
        gw->opts.drop_publisher_s * G_USEC_PER_SEC) {
      stream->dropped_by_fault = TRUE;
      drtc_gateway_end_publisher (stream, "dropped by --drop-publisher-after");
    } else if (idle_us > (gint64) gw->opts.publisher_timeout_s * G_USEC_PER_SEC) {
      drtc_gateway_end_publisher (stream, "no media from the publisher");
    }
  } else if (stream->unpublished_us && now - stream->unpublished_us >
      (gint64) gw->opts.publisher_timeout_s * G_USEC_PER_SEC) {
    /* publisher gone for good: release the output pipeline and viewers */
    g_message ("stream %s: media released", stream->id);
    g_clear_pointer (&stream->media, drtc_gateway_media_free);
    stream->unpublished_us = 0;
  }
}

static gboolean
on_tick (gpointer data)
{
  DrtcGateway *gw = data;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, gw->streams);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    tick_stream (gw, value);
  return G_SOURCE_CONTINUE;
}

/* ---- routing ---- */

static const gchar *const json_types[] = { "application/json", NULL };

/* the WHIP/WHEP routes check which of them each method takes */
static const gchar *const media_types[] = {
  "application/sdp", "application/trickle-ice-sdpfrag", NULL
};

static void
reply_refusal (SoupServerMessage * msg, guint status, const gchar * detail)
{
  drtc_gateway_reply_error (msg, status, "%s", detail);
}

/* The early handler, once the head is in and before the body is read:
 * Host, Origin and Content-Type (drtc-http-guard.c), the API key (API,
 * WHIP and WHEP alike), and the body's size, counted as it comes when it is chunked. */
static void
on_request_headers (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer data)
{
  DrtcGateway *gw = data;
  const gchar *why;
  guint status = 0;

  why = drtc_http_guard_check (gw->guard, msg, g_str_has_prefix (path,
          LIVE_PREFIX) ? media_types : json_types, &status);
  if (why) {
    drtc_http_guard_refuse (msg, status, why, reply_refusal);
    return;
  }
  drtc_http_guard_cors (gw->guard, msg,
      "Location, ETag, Link, Livepeer-Playback-URL, Accept-Patch");
  /* the key, when set, guards the media routes too: a stream key in a
   * URL is no proof (it shows in logs, status JSON and players) */
  if ((g_str_has_prefix (path, "/v1/streams")
          || g_str_has_prefix (path, LIVE_PREFIX))
      && !g_str_equal (soup_server_message_get_method (msg),
          SOUP_METHOD_OPTIONS) && !drtc_gateway_api_authorized (gw, msg)) {
    drtc_http_guard_discard_body (msg);
    return;
  }
  drtc_http_guard_limit_body (msg, DRTC_GATEWAY_MAX_BODY, reply_refusal);
}

static void
on_request (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer data)
{
  DrtcGateway *gw = data;

  /* the early handler added CORS headers for an allowed Origin */
  if (g_str_equal (soup_server_message_get_method (msg), SOUP_METHOD_OPTIONS)) {
    drtc_http_reply_empty (msg, SOUP_STATUS_NO_CONTENT);
    return;
  }
  if (g_str_equal (path, "/healthz")) {
    drtc_http_reply_text (msg, SOUP_STATUS_OK, "application/json",
        "{\"ok\":true}");
  } else if (g_str_has_prefix (path, "/v1/streams")) {
    drtc_gateway_api_route (gw, msg, path);
  } else if (g_str_has_prefix (path, LIVE_PREFIX)) {
    /* LIVE_PREFIX <key>/whip[/<session>] or <key>-out/whep[/<viewer>] */
    const gchar *rest = path + strlen (LIVE_PREFIX);
    const gchar *slash = strchr (rest, '/');
    g_autofree gchar *key = slash ? g_strndup (rest, slash - rest) : NULL;

    if (key && g_str_has_suffix (key, "-out")) {
      key[strlen (key) - 4] = '\0';
      drtc_gateway_whep_route (gw, msg, key, slash + 1);
    } else if (key) {
      drtc_gateway_whip_route (gw, msg, key, slash + 1);
    } else {
      drtc_gateway_reply_error (msg, SOUP_STATUS_NOT_FOUND, "Not Found");
    }
  } else {
    drtc_gateway_reply_error (msg, SOUP_STATUS_NOT_FOUND, "Not Found");
  }
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
  g_autoptr (GInetAddress) address = NULL;
  g_autoptr (GSocketAddress) sockaddr = NULL;
  g_autoptr (GStrvBuilder) origins = NULL;
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

  address = g_inet_address_new_from_string (gw->opts.host);
  if (!address) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "--host must be an IP address, not '%s'", gw->opts.host);
    return NULL;
  }
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
  gw->guard = drtc_http_guard_new (gw->opts.host,
      (const gchar * const *) options->allowed_hosts,
      (const gchar * const *) allowed, TRUE, error);
  if (!gw->guard)
    return NULL;
  gw->server = soup_server_new ("server-header", "daydream-rtc-gateway ", NULL);
  soup_server_add_handler (gw->server, NULL, on_request, gw, NULL);
  soup_server_add_early_handler (gw->server, NULL, on_request_headers, gw,
      NULL);
  soup_server_add_handler (gw->server, "/preview",
      drtc_preview_gateway_handler, gw, NULL);
  /* libsoup runs the early handler registered for the same path as the
   * handler: /preview needs the guard's too */
  soup_server_add_early_handler (gw->server, "/preview", on_request_headers,
      gw, NULL);
  sockaddr = g_inet_socket_address_new (address, options->port);
  /* our accept path: backlog 511, a deadline for request heads */
  gw->listener = drtc_http_listen (gw->server, sockaddr,
      DRTC_HTTP_IDLE_TIMEOUT_S, &gw->port, error);
  if (!gw->listener)
    return NULL;
  drtc_http_guard_set_port (gw->guard, gw->port);

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
  if (!drtc_gateway_media_wait_stopped (10 * G_USEC_PER_SEC))
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

int
drtc_gateway_main (int argc, char **argv)
{
  DrtcGatewayOptions opts = { 0 };
  g_autofree gchar *host = NULL, *key_file = NULL, *mode = NULL;
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) err = NULL;
  g_autoptr (DrtcGateway) gw = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  gint port = 8896, fps = 30, bitrate = 2000, latency = 50, timeout = 10;
  gint max_viewers = 5, fail_creates = 0, api_delay = 0;
  gint viewer_timeout = 10, whep_503 = 0;
  gint max_pending = 10, connect_timeout = 5;
  gdouble whep_404 = 0, drop_after = 0;
  gboolean never_ready = FALSE, counter_offer = FALSE, bad_answer = FALSE;
  gchar **ice = NULL, **local = NULL, *encoder = NULL;
  g_auto (GStrv) origins = NULL, hosts = NULL;
  GOptionEntry entries[] = {
    {"host", 0, 0, G_OPTION_ARG_STRING, &host,
        "Address to listen on (default 127.0.0.1)", "ADDR"},
    {"port", 'p', 0, G_OPTION_ARG_INT, &port,
        "Port for API and media (default 8896; 0 = any free port)", "PORT"},
    {"api-key-file", 0, 0, G_OPTION_ARG_FILENAME, &key_file,
          "Require this Bearer key on the API, WHIP and WHEP (file mode "
          "0600; or DRTC_GATEWAY_API_KEY)",
        "FILE"},
    {"allowed-origin", 0, 0, G_OPTION_ARG_STRING_ARRAY, &origins,
          "Also answer browser requests from this origin (scheme://host:port; "
          "repeatable; allowed always: the gateway's own, ComfyUI's "
          "http://127.0.0.1:8188 and http://localhost:8188, and serve's "
          "/preview at http://127.0.0.1:8895 and http://localhost:8895)",
        "ORIGIN"},
    {"allowed-host", 0, 0, G_OPTION_ARG_STRING_ARRAY, &hosts,
        "Also answer requests whose Host names this (repeatable; always: "
          "127.0.0.1, localhost, [::1] and the --host address)", "NAME"},
    {"mode", 0, 0, G_OPTION_ARG_STRING, &mode,
        "daydream: like Daydream's gateway (no WHIP PATCH/DELETE); rfc: full "
          "RFC 9725 (default daydream)", "MODE"},
    {"ice-server", 0, 0, G_OPTION_ARG_STRING_ARRAY, &ice,
        "Advertise a STUN/TURN URL in Link headers (repeatable)", "URL"},
    {"ice-local-address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &local,
        "Gather ICE candidates on this address only (repeatable)", "ADDR"},
    {"encoder", 0, 0, G_OPTION_ARG_STRING, &encoder,
        "H.264 encoder element (default: best available)", "NAME"},
    {"bitrate", 0, 0, G_OPTION_ARG_INT, &bitrate,
        "Output bitrate in kbit/s (default 2000)", "KBPS"},
    {"fps", 0, 0, G_OPTION_ARG_INT, &fps, "Nominal frame rate (default 30)",
        "FPS"},
    {"latency", 0, 0, G_OPTION_ARG_INT, &latency,
        "Jitterbuffer latency in ms (default 50)", "MS"},
    {"publisher-timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
          "Seconds without media before a publisher is dropped (default 10)",
        "S"},
    {"max-viewers", 0, 0, G_OPTION_ARG_INT, &max_viewers,
        "WHEP viewers per stream before 429 (default 5)", "N"},
    {"max-pending-viewers", 0, 0, G_OPTION_ARG_INT, &max_pending,
        "WHEP viewers per stream still connecting (they take no viewer "
          "slot) before 503 (default 10)", "N"},
    {"viewer-connect-timeout", 0, 0, G_OPTION_ARG_INT, &connect_timeout,
        "Seconds a WHEP viewer has to connect after its answer before it "
          "is dropped (default 5)", "S"},
    {"viewer-timeout", 0, 0, G_OPTION_ARG_INT, &viewer_timeout,
        "Seconds without RTCP before a WHEP viewer counts as gone "
          "(default 10)", "S"},
    {"whep-counter-offer", 0, 0, G_OPTION_ARG_NONE, &counter_offer,
        "Answer WHEP POSTs with 406 and the gateway's own offer; the "
          "viewer PATCHes its answer", NULL},
    {"fail-creates", 0, 0, G_OPTION_ARG_INT, &fail_creates,
        "Fault: the first N stream creations answer 500", "N"},
    {"never-ready", 0, 0, G_OPTION_ARG_NONE, &never_ready,
        "Fault: status never becomes ONLINE, no WHEP URL", NULL},
    {"whep-404-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &whep_404,
        "Fault: WHEP answers 404 for S seconds after publishing starts", "S"},
    {"drop-publisher-after", 0, 0, G_OPTION_ARG_DOUBLE, &drop_after,
        "Fault: drop each WHIP peer S seconds after it connected", "S"},
    {"api-delay", 0, 0, G_OPTION_ARG_INT, &api_delay,
        "Fault: answer every API request MS milliseconds late", "MS"},
    {"whep-503", 0, 0, G_OPTION_ARG_INT, &whep_503,
        "Fault: the first N WHEP POSTs answer 503 with Retry-After: 1", "N"},
    {"whep-bad-answer", 0, 0, G_OPTION_ARG_NONE, &bad_answer,
        "Fault: WHEP POSTs get a 201 whose SDP answer is unusable", NULL},
    {NULL}
  };

  ctx = g_option_context_new ("- local Daydream-compatible service");
  g_option_context_set_summary (ctx, "Serves Daydream's stream API, WHIP "
      "ingest, a prompt-driven video effect and WHEP egress on one port, so "
      "everything runs offline. See docs/gateway.md.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  drtc_log_add_options (ctx);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("daydream-rtc gateway: %s\n", err->message);
    return 2;
  }
  drtc_log_setup ();
  if (mode && !g_str_equal (mode, "daydream") && !g_str_equal (mode, "rfc")) {
    g_printerr ("daydream-rtc gateway: --mode is daydream or rfc\n");
    return 2;
  }
  if (port < 0 || port > 65535 || fps < 1 || bitrate < 50 || latency < 0
      || timeout < 1 || max_viewers < 1 || fail_creates < 0 || api_delay < 0
      || viewer_timeout < 1 || whep_503 < 0 || max_pending < 1
      || connect_timeout < 1) {
    g_printerr ("daydream-rtc gateway: an option is out of range\n");
    return 2;
  }
  if (!read_api_key (key_file, &opts.api_key, &err)) {
    g_printerr ("daydream-rtc gateway: %s\n", err->message);
    return 2;
  }
  if (!bind_allowed (host, opts.api_key)) {
    g_free (opts.api_key);
    return 2;
  }
  opts.host = host;
  opts.port = port;
  opts.allowed_origins = origins;
  opts.allowed_hosts = hosts;
  opts.rfc = mode && g_str_equal (mode, "rfc");
  opts.ice_servers = ice;
  opts.local_addresses = local;
  opts.encoder = encoder;
  opts.bitrate_kbps = bitrate;
  opts.fps = fps;
  opts.latency_ms = latency;
  opts.publisher_timeout_s = timeout;
  opts.max_viewers = max_viewers;
  opts.max_pending_viewers = max_pending;
  opts.viewer_connect_timeout_s = connect_timeout;
  opts.fail_creates = fail_creates;
  opts.never_ready = never_ready;
  opts.whep_404_s = whep_404;
  opts.drop_publisher_s = drop_after;
  opts.api_delay_ms = api_delay;
  opts.viewer_timeout_s = viewer_timeout;
  opts.whep_counter_offer = counter_offer;
  opts.whep_503 = whep_503;
  opts.whep_bad_answer = bad_answer;

  gw = drtc_gateway_new (&opts, &err);
  g_free (opts.api_key);
  g_strfreev (ice);
  g_strfreev (local);
  g_free (encoder);
  if (!gw) {
    g_printerr ("daydream-rtc gateway: %s\n", err->message);
    return 1;
  }
  /* SIGTERM may come as soon as the line below is read: the handlers
   * are in place first */
  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  /* tests and scripts read this line to learn the port */
  printf ("daydream-rtc gateway listening on http://%s:%u (%s mode)\n",
      gw->opts.host, gw->port, gw->opts.rfc ? "rfc" : "daydream");
  fflush (stdout);
  g_main_loop_run (loop);
  g_message ("gateway stopping");
  return 0;
}
