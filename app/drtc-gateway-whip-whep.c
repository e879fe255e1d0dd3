/* daydream-rtc gateway: WHIP ingest and WHEP egress resources
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   POST   /live/video-to-video/{key}/whip            offer -> 201 answer
 *   PATCH  /live/video-to-video/{key}/whip/{session}  trickle (rfc mode)
 *   DELETE /live/video-to-video/{key}/whip/{session}  end (rfc mode)
 *   POST   /live/video-to-video/{key}-out/whep        offer -> 201 answer
 *   PATCH  /live/video-to-video/{key}-out/whep/{id}   answer to a 406
 *                                                     counter-offer
 *   DELETE /live/video-to-video/{key}-out/whep/{id}   end (rfc mode)
 *
 * In daydream mode the manners are those of Daydream's gateway: a Location
 * on WHIP (but no PATCH or DELETE behind it), none on WHEP, 404 from WHEP
 * until the output exists, 429 above the viewer limit, H.264 only.
 *
 * With --whep-counter-offer a WHEP POST is answered 406 with the gateway's
 * own offer and a Location (the WHEP draft's counter-offer); the viewer
 * PATCHes its answer there (application/sdp). --whep-503 and
 * --whep-bad-answer are faults for testing clients.
 */
#include "drtc-gateway-private.h"
#include "drtc-http-util.h"
#include "drtc-sdp.h"

#include <string.h>

#define MAX_SDP (64 * 1024)

typedef struct
{
  DrtcGateway *gw;
  SoupServerMessage *msg;
  gchar *stream_id;
  gchar *resource_id;           /* WHIP session or WHEP viewer */
  gboolean whep;
  gboolean finished;            /* the client went away */
  gulong finished_handler;
} Pending;

static void
on_msg_finished (SoupServerMessage * msg, gpointer data)
{
  ((Pending *) data)->finished = TRUE;
}

static Pending *
pending_new (DrtcGateway * gw, SoupServerMessage * msg,
    DrtcGatewayStream * stream, const gchar * resource_id, gboolean whep)
{
  Pending *p = g_new0 (Pending, 1);

  p->gw = gw;
  p->msg = g_object_ref (msg);
  p->stream_id = g_strdup (stream->id);
  p->resource_id = g_strdup (resource_id);
  p->whep = whep;
  p->finished_handler = g_signal_connect (msg, "finished",
      G_CALLBACK (on_msg_finished), p);
  soup_server_message_pause (msg);
  return p;
}

static void
pending_done (Pending * p)
{
  g_signal_handler_disconnect (p->msg, p->finished_handler);
  if (!p->finished)
    soup_server_message_unpause (p->msg);
  g_object_unref (p->msg);
  g_free (p->stream_id);
  g_free (p->resource_id);
  g_free (p);
}

static void
reply_plain (SoupServerMessage * msg, guint status, const gchar * text)
{
  drtc_http_reply_text (msg, status, "text/plain; charset=utf-8", text);
}

/* The direction of a media section: its own attribute, else the
 * session's, else sendrecv (RFC 4566). */
static const gchar *
media_direction (const GstSDPMessage * sdp, const GstSDPMedia * media)
{
  static const gchar *const directions[] = { "sendonly", "recvonly",
    "inactive", "sendrecv"
  };

  for (guint i = 0; i < G_N_ELEMENTS (directions); i++)
    if (gst_sdp_media_get_attribute_val (media, directions[i]))
      return directions[i];
  for (guint i = 0; i < G_N_ELEMENTS (directions); i++)
    if (gst_sdp_message_get_attribute_val (sdp, directions[i]))
      return directions[i];
  return "sendrecv";
}

/* A WHIP offer must send video: a recv-only one (a WHEP subscriber that
 * was given the WHIP URL) is no publisher and must not replace one. */
