/* daydream-rtc gateway: its streams, their URLs and their media
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The layer under the routes (drtc-gateway-api.c, drtc-gateway-whip-whep.c):
 * what a stream is, where its WHIP and WHEP resources live, who publishes
 * on it, and its media (drtc-gateway-media.c), whose events come back here
 * through a callback. Nothing here knows HTTP.
 */
#include "drtc-gateway-private.h"
#include "drtc-random.h"

#define LIVE_PREFIX DRTC_GATEWAY_LIVE_PREFIX

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

/* ---- the tick: rates, watchdogs, faults ---- */

/* Called by the gateway's tick (4 per second). */
void
drtc_gateway_stream_tick (DrtcGatewayStream * stream)
{
  DrtcGateway *gw = stream->gateway;
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
