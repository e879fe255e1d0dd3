/* daydream-rtc: whepsrc's WHEP connection: its state and shared helpers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One WhepConn per run (READY->PAUSED until PAUSED->READY). Everything in
 * it runs on the DrtcHttp thread: webrtcbin's promises and signals are
 * handed there (drtc_promise_new, g_main_context_invoke), timers are
 * sources attached to that context, and the element is reached through a
 * GWeakRef. A session is one webrtcbin; its generation number (conn->gen,
 * also stored on the webrtcbin and its chains) tells callbacks and bus
 * errors of an old session from those of the current one.
 *
 * 404/409/503 (and other 5xx, timeouts, refused connections) post the same
 * offer again after a backoff that honours Retry-After; 429 waits longer.
 *
 * This file is the bottom of the connection: its lifetime, jobs, promises,
 * timers, the backoff and the helpers that look at answers. It calls no
 * file above it: a retry calls back up through conn->attempt_fn.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whepsrc-conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GST_CAT_DEFAULT gst_daydream_whep_src_debug

/* ---- lifetime ---- */

WhepConn *
whep_conn_ref (WhepConn * conn)
{
  return g_atomic_rc_box_acquire (conn);
}

static void
conn_clear (gpointer data)
{
  WhepConn *conn = data;

  g_weak_ref_clear (&conn->self);
  g_main_context_unref (conn->context);
  whep_settings_free (conn->cfg);
  g_free (conn->host);
  gst_clear_caps (&conn->video_rtp);
  gst_clear_caps (&conn->audio_rtp);
  g_clear_pointer (&conn->link_servers, g_ptr_array_unref);
  g_ptr_array_unref (conn->promises);
  g_free (conn->offer_sdp);
  g_free (conn->location);
  g_free (conn->etag);
  g_free (conn->last_reason);
}

void
whep_conn_unref (WhepConn * conn)
{
  g_atomic_rc_box_release_full (conn, conn_clear);
}

WhepJob *
whep_job_new (WhepConn * conn)
{
  WhepJob *job = g_new0 (WhepJob, 1);

  job->conn = whep_conn_ref (conn);
  job->gen = (guint) g_atomic_int_get (&conn->gen);
  return job;
}

void
whep_job_free (gpointer data)
{
  WhepJob *job = data;

  whep_conn_unref (job->conn);
  g_free (job);
}

void
whep_job_closure_free (gpointer data, GClosure * closure)
{
  whep_job_free (data);
}

/* Still the current session of a running connection? */
gboolean
whep_job_live (WhepJob * job)
{
  return !job->conn->stopped && !job->conn->failed
      && job->gen == (guint) g_atomic_int_get (&job->conn->gen);
}

typedef struct
{
  WhepJob job;                  /* first: the callbacks take it as a WhepJob */
  DrtcPromiseFunc func;
} PromiseJob;

static void
promise_job_free (gpointer data)
{
  PromiseJob *pj = data;

  whep_conn_unref (pj->job.conn);
  g_free (pj);
}

static void
on_promise (GstPromise * promise, gpointer data)
{
  PromiseJob *pj = data;

  g_ptr_array_remove_fast (pj->job.conn->promises, promise);
  pj->func (promise, &pj->job);
}

/* A promise whose answer @func gets on the DrtcHttp thread with a WhepJob of
 * the current session. webrtcbin 1.22 frees a promise it never answered
 * when it goes to NULL with the operation queued (a GStreamer warning):
 * whep_session_end() interrupts those first. */
GstPromise *
whep_conn_promise (WhepConn * conn, DrtcPromiseFunc func)
{
  PromiseJob *pj = g_new0 (PromiseJob, 1);
  GstPromise *promise;

  pj->job.conn = whep_conn_ref (conn);
  pj->job.gen = (guint) g_atomic_int_get (&conn->gen);
  pj->func = func;
  promise = drtc_promise_new (conn->context, on_promise, pj, promise_job_free);
  g_ptr_array_add (conn->promises, gst_promise_ref (promise));
  return promise;
}