static gboolean
offer_sends_video (const GstSDPMessage * sdp, const gchar ** direction)
{
  *direction = "none";
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (sdp, i);

    if (g_strcmp0 (gst_sdp_media_get_media (media), "video") != 0
        || gst_sdp_media_get_port (media) == 0)
      continue;
    *direction = media_direction (sdp, media);
    if (g_str_equal (*direction, "sendonly")
        || g_str_equal (*direction, "sendrecv"))
      return TRUE;
  }
  return FALSE;
}

/* The offer of a POST, H.264 only; NULL after replying 4xx. A WHIP offer
 * (@payload NULL) must also send video. */
static GstSDPMessage *
read_offer (SoupServerMessage * msg, gint * payload)
{
  g_autofree gchar *text = NULL;
  g_autoptr (GError) err = NULL;
  const gchar *direction;
  GstSDPMessage *offer;

  if (!drtc_http_content_type_is (msg, "application/sdp")) {
    reply_plain (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
        "the offer must be sent as Content-Type: application/sdp");
    return NULL;
  }
  text = drtc_http_request_text (msg);
  if (strlen (text) > MAX_SDP) {
    reply_plain (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
        "the offer is too large");
    return NULL;
  }
  offer = drtc_sdp_parse (text, &err);
  if (!offer) {
    reply_plain (msg, SOUP_STATUS_BAD_REQUEST, err->message);
    return NULL;
  }
  if (!payload && !offer_sends_video (offer, &direction)) {
    g_autofree gchar *why = g_strdup_printf ("a WHIP offer must send "
        "video, this one's video is %s: to receive a stream's output, POST "
        "a recv-only offer to its WHEP URL (Livepeer-Playback-URL, or the "
        "status's gateway_status.whep_url)", direction);

    gst_sdp_message_free (offer);
    reply_plain (msg, SOUP_STATUS_BAD_REQUEST, why);
    return NULL;
  }
  if (!drtc_sdp_keep_codec (offer, "H264", payload, &err)) {
    gst_sdp_message_free (offer);
    /* Daydream's gateway takes H.264 and nothing else */
    reply_plain (msg, SOUP_STATUS_NOT_ACCEPTABLE, err->message);
    return NULL;
  }
  return offer;
}

/* Link: <stun:host:port>; rel="ice-server" (RFC 9725 section 4.6), with
 * the credentials of turn:user:pass@host:port as attributes. */
static void
add_link_headers (DrtcGateway * gw, SoupMessageHeaders * h)
{
  for (guint i = 0; gw->opts.ice_servers && gw->opts.ice_servers[i]; i++) {
    const gchar *url = gw->opts.ice_servers[i];
    const gchar *at = strchr (url, '@');
    const gchar *colon = strchr (url, ':');
    g_autofree gchar *link = NULL;

    if (at && colon && colon < at) {
      g_autofree gchar *scheme = g_strndup (url, colon - url);
      g_autofree gchar *userinfo = g_strndup (colon + 1, at - colon - 1);
      gchar *sep = strchr (userinfo, ':');

      if (sep)
        *sep++ = '\0';
      link = g_strdup_printf ("<%s:%s>; rel=\"ice-server\"; username=\"%s\"; "
          "credential=\"%s\"; credential-type=\"password\"", scheme, at + 1,
          userinfo, sep ? sep : "");
    } else {
      link = g_strdup_printf ("<%s>; rel=\"ice-server\"", url);
    }
    soup_message_headers_append (h, "Link", link);
  }
}

/* The offer was answered: its session is the one its Location addresses;
 * it is the publisher now, or once it connects (the current one's session
 * is kept until then). */
static void
start_session (DrtcGatewayStream * stream, const gchar * session_id)
{
  if (!drtc_gateway_media_has_incoming (stream->media)) {
    g_clear_pointer (&stream->previous_session_id, g_free);
    drtc_gateway_publisher_started (stream);
  } else if (!stream->previous_session_id) {
    stream->previous_session_id = g_steal_pointer (&stream->session_id);
  }
  g_free (stream->session_id);
  stream->session_id = g_strdup (session_id);
}

