/* daydream-rtc gateway: what the media's modules share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * drtc-gateway-media-util.c: references, teardown threads, bus watches and
 * SDP negotiation; drtc-gateway-viewers.c: the WHEP viewers' branches;
 * drtc-gateway-media.c: the output, the publisher sessions and the rest.
 */
#pragma once

#include "drtc-gateway-media.h"
#include "drtc-teardown.h"

G_BEGIN_DECLS

/* When a viewer last sent RTCP: refcounted, shared with rtpbin's signal
 * handlers (they may run while the viewer is being removed). */
typedef struct
{
  gint64 last_us;               /* atomic */
  gint bye;                     /* atomic */
} ViewerLife;

/* A viewer is pending (it holds no viewer slot) until its webrtcbin says
 * CONNECTED; one still pending at @deadline_us is dropped. */
typedef struct
{
  gchar *id;
  GstElement *queue, *pay, *filter, *webrtc;
  GstPad *tee_pad;
  ViewerLife *life;
  gboolean connected;
  gint64 deadline_us;
} Viewer;

/* One WHIP session's pipeline: the current publisher's, or that of a new
 * offer while it negotiates (the current one is untouched until then). */
typedef struct
{
  DrtcGatewayMedia *media;      /* a reference */
  guint gen;                    /* media->publish_serial when offered */
  GstElement *pipeline, *webrtc;
  GSource *watch;
} Ingest;

/* Rates are taken over about a second, however often they are sampled. */
#define RATE_WINDOW_US G_USEC_PER_SEC
#define RATE_SAMPLES 8

typedef struct
{
  gint64 us, in, out;
} RateSample;

struct _DrtcGatewayMedia
{
  DrtcGatewayMediaConfig cfg;
  DrtcMediaEventFunc events;
  gpointer user_data;
  gboolean closed;

  GstElement *egress;
  GstElement *appsrc, *tee;     /* references: streaming threads use them */
  GstElement *effect;
  GSource *egress_watch;
  GHashTable *viewers;          /* id -> Viewer */

  Ingest *ingest;               /* the current publisher's, or NULL */
  Ingest *incoming;             /* answered, replaces @ingest once its
                                 * ICE/DTLS connects; or NULL */
  GSource *incoming_expiry;
  guint publish_serial;         /* bumped per offer and unpublish */

  gint64 in_frames, out_frames; /* atomic */
  gint64 last_in_us;            /* atomic */
  gint has_output;              /* atomic */
  RateSample samples[RATE_SAMPLES];     /* ring, sample_rates() only */
  guint n_samples, next_sample;
};


typedef struct
{
  DrtcGatewayMedia *media;
  GstElement *webrtc;
  GstSDPMessage *offer;
  DrtcAnswerFunc func;
  gpointer user_data;
  guint publisher_gen;          /* publisher: still the newest offer? */
  /* publisher: its pipeline, freed with @session_free unless it wins:
   * then @session_won takes it, once the answer is ready */
  gpointer session;
  GDestroyNotify session_free;
  void (*session_won) (DrtcGatewayMedia * media, gpointer session);
  gchar *viewer_id;             /* viewer: still there? */
} Negotiation;

/* A call handed to the media's context from another thread: which session
 * (@gen) or viewer (@text), or why (@text). */
typedef struct
{
  DrtcGatewayMedia *media;      /* a reference */
  guint gen;
  gchar *text;
} MediaCall;

/* drtc-gateway-media-util.c */
MediaCall *drtc_media_call_new (DrtcGatewayMedia * media, guint gen,
    const gchar * text);
void drtc_media_call_free (gpointer call);
gpointer drtc_media_set_null_and_unref (gpointer element);
DrtcGatewayMedia *drtc_media_ref (DrtcGatewayMedia * media);
void drtc_media_unref (gpointer media);
void drtc_media_closure_unref (gpointer media, GClosure * closure);
GstElement *drtc_media_add (GstBin * bin, const gchar * factory,
    const gchar * name, GError ** error);
GSource *drtc_media_watch_bus (GstElement * pipeline, GMainContext * context,
    GstBusFunc func, gpointer data, GDestroyNotify destroy);
void drtc_media_unwatch (GSource ** source);
Negotiation *drtc_negotiation_new (DrtcGatewayMedia * media,
    GstElement * webrtc, DrtcAnswerFunc func, gpointer user_data);
void drtc_negotiation_free (Negotiation * n);
gboolean drtc_negotiation_wanted (Negotiation * n);
void drtc_negotiation_fail (Negotiation * n, DrtcGatewayMediaError code,
    const gchar * what, const GError * cause);
void drtc_negotiation_on_gathered (GstElement * webrtc, gboolean complete,
    gpointer data);
void drtc_negotiate (Negotiation * n);

/* drtc-gateway-viewers.c */
void drtc_media_forget_viewers (DrtcGatewayMedia * media);

G_END_DECLS