void
whep_conn_interrupt_promises (WhepConn * conn)
{
  g_autoptr (GPtrArray) pending = g_steal_pointer (&conn->promises);

  conn->promises = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_promise_unref);
  for (guint i = 0; i < pending->len; i++)
    gst_promise_interrupt (g_ptr_array_index (pending, i));
}

GstDaydreamWhepSrc *
whep_conn_self (WhepConn * conn)
{
  return g_weak_ref_get (&conn->self);
}

void
whep_destroy_source (GSource ** source)
{
  if (*source) {
    g_source_destroy (*source);
    g_source_unref (*source);
    *source = NULL;
  }
}

GSource *
whep_conn_timeout (WhepConn * conn, guint ms, GSourceFunc func, gpointer data,
    GDestroyNotify notify)
{
  GSource *source = g_timeout_source_new (ms);

  g_source_set_callback (source, func, data, notify);
  g_source_attach (source, conn->context);
  return source;
}

/* ---- state and errors ---- */

void
whep_conn_post_state (WhepConn * conn, WhepState state, guint status,
    guint retry_ms, const gchar * reason)
{
  g_autoptr (GstDaydreamWhepSrc) self = whep_conn_self (conn);

  if (self)
    whep_src_post_state (self, state, conn->attempt, status, retry_ms, reason);
}

/* ---- backoff ---- */

/* Retry-After: delta-seconds or an HTTP-date; -1 when absent or bad. */
gint64
whep_retry_after_ms (SoupMessageHeaders * headers)
{
  const gchar *value = headers ? soup_message_headers_get_one (headers,
      "Retry-After") : NULL;
  g_autofree gchar *v = NULL;
  g_autoptr (GDateTime) when = NULL;
  g_autoptr (GDateTime) now = NULL;
  gchar *end = NULL;
  guint64 secs;

  if (!value)
    return -1;
  v = g_strstrip (g_strdup (value));
  secs = g_ascii_strtoull (v, &end, 10);
  if (end != v && *end == '\0')
    return (gint64) MIN (secs, MAX_RETRY_AFTER_S) * 1000;
  when = soup_date_time_new_from_http_string (v);
  if (!when)
    return -1;
  now = g_date_time_new_now_utc ();
  return CLAMP (g_date_time_difference (when, now) / 1000, 0,
      MAX_RETRY_AFTER_S * 1000);
}

static guint
backoff_ms (WhepConn * conn, gboolean busy)
{
  guint n = busy ? ++conn->busy : ++conn->failures;
  guint base = busy ? conn->cfg->busy_retry_interval_ms :
      conn->cfg->retry_interval_ms;
  guint cap = busy ? MAX (conn->cfg->max_retry_interval_ms,
      base * BUSY_CAP_FACTOR) : conn->cfg->max_retry_interval_ms;
  guint64 delay = (guint64) base << MIN (n - 1, 20);

  delay = MIN (delay, MAX (cap, base));
  /* a little jitter, so that viewers turned away together come apart */
  return (guint) delay + g_random_int_range (0, (gint32) (delay / 10) + 1);
}

static gboolean
on_retry (gpointer data)
{
  WhepJob *job = data;

  if (whep_job_live (job)) {
    whep_destroy_source (&job->conn->retry);
    job->conn->attempt_fn (job->conn);
  }
  return G_SOURCE_REMOVE;
}

/* Waits, then attempts again (the same offer while the session lasts). */
void
whep_conn_retry_later (WhepConn * conn, guint status, gint64 retry_after,
    gboolean busy, const gchar * reason)
{
  guint delay = backoff_ms (conn, busy);
  WhepState state = conn->was_connected ? WHEP_STATE_RECONNECTING :
      WHEP_STATE_WAITING;

  if (retry_after > delay)
    delay = (guint) retry_after;
  g_free (conn->last_reason);
  conn->last_reason = g_strdup (reason);
  WHEP_CONN_INFO (conn, "%s: %s; next attempt in %u ms", conn->host, reason,
      delay);
  whep_conn_post_state (conn, state, status, delay, reason);
  whep_destroy_source (&conn->retry);
  conn->retry = whep_conn_timeout (conn, delay, on_retry, whep_job_new (conn),
      whep_job_free);
}

/* ---- SDP checks ---- */