static void
on_whip_answer (const gchar * answer, const GError * error, gpointer data)
{
  Pending *p = data;
  DrtcGateway *gw = p->gw;
  DrtcGatewayStream *stream = g_hash_table_lookup (gw->streams, p->stream_id);
  SoupMessageHeaders *h = soup_server_message_get_response_headers (p->msg);
  g_autofree gchar *whip_path = NULL, *location = NULL, *etag = NULL;
  g_autofree gchar *whep_path = NULL, *whep = NULL;

  if (!stream || (error && g_error_matches (error, DRTC_GATEWAY_MEDIA_ERROR,
              DRTC_GATEWAY_MEDIA_ERROR_SUPERSEDED))) {
    reply_plain (p->msg, SOUP_STATUS_CONFLICT,
        "a newer offer replaced this one, or the stream was deleted");
  } else if (!answer) {
    /* the current publisher, if any, was never touched */
    reply_plain (p->msg, g_error_matches (error, DRTC_GATEWAY_MEDIA_ERROR,
            DRTC_GATEWAY_MEDIA_ERROR_OFFER) ? SOUP_STATUS_BAD_REQUEST :
        SOUP_STATUS_INTERNAL_SERVER_ERROR, error->message);
  } else {
    start_session (stream, p->resource_id);
    whip_path = drtc_gateway_whip_path (stream);
    location = g_strdup_printf ("%s/%s", whip_path, p->resource_id);
    etag = g_strdup_printf ("W/\"%s\"", p->resource_id);
    whep_path = drtc_gateway_whep_path (stream);
    whep = drtc_gateway_url (gw, whep_path);
    soup_message_headers_replace (h, "Location", location);
    soup_message_headers_replace (h, "ETag", etag);
    soup_message_headers_replace (h, "Livepeer-Playback-URL", whep);
    if (gw->opts.rfc)
      soup_message_headers_replace (h, "Accept-Patch",
          "application/trickle-ice-sdpfrag");
    add_link_headers (gw, h);
    drtc_http_reply_text (p->msg, SOUP_STATUS_CREATED, "application/sdp",
        answer);
    g_message ("stream %s: publisher session started", stream->id);
  }
  pending_done (p);
}

static void
whip_post (DrtcGateway * gw, SoupServerMessage * msg,
    DrtcGatewayStream * stream)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *session_id = NULL;
  GstSDPMessage *offer;
  Pending *p;

  if (!(offer = read_offer (msg, NULL)))
    return;
  if (!drtc_gateway_ensure_media (stream, &err)) {
    gst_sdp_message_free (offer);
    reply_plain (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, err->message);
    return;
  }
  /* the stream's session changes only once the offer was answered */
  session_id = drtc_gateway_random_id ("");
  p = pending_new (gw, msg, stream, session_id, FALSE);
  drtc_gateway_media_publish (stream->media, offer, on_whip_answer, p);
}

static gboolean
etag_matches (SoupServerMessage * msg, DrtcGatewayStream * stream)
{
  const gchar *if_match = soup_message_headers_get_one
      (soup_server_message_get_request_headers (msg), "If-Match");
  g_autofree gchar *etag = g_strdup_printf ("W/\"%s\"", stream->session_id);

  return !if_match || g_str_equal (if_match, "*")
      || g_str_equal (if_match, etag)
      || g_str_equal (if_match, etag + 2);      /* the strong form */
}

static void
whip_patch (DrtcGatewayStream * stream, SoupServerMessage * msg)
{
  g_autofree gchar *frag = NULL;
  g_autoptr (GError) err = NULL;
  g_autoptr (GPtrArray) candidates = NULL;

  if (!drtc_http_content_type_is (msg, "application/trickle-ice-sdpfrag")) {
    reply_plain (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
        "PATCH takes application/trickle-ice-sdpfrag");
    return;
  }
  if (!etag_matches (msg, stream)) {
    reply_plain (msg, SOUP_STATUS_PRECONDITION_FAILED,
        "If-Match does not match the session's ETag");
    return;
  }
  frag = drtc_http_request_text (msg);
  candidates = drtc_sdp_frag_candidates (frag, &err);
  if (!candidates) {
    reply_plain (msg, SOUP_STATUS_BAD_REQUEST, err->message);
    return;
  }
  for (guint i = 0; i < candidates->len; i++) {
    DrtcSdpCandidate *c = g_ptr_array_index (candidates, i);

    drtc_gateway_media_add_candidate (stream->media, c->mline, c->candidate);
  }
  drtc_http_reply_empty (msg, SOUP_STATUS_NO_CONTENT);
}

