/* daydream-rtc: the /preview page of serve and of the gateway
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The page, its style and scripts are built into the binary (GResource
 * app/preview/drtc-preview.gresource.xml); the WHEP player is the one file
 * the ComfyUI extension uses too (python-nodes/web/whep-player.js).
 *
 *   GET /preview[/]             the page
 *   GET /preview/{asset}        preview.js, preview.css, whep-player.js
 *   GET /preview/host.json      {"host": "serve"|"gateway"}: what the page talks to
 *   GET /preview/input.jpg      serve only: the latest frame pushed to a
 *                               stream (?stream=NAME, default "default"),
 *                               as JPEG; black before the first
 *
 * The assets are public (they are the code of the page); the input frame
 * is the stream's content and takes serve's access token when it has one.
 * Errors come in the host's own shape: serve's {"detail"}, the gateway's
 * Daydream-style {"success": false, "error"}.
 */
#include "drtc-preview.h"

#include <gst/gst.h>
#include <string.h>

#include "drtc-frames.h"
#include "drtc-gateway-private.h"
#include "drtc-http-util.h"
#include "drtc-serve-private.h"

#define RESOURCE_PREFIX "/live/daydream/rtc/preview/"

/* how the host answers an error */
typedef void (*ReplyError) (SoupServerMessage * msg, guint status,
    const gchar * message);

GResource *drtc_preview_get_resource (void);
void drtc_preview_register_resource (void);

static const gchar *const assets[][2] = {
  {"preview.html", "text/html; charset=utf-8"},
  {"preview.css", "text/css; charset=utf-8"},
  {"preview.js", "text/javascript; charset=utf-8"},
  {"whep-player.js", "text/javascript; charset=utf-8"},
};

static void
reply_asset (SoupServerMessage * msg, const gchar * name, ReplyError error)
{
  static gsize registered = 0;
  g_autoptr (GBytes) data = NULL;
  g_autofree gchar *path = g_strconcat (RESOURCE_PREFIX, name, NULL);
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);

  if (g_once_init_enter (&registered)) {
    drtc_preview_register_resource ();
    g_once_init_leave (&registered, 1);
  }
  for (guint i = 0; i < G_N_ELEMENTS (assets); i++) {
    if (!g_str_equal (assets[i][0], name))
      continue;
    data = g_resource_lookup_data (drtc_preview_get_resource (), path, 0, NULL);
    if (!data)
      break;
    soup_message_headers_replace (h, "Cache-Control", "no-cache");
    soup_message_headers_replace (h, "X-Content-Type-Options", "nosniff");
    soup_message_headers_replace (h, "Content-Security-Policy",
        "default-src 'self'; img-src 'self' blob: data:; "
        "connect-src *; media-src 'self' blob:");
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
    soup_server_message_set_response (msg, assets[i][1], SOUP_MEMORY_COPY,
        g_bytes_get_data (data, NULL), g_bytes_get_size (data));
    return;
  }
  error (msg, SOUP_STATUS_NOT_FOUND, "Not Found");
}

/* TRUE when it answered (an asset, the host kind, or an error) */
static gboolean
reply_common (SoupServerMessage * msg, const char *path, const gchar * host,
    ReplyError error)
{
  const gchar *method = soup_server_message_get_method (msg);
  const gchar *rest = path + strlen ("/preview");

  if (!g_str_equal (method, SOUP_METHOD_GET)
      && !g_str_equal (method, SOUP_METHOD_HEAD)) {
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Allow", "GET, HEAD");
    error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Method Not Allowed");
  } else if (!*rest || g_str_equal (rest, "/")) {
    reply_asset (msg, "preview.html", error);
  } else if (g_str_equal (rest, "/host.json")) {
    g_autofree gchar *body = g_strdup_printf ("{\"host\":\"%s\"}", host);

    drtc_http_reply_text (msg, SOUP_STATUS_OK, "application/json", body);
  } else if (rest[0] == '/' && !strchr (rest + 1, '/')
      && !g_str_equal (rest, "/input.jpg")) {
    reply_asset (msg, rest + 1, error);
  } else {
    return FALSE;
  }
  return TRUE;
}

/* ---- the latest input frame of a serve stream ---- */

typedef struct
{
  GMutex lock;
  GstSample *latest;
  gdouble at;
} InputTap;

static void
input_tap_free (gpointer data)
{
  InputTap *tap = data;

  g_clear_pointer (&tap->latest, gst_sample_unref);
  g_mutex_clear (&tap->lock);
  g_free (tap);
}

static GstPadProbeReturn
on_input_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  InputTap *tap = data;
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  GstSample *sample = caps ? gst_sample_new (GST_PAD_PROBE_INFO_BUFFER (info),
      caps, NULL, NULL) : NULL;

  if (!sample)
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&tap->lock);
  g_clear_pointer (&tap->latest, gst_sample_unref);
  tap->latest = sample;
  tap->at = g_get_real_time () / 1e6;   /* like the /whep/frame stamps */
  g_mutex_unlock (&tap->lock);
  return GST_PAD_PROBE_OK;
}

/* The tap on @src's output, put there by the first request: a stream
 * nobody previews pays nothing. */
static InputTap *
input_tap (GstElement * src)
{
  static GQuark quark = 0;
  InputTap *tap;

  if (!quark)
    quark = g_quark_from_static_string ("drtc-preview-input");
  tap = g_object_get_qdata (G_OBJECT (src), quark);
  if (!tap) {
    g_autoptr (GstPad) pad = gst_element_get_static_pad (src, "src");

    tap = g_new0 (InputTap, 1);
    g_mutex_init (&tap->lock);
    g_object_set_qdata_full (G_OBJECT (src), quark, tap, input_tap_free);
    if (pad)
      gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_input_buffer, tap,
          NULL);
  }
  return tap;
}

static void
reply_input (DrtcServe * serve, SoupServerMessage * msg, GHashTable * query)
{
  const gchar *name = query ? g_hash_table_lookup (query, "stream") : NULL;
  DrtcStreamController *ctl = g_hash_table_lookup (serve->streams,
      name ? name : DRTC_DEFAULT_STREAM);
  const DrtcRuntimeConfig *cfg;
  g_autoptr (GstSample) sample = NULL;
  GstElement *src;
  InputTap *tap;
  gdouble at;

  if (!ctl || !(src = drtc_stream_controller_frame_source (ctl))) {
    drtc_http_reply_detail (msg, SOUP_STATUS_NOT_FOUND, "No such stream");
    return;
  }
  tap = input_tap (src);
  g_mutex_lock (&tap->lock);
  sample = tap->latest ? gst_sample_ref (tap->latest) : NULL;
  at = tap->at;
  g_mutex_unlock (&tap->lock);
  cfg = drtc_stream_controller_config (ctl);
  drtc_frames_whep_frame (sample, cfg->frame_width, cfg->frame_height, at,
      "jpeg", NULL, msg);
}

void
drtc_preview_serve_handler (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer data)
{
  DrtcServe *serve = data;

  if (reply_common (msg, path, "serve", drtc_http_reply_detail))
    return;
  if (!g_str_equal (path, "/preview/input.jpg"))
    drtc_http_reply_detail (msg, SOUP_STATUS_NOT_FOUND, "Not Found");
  else                          /* the early handler checked the token */
    reply_input (serve, msg, query);
}

void
drtc_preview_gateway_handler (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer gateway)
{
  if (!reply_common (msg, path, "gateway", drtc_gateway_reply_message))
    drtc_gateway_reply_message (msg, SOUP_STATUS_NOT_FOUND, "Not Found");
}
