/* daydream-rtc gateway: the media of one stream (WHIP in, effect, WHEP out)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>

#include "drtc-webrtc.h"
#include "drtc-effect.h"

G_BEGIN_DECLS

typedef struct _DrtcGatewayMedia DrtcGatewayMedia;

#define DRTC_GATEWAY_MEDIA_ERROR (drtc_gateway_media_error_quark ())
GQuark drtc_gateway_media_error_quark (void);

typedef enum
{
  DRTC_GATEWAY_MEDIA_ERROR_OFFER,       /* webrtcbin refused the SDP: 4xx */
  DRTC_GATEWAY_MEDIA_ERROR_SUPERSEDED,  /* a newer offer, or closed */
  DRTC_GATEWAY_MEDIA_ERROR_FAILED,      /* our side failed */
} DrtcGatewayMediaError;

typedef struct
{
  DrtcWebrtcConfig webrtc;
  const gchar *encoder;         /* factory name, or NULL to choose */
  guint bitrate_kbps;
  guint fps;
  guint gather_timeout_ms;
  guint takeover_timeout_s;     /* a new publisher not connected by then
                                 * is dropped; the current one stays */
  guint max_viewers;            /* connected viewers; one more that
                                 * connects is dropped */
  guint viewer_connect_timeout_s;       /* a viewer not connected by then
                                         * (after its answer) is dropped */
  GMainContext *context;        /* where every callback runs */
} DrtcGatewayMediaConfig;

typedef enum
{
  DRTC_MEDIA_PUBLISHER_LOST,    /* detail: reason */
  DRTC_MEDIA_PUBLISHER_REPLACED,        /* a new one connected: took over */
  DRTC_MEDIA_OFFER_ABANDONED,   /* a new one did not connect; detail: why */
  DRTC_MEDIA_VIEWER_GONE,       /* detail: viewer id */
} DrtcMediaEvent;

typedef void (*DrtcMediaEventFunc) (DrtcGatewayMedia * media,
    DrtcMediaEvent event, const gchar * detail, gpointer user_data);

/* @answer is the local SDP (with candidates) or NULL with @error set. */
typedef void (*DrtcAnswerFunc) (const gchar * answer, const GError * error,
    gpointer user_data);

DrtcGatewayMedia *drtc_gateway_media_new (const DrtcGatewayMediaConfig * cfg,
    DrtcMediaEventFunc events, gpointer user_data, GError ** error);
void drtc_gateway_media_free (DrtcGatewayMedia * media);

void drtc_gateway_media_apply_effect (DrtcGatewayMedia * media,
    const DrtcEffectSettings * settings);

void drtc_gateway_media_publish (DrtcGatewayMedia * media,
    GstSDPMessage * offer, DrtcAnswerFunc func, gpointer user_data);
gboolean drtc_gateway_media_add_candidate (DrtcGatewayMedia * media,
    guint mline, const gchar * candidate);
void drtc_gateway_media_unpublish (DrtcGatewayMedia * media);
gboolean drtc_gateway_media_has_publisher (DrtcGatewayMedia * media);
gboolean drtc_gateway_media_has_incoming (DrtcGatewayMedia * media);
gboolean drtc_gateway_media_abandon_incoming (DrtcGatewayMedia * media,
    const gchar * reason);

gboolean drtc_gateway_media_has_output (DrtcGatewayMedia * media);
void drtc_gateway_media_add_viewer (DrtcGatewayMedia * media,
    const gchar * viewer_id, GstSDPMessage * offer, gint payload,
    DrtcAnswerFunc func, gpointer user_data);
void drtc_gateway_media_offer_viewer (DrtcGatewayMedia * media,
    const gchar * viewer_id, DrtcAnswerFunc func, gpointer user_data);
void drtc_gateway_media_viewer_answer (DrtcGatewayMedia * media,
    const gchar * viewer_id, GstSDPMessage * answer, DrtcAnswerFunc func,
    gpointer user_data);
void drtc_gateway_media_remove_viewer (DrtcGatewayMedia * media,
    const gchar * viewer_id);
guint drtc_gateway_media_expire_viewers (DrtcGatewayMedia * media,
    gint64 timeout_us);
void drtc_gateway_media_viewer_answered (DrtcGatewayMedia * media,
    const gchar * viewer_id);
guint drtc_gateway_media_n_viewers (DrtcGatewayMedia * media);
guint drtc_gateway_media_n_pending_viewers (DrtcGatewayMedia * media);

void drtc_gateway_media_sample_rates (DrtcGatewayMedia * media,
    gdouble * input_fps, gdouble * output_fps, gint64 * input_idle_us);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DrtcGatewayMedia, drtc_gateway_media_free)

G_END_DECLS