static void
method_not_allowed (SoupServerMessage * msg, const gchar * allow)
{
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Allow", allow);
  reply_plain (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Method Not Allowed");
}

/* ---- the WHIP routes (drtc-gateway-routes.c's table; the stream is looked up) */

void
drtc_gateway_whip_post (gpointer gw, SoupServerMessage * msg,
    DrtcRouteMatch * m)
{
  whip_post (gw, msg, m->stream);
}

/* .../whip/{session}: rfc mode only (Daydream's gateway has neither
 * trickle nor DELETE), and the stream's session only */
static gboolean
whip_session_found (DrtcGateway * gw, SoupServerMessage * msg,
    DrtcRouteMatch * m)
{
  DrtcGatewayStream *stream = m->stream;

  if (!gw->opts.rfc) {
    method_not_allowed (msg, "");
    return FALSE;
  }
  if (g_strcmp0 (stream->session_id, m->param[1]) != 0) {
    reply_plain (msg, SOUP_STATUS_NOT_FOUND, "no such session");
    return FALSE;
  }
  return TRUE;
}

void
drtc_gateway_whip_patch (gpointer gw, SoupServerMessage * msg,
    DrtcRouteMatch * m)
{
  if (whip_session_found (gw, msg, m))
    whip_patch (m->stream, msg);
}

void
drtc_gateway_whip_delete (gpointer gw, SoupServerMessage * msg,
    DrtcRouteMatch * m)
{
  DrtcGatewayStream *stream = m->stream;

  if (!whip_session_found (gw, msg, m))
    return;
  /* a session that has not taken over yet goes alone */
  if (!drtc_gateway_media_abandon_incoming (stream->media,
          "session deleted by the client"))
    drtc_gateway_end_publisher (stream, "session deleted by the client");
  drtc_http_reply_empty (msg, SOUP_STATUS_OK);
}

/* A viewer's SDP (our answer, or our counter-offer) is ready: @status with
 * it, Location and ETag when @located; or the viewer goes. Returns the
 * stream when the SDP went out. */
static DrtcGatewayStream *
reply_viewer_sdp (Pending * p, const gchar * sdp, const GError * error,
    guint status, gboolean located)
{
  DrtcGateway *gw = p->gw;
  DrtcGatewayStream *stream = g_hash_table_lookup (gw->streams, p->stream_id);
  SoupMessageHeaders *h = soup_server_message_get_response_headers (p->msg);

  if (!stream || !stream->media) {
    reply_plain (p->msg, SOUP_STATUS_NOT_FOUND, "the stream went away");
    return NULL;
  }
  if (!sdp || p->finished) {
    if (!sdp)
      reply_plain (p->msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, error->message);
    drtc_gateway_media_remove_viewer (stream->media, p->resource_id);
    return NULL;
  }
  if (located) {
    g_autofree gchar *whep_path = drtc_gateway_whep_path (stream);
    g_autofree gchar *location = g_strdup_printf ("%s/%s", whep_path,
        p->resource_id);
    g_autofree gchar *etag = g_strdup_printf ("W/\"%s\"", p->resource_id);

    soup_message_headers_replace (h, "Location", location);
    soup_message_headers_replace (h, "ETag", etag);
  }
  add_link_headers (gw, h);
  drtc_http_reply_text (p->msg, status, "application/sdp", sdp);
  drtc_gateway_media_viewer_answered (stream->media, p->resource_id);
  return stream;
}

static void
on_whep_answer (const gchar * answer, const GError * error, gpointer data)
{
  Pending *p = data;
  DrtcGatewayStream *stream = reply_viewer_sdp (p, answer, error,
      SOUP_STATUS_CREATED, p->gw->opts.rfc);

  if (stream)
    g_message ("stream %s: viewer %s answered", stream->id, p->resource_id);
  pending_done (p);
}

static void
on_whep_counter_offer (const gchar * offer, const GError * error, gpointer data)
{
  Pending *p = data;
  /* WHEP draft: 406 with the server's offer; the answer comes by PATCH */
  DrtcGatewayStream *stream = reply_viewer_sdp (p, offer, error,
      SOUP_STATUS_NOT_ACCEPTABLE, TRUE);

  if (stream)
    g_message ("stream %s: counter-offer to viewer %s", stream->id,
        p->resource_id);
  pending_done (p);
}

static void
on_whep_patched (const gchar * done, const GError * error, gpointer data)
{
  Pending *p = data;
  DrtcGatewayStream *stream = g_hash_table_lookup (p->gw->streams,
      p->stream_id);

  if (done && stream && stream->media)
    drtc_gateway_media_viewer_answered (stream->media, p->resource_id);
  if (done)
    drtc_http_reply_empty (p->msg, SOUP_STATUS_NO_CONTENT);
  else
    reply_plain (p->msg, SOUP_STATUS_BAD_REQUEST, error->message);
  pending_done (p);
}

/* PATCH .../whep/{viewer} with the viewer's answer to our counter-offer */
static void
whep_patch_answer (DrtcGateway * gw, SoupServerMessage * msg,
    DrtcGatewayStream * stream, const gchar * viewer_id)
{
  g_autofree gchar *text = NULL;
  g_autoptr (GError) err = NULL;
  GstSDPMessage *answer;

  if (!drtc_http_content_type_is (msg, "application/sdp")) {
    reply_plain (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
        "PATCH takes the answer as application/sdp");
    return;
  }
  text = drtc_http_request_text (msg);
  if (strlen (text) > MAX_SDP || !(answer = drtc_sdp_parse (text, &err))) {
    reply_plain (msg, SOUP_STATUS_BAD_REQUEST, err ? err->message :
        "the answer is too large");
    return;
  }
  drtc_gateway_media_viewer_answer (stream->media, viewer_id, answer,
      on_whep_patched, pending_new (gw, msg, stream, viewer_id, TRUE));
}

/* --whep-bad-answer: a 201 whose SDP accepts a codec nobody offered */
static void
reply_bad_answer (SoupServerMessage * msg)
{
  drtc_http_reply_text (msg, SOUP_STATUS_CREATED, "application/sdp",
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 120\r\nc=IN IP4 0.0.0.0\r\n"
      "a=sendonly\r\na=mid:video0\r\na=rtpmap:120 NOPE/90000\r\n");
}

static gboolean
output_ready (DrtcGateway * gw, DrtcGatewayStream * stream)
{
  if (!stream->media || !drtc_gateway_media_has_output (stream->media))
    return FALSE;
  return g_get_monotonic_time () - stream->publish_started_us >=
      gw->opts.whep_404_s * G_USEC_PER_SEC;
}

/* WHEP viewers still connecting over all of @gw's streams: the per-stream
 * bound alone would let many streams multiply it */
static guint
n_pending_viewers (DrtcGateway * gw)
{
  GHashTableIter iter;
  DrtcGatewayStream *stream;
  guint n = 0;

  g_hash_table_iter_init (&iter, gw->streams);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & stream))
    if (stream->media)
      n += drtc_gateway_media_n_pending_viewers (stream->media);
  return n;
}

