/* daydream-rtc: daydreamcontrol's state, shared by its files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * gstdaydreamcontrol.c (element, properties, state changes) calls down into
 * daydreamcontrol-session.c (the Daydream session: its callbacks become
 * properties and bus messages), never the other way.
 */
#pragma once

#include "gstdaydreamcontrol.h"

#include "drtc-daydream-session.h"
#include "drtc-http.h"
#include "daydreamcontrol-config.h"

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN (gst_daydream_control_debug);

#define DEFAULT_READY_TIMEOUT 60
#define DEFAULT_DELETE_ON_STOP TRUE
#define PATCH_DEBOUNCE_MS 100
#define STOP_TIMEOUT_S 10

struct _GstDaydreamControl
{
  GstElement parent;

  GMutex lock;                  /* guards what follows, down to "HTTP" */
  gchar *api_url, *api_key, *stream_name;
  ControlConfig config;         /* what makes the pipeline config */
  gchar *whip_sink_name, *whep_src_name;
  gboolean delete_on_stop;
  guint ready_timeout;
  gchar *stream_id, *playback_id, *whip_url, *whep_url, *status;
  gchar *pipeline;
  JsonObject *params;           /* the stream's params as last sent */
  gboolean dirty;               /* params changed, PATCH pending */

  /* HTTP thread (and state changes) */
  DrtcHttp *http;
  DrtcDaydreamSession *session; /* this start's; on the HTTP thread */
  GSource *patch;               /* the debounced PATCH */
  gboolean stopping;
  GWeakRef whip, whep;
  GMutex stop_lock;             /* guards ended */
  GCond stop_cond;
  gboolean ended;               /* the stop's DELETE is over */
};

enum
{
  PROP_0,
  PROP_API_URL,
  PROP_API_KEY,
  PROP_PIPELINE_CONFIG,
  PROP_PIPELINE_CONFIG_LOCATION,
  PROP_PROMPT,
  PROP_NEGATIVE_PROMPT,
  PROP_SEED,
  PROP_MODEL_ID,
  PROP_DELTA,
  PROP_STREAM_NAME,
  PROP_WHIP_SINK,
  PROP_WHEP_SRC,
  PROP_DELETE_ON_STOP,
  PROP_READY_TIMEOUT,
  PROP_STREAM_ID,
  PROP_PLAYBACK_ID,
  PROP_WHIP_URL,
  PROP_WHEP_URL,
  PROP_STATUS,
  N_PROPS
};

extern GParamSpec *control_props[N_PROPS];

/* daydreamcontrol-session.c */
void control_post_state (GstDaydreamControl * self, const gchar * state,
    const gchar * detail);
void control_set_field (GstDaydreamControl * self, gchar ** field,
    const gchar * value, guint prop);
void control_session_start (GstDaydreamControl * self, const gchar * api_url,
    const gchar * api_key);
void control_session_arm_patch (GstDaydreamControl * self);
void control_session_stop (GstDaydreamControl * self);
void control_session_wait_ended (GstDaydreamControl * self);

G_END_DECLS
