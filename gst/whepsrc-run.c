/* daydream-rtc: whepsrc: one run of the connection: start, stop, end of stream
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * whep_conn_start () (READY->PAUSED) begins the first attempt and the
 * watchdog on the DrtcHttp thread; whep_conn_stop () (PAUSED->READY) ends
 * the session and waits for that; whep_conn_finish () stops retrying at
 * the end of the stream; whep_conn_session_error () turns an error of a
 * session's element into a reconnect.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whepsrc-conn.h"

#define GST_CAT_DEFAULT gst_daydream_whep_src_debug

static gboolean
conn_begin (gpointer data)
{
  WhepConn *conn = data;

  if (conn->stopped)
    return G_SOURCE_REMOVE;
  if (conn->cfg->connect_timeout_s)
    conn->deadline_us = g_get_monotonic_time () +
        conn->cfg->connect_timeout_s * G_USEC_PER_SEC;
  conn->watch = whep_conn_timeout (conn, WATCH_INTERVAL_MS, whep_watch_tick,
      whep_conn_ref (conn), (GDestroyNotify) whep_conn_unref);
  whep_offer_attempt (conn);
  return G_SOURCE_REMOVE;
}

/**
 * whep_conn_start:
 * @settings: (transfer full): what to connect to, and how
 *
 * Starts connecting on @self's DrtcHttp thread.
 *
 * Returns: (transfer full): the connection, for whep_conn_stop()
 */
WhepConn *
whep_conn_start (GstDaydreamWhepSrc * self, WhepSettings * settings)
{
  WhepConn *conn = g_atomic_rc_box_new0 (WhepConn);

  g_weak_ref_init (&conn->self, self);
  conn->http = self->http;
  conn->attempt_fn = whep_offer_attempt;
  conn->context = g_main_context_ref (drtc_http_get_context (self->http));
  conn->cfg = settings;
  conn->host = drtc_http_redact_url (settings->endpoint);
  conn->promises = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_promise_unref);
  conn->video_rtp = whep_chain_rtp_caps (settings->video_caps, "video",
      settings->decode, NULL);
  if (settings->audio_caps)
    conn->audio_rtp = whep_chain_rtp_caps (settings->audio_caps, "audio",
        settings->decode, NULL);
  g_main_context_invoke_full (conn->context, G_PRIORITY_DEFAULT, conn_begin,
      whep_conn_ref (conn), (GDestroyNotify) whep_conn_unref);
  return conn;
}

typedef struct
{
  WhepConn *conn;
  gchar *location;
  GMutex lock;
  GCond cond;
  gboolean done;
} StopCall;

static gboolean
do_stop (gpointer data)
{
  StopCall *call = data;
  WhepConn *conn = call->conn;

  conn->stopped = TRUE;
  whep_destroy_source (&conn->retry);
  whep_destroy_source (&conn->watch);
  call->location = g_steal_pointer (&conn->location);
  whep_session_end (conn, FALSE);
  g_mutex_lock (&call->lock);
  call->done = TRUE;
  g_cond_signal (&call->cond);
  g_mutex_unlock (&call->lock);
  return G_SOURCE_REMOVE;
}

/**
 * whep_conn_stop:
 *
 * Stops retrying and ends the session (webrtcbin out of the bin), on the
 * DrtcHttp thread; returns when that is done.
 *
 * Returns: (transfer full) (nullable): the session's resource URL, for a
 *   DELETE
 */
gchar *
whep_conn_stop (WhepConn * conn)
{
  StopCall call = { conn };

  g_mutex_init (&call.lock);
  g_cond_init (&call.cond);
  g_main_context_invoke (conn->context, do_stop, &call);
  g_mutex_lock (&call.lock);
  while (!call.done)
    g_cond_wait (&call.cond, &call.lock);
  g_mutex_unlock (&call.lock);
  g_mutex_clear (&call.lock);
  g_cond_clear (&call.cond);
  return call.location;
}

static gboolean
do_finish (gpointer data)
{
  WhepConn *conn = data;

  conn->stopped = TRUE;
  whep_destroy_source (&conn->retry);
  whep_destroy_source (&conn->watch);
  return G_SOURCE_REMOVE;
}

/**
 * whep_conn_finish:
 *
 * The stream has ended: no more attempts, no watchdog; the session stays
 * until whep_conn_stop(). From any thread.
 */
void
whep_conn_finish (WhepConn * conn)
{
  g_main_context_invoke_full (conn->context, G_PRIORITY_DEFAULT, do_finish,
      whep_conn_ref (conn), (GDestroyNotify) whep_conn_unref);
}

guint
whep_conn_current_gen (WhepConn * conn)
{
  return (guint) g_atomic_int_get (&conn->gen);
}

typedef struct
{
  WhepJob *job;
  gchar *what;
} ErrorCall;

static void
error_call_free (gpointer data)
{
  ErrorCall *call = data;

  whep_job_free (call->job);
  g_free (call->what);
  g_free (call);
}

static gboolean
handle_session_error (gpointer data)
{
  ErrorCall *call = data;

  if (whep_job_live (call->job))
    whep_session_lost (call->job->conn, call->what);
  return G_SOURCE_REMOVE;
}

/**
 * whep_conn_session_error:
 * @gen: the session the failing element belongs to
 *
 * From any thread: a webrtcbin or chain element of session @gen posted an
 * error; if that is still the current session, reconnect.
 */
void
whep_conn_session_error (WhepConn * conn, guint gen, const gchar * what)
{
  ErrorCall *call = g_new0 (ErrorCall, 1);

  call->job = g_new0 (WhepJob, 1);
  call->job->conn = whep_conn_ref (conn);
  call->job->gen = gen;
  call->what = g_strdup (what);
  g_main_context_invoke_full (conn->context, G_PRIORITY_DEFAULT,
      handle_session_error, call, error_call_free);
}