static void
whep_post (DrtcGateway * gw, SoupServerMessage * msg,
    DrtcGatewayStream * stream)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  g_autofree gchar *viewer_id = NULL;
  g_autofree gchar *suffix = NULL;
  GstSDPMessage *offer;
  gint payload = -1;

  if (gw->whep_503_left > 0) {
    gw->whep_503_left--;
    soup_message_headers_replace (h, "Retry-After", "1");
    reply_plain (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "the gateway is overloaded (--whep-503)");
    return;
  }
  if (!output_ready (gw, stream)) {
    soup_message_headers_replace (h, "Retry-After", "1");
    reply_plain (msg, SOUP_STATUS_NOT_FOUND, "the output is not ready yet");
    return;
  }
  /* only connected viewers hold a slot; those still connecting have a
   * bound of their own, so offers that never connect cannot keep real
   * viewers out, nor pile up */
  if (drtc_gateway_media_n_viewers (stream->media) >= gw->opts.max_viewers) {
    soup_message_headers_replace (h, "Retry-After", "5");
    drtc_gateway_reply_error (msg, DRTC_STATUS_TOO_MANY_REQUESTS,
        "too many viewers (--max-viewers %u)", gw->opts.max_viewers);
    return;
  }
  if (drtc_gateway_media_n_pending_viewers (stream->media) >=
      gw->opts.max_pending_viewers) {
    soup_message_headers_replace (h, "Retry-After", "2");
    drtc_gateway_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "too many viewers still connecting (--max-pending-viewers %u); "
        "try again", gw->opts.max_pending_viewers);
    return;
  }
  if (n_pending_viewers (gw) >= gw->opts.max_pending_total) {
    soup_message_headers_replace (h, "Retry-After", "2");
    drtc_gateway_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "too many viewers still connecting on this gateway "
        "(--max-pending-viewers-total %u); try again",
        gw->opts.max_pending_total);
    return;
  }
  if (!(offer = read_offer (msg, &payload)))
    return;
  suffix = drtc_gateway_random_id ("");
  viewer_id = g_strdup_printf ("%u-%s", ++stream->viewer_serial, suffix);
  if (gw->opts.whep_bad_answer) {
    gst_sdp_message_free (offer);
    reply_bad_answer (msg);
  } else if (gw->opts.whep_counter_offer) {
    /* the viewer's offer is set aside: it answers ours */
    gst_sdp_message_free (offer);
    drtc_gateway_media_offer_viewer (stream->media, viewer_id,
        on_whep_counter_offer, pending_new (gw, msg, stream, viewer_id, TRUE));
  } else {
    drtc_gateway_media_add_viewer (stream->media, viewer_id, offer, payload,
        on_whep_answer, pending_new (gw, msg, stream, viewer_id, TRUE));
  }
}