/* The first codec of @sdp's first live video section that @accepted has. */
gchar *
whep_sdp_video_codec (const GstSDPMessage * sdp, const GstCaps * accepted)
{
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (sdp, i);

    if (g_strcmp0 (gst_sdp_media_get_media (media), "video") != 0
        || gst_sdp_media_get_port (media) == 0)
      continue;
    for (guint f = 0; f < gst_sdp_media_formats_len (media); f++) {
      gint pt = atoi (gst_sdp_media_get_format (media, f));

      for (guint a = 0; a < gst_sdp_media_attributes_len (media); a++) {
        const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, a);
        gchar name[32];
        gint n;

        if (g_strcmp0 (attr->key, "rtpmap") == 0 && attr->value
            && sscanf (attr->value, "%d %31[^/]", &n, name) == 2 && n == pt
            && whep_chain_rtp_caps_has (accepted, name))
          return g_ascii_strup (name, -1);
      }
    }
  }
  return NULL;
}

gchar *
whep_body_text (GBytes * body)
{
  gsize len = 0;
  const gchar *data = body ? g_bytes_get_data (body, &len) : NULL;

  return g_strndup (data ? data : "", len);
}

gboolean
whep_is_sdp (DrtcHttpResponse * r)
{
  const gchar *type = soup_message_headers_get_content_type (r->headers,
      NULL);

  return type && g_ascii_strcasecmp (type, "application/sdp") == 0
      && r->body && g_bytes_get_size (r->body) > 0;
}

void
whep_conn_keep_resource (WhepConn * conn, DrtcHttpResponse * r)
{
  const gchar *location = soup_message_headers_get_one (r->headers,
      "Location");
  const gchar *etag = soup_message_headers_get_one (r->headers, "ETag");
  g_autoptr (GPtrArray) servers = NULL;

  g_free (conn->location);
  conn->location = drtc_http_resolve (r->uri, location);
  g_free (conn->etag);
  conn->etag = g_strdup (etag);
  if (!conn->cfg->use_link_headers)
    return;
  servers = drtc_http_ice_servers_from_links (r->headers);
  if (servers->len == 0)
    return;
  /* too late for this session's gathering (no trickle), but TURN relays
   * still help a later check, and every reconnect starts with them */
  WHEP_CONN_INFO (conn, "%s: %u ICE server(s) from Link headers", conn->host,
      servers->len);
  for (guint i = 0; conn->webrtc && i < servers->len; i++)
    whep_apply_ice_server (conn->webrtc, g_ptr_array_index (servers, i));
  g_clear_pointer (&conn->link_servers, g_ptr_array_unref);
  conn->link_servers = g_steal_pointer (&servers);
}

void
whep_apply_ice_server (GstElement * webrtc, const gchar * url)
{
  gboolean ok = FALSE;

  if (g_str_has_prefix (url, "stun"))
    g_object_set (webrtc, "stun-server", url, NULL);
  else
    g_signal_emit_by_name (webrtc, "add-turn-server", url, &ok);
}

gboolean
whep_retryable (guint status)
{
  return status == 404 || status == 408 || status == 409 || status == 425
      || status >= 500;
}

/**
 * whep_conn_delete_sync:
 *
 * DELETEs the WHEP resource at @location on @self's DrtcHttp and waits for
 * the answer, at most @timeout_s seconds (only sends it when called on the
 * DrtcHttp thread).
 */
void
whep_conn_delete_sync (GstDaydreamWhepSrc * self, const gchar * location,
    const gchar * token, guint timeout_s)
{
  DrtcHttpRequest req = { 0 };
  g_autofree gchar *host = NULL;
  guint status = 0;

  if (!location)
    return;
  host = drtc_http_redact_url (location);
  req.method = "DELETE";
  req.url = location;
  req.bearer = token;
  req.timeout_s = timeout_s;
  req.max_redirects = MAX_REDIRECTS;
  if (drtc_http_send_and_wait (self->http, &req, timeout_s + 1, &status))
    GST_INFO_OBJECT (self, "%s: DELETE answered %u", host, status);
  else
    GST_INFO_OBJECT (self, "%s: no answer to DELETE within %u s", host,
        timeout_s);
}
