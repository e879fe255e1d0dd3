/* daydream-rtc serve: what each route's JSON body must hold
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One function per body route, from the parsed request (drtc-request.c)
 * to the typed values the route acts on, or FALSE with the problems
 * recorded in the request (a 422 list, as FastAPI answers): no message, no
 * state, so that tests/fuzz/fuzz-json-body.c runs each as a route would.
 */
#include "drtc-serve-bodies.h"
#include "drtc-http-util.h"

#define MAX_DAYDREAM_NAME 256   /* the Daydream stream's name */
#define MAX_URL 4096

/* one base64 image: a long string, nothing deep */
const DrtcJsonLimits drtc_serve_frames_limits = { DRTC_SERVE_MAX_BODY, 0,
  DRTC_SERVE_MAX_BODY
};

static const gchar *const queue_modes[] = {
  "backpressure", "leaky", "latest", NULL
};

/**
 * drtc_serve_queue_mode_lookup:
 *
 * Returns: (nullable): the static copy of @mode, NULL when it is none of
 * framebridgesrc's queue modes
 */
const gchar *
drtc_serve_queue_mode_lookup (const gchar * mode)
{
  for (guint i = 0; mode && queue_modes[i]; i++)
    if (g_str_equal (mode, queue_modes[i]))
      return queue_modes[i];
  return NULL;
}

/**
 * drtc_serve_body_start:
 * @start: (out caller-allocates): set from the body; its strings point
 *   into @req
 *
 * POST /start: every field optional.
 */
gboolean
drtc_serve_body_start (DrtcRequest * req, DrtcStartRequest * start)
{
  const gchar *name = NULL;
  JsonNode *config = NULL;

  *start = (DrtcStartRequest) {
  NULL, NULL, -1, -1, -1, NULL};
  if (drtc_request_string (req, "stream_name", FALSE, &name)
      && g_utf8_strlen (name, MAX_DAYDREAM_NAME + 1) > MAX_DAYDREAM_NAME)
    drtc_request_problem (req, "string_too_long", "stream_name",
        "String should have at most " G_STRINGIFY (MAX_DAYDREAM_NAME)
        " characters");
  drtc_request_object_field (req, "pipeline_config", FALSE, TRUE, &config);
  drtc_request_size (req, "frame_rate", 1, 240, FALSE, &start->frame_rate);
  drtc_request_size (req, "frame_width", 64, 4096, TRUE, &start->frame_width);
  drtc_request_size (req, "frame_height", 64, 4096, TRUE, &start->frame_height);
  drtc_request_enum (req, "queue_mode", queue_modes, &start->queue_mode);
  start->stream_name = (gchar *) name;
  start->pipeline_config = config;
  return drtc_request_ok (req);
}

/**
 * drtc_serve_body_config:
 * @config: (out caller-allocates): the settings, clamped as the reference
 *   tool does (sizes also made even for 4:2:0)
 * @queue_mode: (out): the static queue mode, untouched when none is given
 *
 * POST /config: frame_rate, frame_width and frame_height required.
 */
gboolean
drtc_serve_body_config (DrtcRequest * req, DrtcRuntimeConfig * config,
    const gchar ** queue_mode)
{
  gint64 rate = 0, width = 0, height = 0;

  drtc_request_int (req, "frame_rate", TRUE, FALSE, &rate);
  drtc_request_int (req, "frame_width", TRUE, FALSE, &width);
  drtc_request_int (req, "frame_height", TRUE, FALSE, &height);
  drtc_request_enum (req, "queue_mode", queue_modes, queue_mode);
  config->frame_rate = (gint) CLAMP (rate, 1, 240);
  config->frame_width = (gint) CLAMP (width, 64, 4096) & ~1;
  config->frame_height = (gint) CLAMP (height, 64, 4096) & ~1;
  return drtc_request_ok (req);
}

/**
 * drtc_serve_body_pipeline:
 * @config: (out) (transfer none): the pipeline_config object, in @req
 *
 * POST /pipeline/cache and PATCH /pipeline: pipeline_config required.
 */
gboolean
drtc_serve_body_pipeline (DrtcRequest * req, JsonNode ** config)
{
  drtc_request_object_field (req, "pipeline_config", TRUE, FALSE, config);
  return drtc_request_ok (req);
}

/**
 * drtc_serve_body_frames:
 * @b64: (out) (transfer none): the frame_b64 string, in @req
 *
 * POST /frames, JSON form (read with drtc_serve_frames_limits).
 */
gboolean
drtc_serve_body_frames (DrtcRequest * req, const gchar ** b64)
{
  drtc_request_string (req, "frame_b64", TRUE, b64);
  return drtc_request_ok (req);
}

/**
 * drtc_serve_body_whep_connect:
 * @status: (out): 400 or 422, when the URL is refused
 * @detail: (out): why, then
 *
 * POST /whep/connect: whep_url, an http(s) URL (spaces around it trimmed).
 *
 * Returns: (transfer full) (nullable): the URL; NULL with the problems in
 *   @req, or (@req without problems) @status and @detail set
 */
gchar *
drtc_serve_body_whep_connect (DrtcRequest * req, guint * status,
    gchar ** detail)
{
  const gchar *url = NULL;
  g_autofree gchar *trimmed = NULL, *problem = NULL;

  if (!drtc_request_string (req, "whep_url", TRUE, &url)
      || !drtc_request_ok (req))
    return NULL;
  trimmed = g_strstrip (g_strdup (url));
  if (!*trimmed) {
    *status = SOUP_STATUS_BAD_REQUEST;
    *detail = g_strdup ("whep_url is required");
    return NULL;
  }
  if ((problem = drtc_http_url_problem (trimmed, MAX_URL))) {
    *status = SOUP_STATUS_UNPROCESSABLE_ENTITY;
    *detail = g_strdup_printf ("whep_url %s", problem);
    return NULL;
  }
  return g_steal_pointer (&trimmed);
}