/* ---- the WHEP routes (drtc-gateway-routes.c's table; the stream is looked up) */

void
drtc_gateway_whep_post (gpointer gw, SoupServerMessage * msg,
    DrtcRouteMatch * m)
{
  whep_post (gw, msg, m->stream);
}

/* .../whep/{viewer}: daydream mode gives viewers no Location, nothing
 * lives there */
static gboolean
viewer_resources (DrtcGateway * gw, SoupServerMessage * msg)
{
  if (gw->opts.rfc || gw->opts.whep_counter_offer)
    return TRUE;
  reply_plain (msg, SOUP_STATUS_NOT_FOUND, "Not Found");
  return FALSE;
}

void
drtc_gateway_whep_patch (gpointer data, SoupServerMessage * msg,
    DrtcRouteMatch * m)
{
  DrtcGateway *gw = data;
  DrtcGatewayStream *stream = m->stream;

  if (!viewer_resources (gw, msg))
    return;
  if (gw->opts.whep_counter_offer && stream->media)
    whep_patch_answer (gw, msg, stream, m->param[1]);
  else
    method_not_allowed (msg, gw->opts.whep_counter_offer ? "PATCH, DELETE" :
        "DELETE");
}

void
drtc_gateway_whep_delete (gpointer gw, SoupServerMessage * msg,
    DrtcRouteMatch * m)
{
  DrtcGatewayStream *stream = m->stream;

  if (!viewer_resources (gw, msg))
    return;
  if (stream->media)
    drtc_gateway_media_remove_viewer (stream->media, m->param[1]);
  drtc_http_reply_empty (msg, SOUP_STATUS_OK);
}
