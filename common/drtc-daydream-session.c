/* daydream-rtc: one Daydream stream's lifecycle
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * create → poll the status until ready → the WHEP URL (create answer, WHIP
 * answer header or status, first wins) → PATCH → DELETE, with one poll and
 * retry policy for daydreamcontrol and serve's stream controller alike. It
 * runs on the context of the DrtcHttp it is given (the element's private
 * thread, or serve's main context): every call (but offer_whep_url) and
 * every callback is there.
 *
 * Every request holds a reference, so a session its owner dropped lives
 * until its calls are answered; after stop () no callback of the vtable
 * runs, only the per-call ones (update, stop).
 */
#include "drtc-daydream-session.h"

#include <string.h>

/* The poll and retry policy, in one place. */
#define FIRST_POLL_MS 500       /* the status right after the create */
#define POLL_FAST_MS 1000       /* until ready and the WHEP URL is known */
#define POLL_SLOW_MS 5000       /* then a heartbeat */
#define POLL_MAX_BACKOFF_MS 30000       /* failed polls double the wait */
#define DEFAULT_READY_TIMEOUT_S 60      /* then one NEVER_READY problem */
#define CALL_ATTEMPTS 3         /* per request, on 5xx, 429, network */

struct _DrtcDaydreamSession
{
  gint refs;
  DrtcHttp *http;               /* borrowed: outlives the session */
  DrtcDaydreamClient *client;
  DrtcDaydreamSessionCallbacks cb;
  gpointer data;

  DrtcDaydreamSessionState state;
  guint ready_timeout_s;
  gchar *stream_id, *whip_url, *whep_url;
  gint64 created_us;
  gboolean ready, ready_warned, polling;
  guint poll_failures;
  GSource *poll;

  /* a stop that came while the create was in flight */
  gboolean stop_pending, delete_pending;
  DrtcDaydreamSessionDone stop_done;
  gpointer stop_data;
};

static const gchar *const state_nicks[] = {
  "idle", "creating", "created", "ready", "failed", "stopped"
};

const gchar *
drtc_daydream_session_state_nick (DrtcDaydreamSessionState state)
{
  g_return_val_if_fail (state < G_N_ELEMENTS (state_nicks), "unknown");
  return state_nicks[state];
}

/**
 * drtc_daydream_session_new:
 * @http: where requests run and callbacks come (borrowed: outlives the
 *   session)
 * @api_url: (nullable): DAYDREAM_API_URL, or NULL for the default
 * @api_key: the key (copied; never logged)
 * @callbacks: (nullable): copied
 *
 * Returns: (transfer full): an idle session; start it on @http's context
 */
DrtcDaydreamSession *
drtc_daydream_session_new (DrtcHttp * http, const gchar * api_url,
    const gchar * api_key, const DrtcDaydreamSessionCallbacks * callbacks,
    gpointer data)
{
  DrtcDaydreamSession *s = g_new0 (DrtcDaydreamSession, 1);

  s->refs = 1;
  s->http = http;
  s->client = drtc_daydream_client_new (http, api_url, api_key);
  drtc_daydream_client_set_retries (s->client, CALL_ATTEMPTS);
  if (callbacks)
    s->cb = *callbacks;
  s->data = data;
  s->ready_timeout_s = DEFAULT_READY_TIMEOUT_S;
  return s;
}

DrtcDaydreamSession *
drtc_daydream_session_ref (DrtcDaydreamSession * s)
{
  g_atomic_int_inc (&s->refs);
  return s;
}

static void
clear_poll (DrtcDaydreamSession * s)
{
  if (s->poll) {
    g_source_destroy (s->poll);
    g_clear_pointer (&s->poll, g_source_unref);
  }
}

/* The last reference goes where nothing of the session is in flight: on
 * its context, or after its DrtcHttp has gone. */
void
drtc_daydream_session_unref (DrtcDaydreamSession * s)
{
  if (!s || !g_atomic_int_dec_and_test (&s->refs))
    return;
  clear_poll (s);
  drtc_daydream_client_free (s->client);
  g_free (s->stream_id);
  g_free (s->whip_url);
  g_free (s->whep_url);
  g_free (s);
}

static void
unref_notify (gpointer data)
{
  drtc_daydream_session_unref (data);
}

void
drtc_daydream_session_set_ready_timeout (DrtcDaydreamSession * s, guint seconds)
{
  s->ready_timeout_s = MAX (seconds, 1);
}

DrtcDaydreamSessionState
drtc_daydream_session_get_state (DrtcDaydreamSession * s)
{
  return s->state;
}

const gchar *
drtc_daydream_session_get_base (DrtcDaydreamSession * s)
{
  return drtc_daydream_client_get_base (s->client);
}

/**
 * drtc_daydream_session_media_token:
 * @url: (nullable): a WHIP or WHEP URL of the session's stream
 *
 * The Bearer token to send to @url (drtc_daydream_media_token()): the API
 * key where @url is on the API's own origin, as a keyed daydream-rtc
 * gateway requires; NULL for Daydream's WHIP/WHEP hosts.
 *
 * Returns: (transfer full) (nullable): the token; clear it after use
 */
gchar *
drtc_daydream_session_media_token (DrtcDaydreamSession * s, const gchar * url)
{
  return drtc_daydream_client_media_token (s->client, url);
}

const gchar *
drtc_daydream_session_get_stream_id (DrtcDaydreamSession * s)
{
  return s->stream_id;
}

const gchar *
drtc_daydream_session_get_whep_url (DrtcDaydreamSession * s)
{
  return s->whep_url;
}

/**
 * drtc_daydream_session_update_hint:
 *
 * Returns: (nullable): what a user should do about a failed update: a 405
 *   (the stream takes no live updates) or a 409 (no active stream there)
 */
const gchar *
drtc_daydream_session_update_hint (const GError * error)
{
  if (!error || error->domain != DRTC_DAYDREAM_ERROR)
    return NULL;
  if (error->code == 405)
    return "This stream does not take live updates; restart it";
  if (error->code == 409)
    return "Daydream has no active stream to update; start a stream first";
  return NULL;
}

static gboolean
live (DrtcDaydreamSession * s)
{
  return s->state != DRTC_DAYDREAM_SESSION_STOPPED;
}

static void
set_state (DrtcDaydreamSession * s, DrtcDaydreamSessionState state,
    const gchar * detail)
{
  s->state = state;
  if (s->cb.state_changed)
    s->cb.state_changed (s, state, detail, s->data);
}

/* trimmed, absolute http(s), else NULL */
static gchar *
normalize_url (const gchar * url)
{
  g_autofree gchar *t = g_strstrip (g_strdup (url ? url : ""));
  g_autoptr (GUri) uri = *t ? g_uri_parse (t, G_URI_FLAGS_NONE, NULL) : NULL;

  if (!uri || !drtc_http_uri_is_http (uri) || !g_uri_get_host (uri))
    return NULL;
  return g_steal_pointer (&t);
}

static void
take_whep_url (DrtcDaydreamSession * s, const gchar * url)
{
  g_autofree gchar *clean = NULL;

  if (s->whep_url || !live (s) || !(clean = normalize_url (url)))
    return;
  s->whep_url = g_steal_pointer (&clean);
  if (s->cb.whep_url)
    s->cb.whep_url (s, s->whep_url, s->data);
}

typedef struct
{
  DrtcDaydreamSession *session;
  gchar *url;
} Offer;

static void
offer_free (gpointer data)
{
  Offer *offer = data;

  drtc_daydream_session_unref (offer->session);
  g_free (offer->url);
  g_free (offer);
}

static gboolean
take_offer (gpointer data)
{
  Offer *offer = data;

  take_whep_url (offer->session, offer->url);
  return G_SOURCE_REMOVE;
}

/**
 * drtc_daydream_session_offer_whep_url:
 * @url: the WHIP answer's Livepeer-Playback-URL (whipsink's playback-url)
 *
 * Sooner than a poll; ignored once a WHEP URL is known or after stop. The
 * one call that may come from any thread (whipsink notifies on its own):
 * the URL is taken on the session's context (at once when called there).
 */
void
drtc_daydream_session_offer_whep_url (DrtcDaydreamSession * s,
    const gchar * url)
{
  Offer *offer = g_new0 (Offer, 1);

  offer->session = drtc_daydream_session_ref (s);
  offer->url = g_strdup (url);
  g_main_context_invoke_full (drtc_http_get_context (s->http),
      G_PRIORITY_DEFAULT, take_offer, offer, offer_free);
}

/* ---- polling ---- */

static void schedule_poll (DrtcDaydreamSession * s, guint ms);

static void
check_ready_timeout (DrtcDaydreamSession * s, const DrtcDaydreamStatus * st)
{
  g_autoptr (GError) err = NULL;

  if (s->ready || s->ready_warned || g_get_monotonic_time () - s->created_us
      <= (gint64) s->ready_timeout_s * G_USEC_PER_SEC)
    return;
  s->ready_warned = TRUE;
  err = g_error_new (DRTC_DAYDREAM_ERROR, DRTC_DAYDREAM_ERROR_RESPONSE,
      "not ready after %u s, last state: %s", s->ready_timeout_s,
      st && st->state ? st->state : "unknown");
  if (s->cb.problem)
    s->cb.problem (s, DRTC_DAYDREAM_SESSION_PROBLEM_NEVER_READY, err, s->data);
}

static guint
next_poll_ms (DrtcDaydreamSession * s)
{
  guint ms = s->ready && s->whep_url ? POLL_SLOW_MS : POLL_FAST_MS;

  for (guint i = 0; i < s->poll_failures && ms < POLL_MAX_BACKOFF_MS; i++)
    ms *= 2;
  return MIN (ms, POLL_MAX_BACKOFF_MS);
}

static void
on_status (gpointer result, const GError * error, gpointer data)
{
  DrtcDaydreamSession *s = data;
  DrtcDaydreamStatus *st = result;

  if (!live (s) || !s->polling)
    return;
  if (st) {
    s->poll_failures = 0;
    if (s->cb.polled)
      s->cb.polled (s, st, s->data);
    take_whep_url (s, st->whep_url);
    if (st->ready && !s->ready && live (s)) {
      s->ready = TRUE;
      set_state (s, DRTC_DAYDREAM_SESSION_READY, st->state);
      if (s->cb.ready && live (s))
        s->cb.ready (s, s->whip_url, s->whep_url, s->data);
    }
  } else {
    s->poll_failures++;
    if (s->cb.problem)
      s->cb.problem (s, DRTC_DAYDREAM_SESSION_PROBLEM_POLL, error, s->data);
  }
  if (live (s))
    check_ready_timeout (s, st);
  if (live (s) && s->polling)
    schedule_poll (s, next_poll_ms (s));
}

static gboolean
on_poll (gpointer data)
{
  DrtcDaydreamSession *s = data;

  g_clear_pointer (&s->poll, g_source_unref);
  if (live (s) && s->polling)
    drtc_daydream_get_status (s->client, s->stream_id, on_status,
        drtc_daydream_session_ref (s), unref_notify);
  return G_SOURCE_REMOVE;
}

static void
schedule_poll (DrtcDaydreamSession * s, guint ms)
{
  clear_poll (s);
  s->poll = g_timeout_source_new (ms);
  g_source_set_callback (s->poll, on_poll, s, NULL);
  g_source_attach (s->poll, drtc_http_get_context (s->http));
}

/* The status is not asked for any more (the owner gave up on the stream);
 * the session still updates and deletes. */
void
drtc_daydream_session_stop_polling (DrtcDaydreamSession * s)
{
  s->polling = FALSE;
  clear_poll (s);
}

/* ---- create ---- */

static void delete_stream (DrtcDaydreamSession * s, const gchar * id,
    DrtcDaydreamSessionDone done, gpointer data);

static void
finish_pending_stop (DrtcDaydreamSession * s, const gchar * id)
{
  s->stop_pending = FALSE;
  if (id && s->delete_pending)
    delete_stream (s, id, s->stop_done, s->stop_data);
  else if (s->stop_done)
    s->stop_done (s, NULL, s->stop_data);
}

static void
on_created (gpointer result, const GError * error, gpointer data)
{
  DrtcDaydreamSession *s = data;
  DrtcDaydreamStream *stream = result;

  if (s->stop_pending) {
    /* stopped while Daydream created it: end it rather than leave it
     * running unfed */
    finish_pending_stop (s, stream ? stream->id : NULL);
    return;
  }
  if (!live (s))
    return;
  if (!stream) {
    if (s->cb.problem)
      s->cb.problem (s, DRTC_DAYDREAM_SESSION_PROBLEM_CREATE, error, s->data);
    if (live (s))
      set_state (s, DRTC_DAYDREAM_SESSION_FAILED, error->message);
    return;
  }
  s->created_us = g_get_monotonic_time ();
  s->stream_id = g_strdup (stream->id);
  s->whip_url = g_strdup (stream->whip_url);
  s->polling = TRUE;            /* the created callback may stop it */
  if (s->cb.created)
    s->cb.created (s, stream, s->data);
  if (live (s))
    set_state (s, DRTC_DAYDREAM_SESSION_CREATED, stream->id);
  take_whep_url (s, stream->whep_url);
  if (live (s) && s->polling)
    schedule_poll (s, FIRST_POLL_MS);
}

/**
 * drtc_daydream_session_start:
 * @params: (transfer none): the pipeline's params, as validated
 *
 * POSTs the stream; state_changed (CREATING) comes at once, then created
 * and CREATED, or a CREATE problem and FAILED.
 */
void
drtc_daydream_session_start (DrtcDaydreamSession * s, const gchar * pipeline,
    JsonObject * params, const gchar * name)
{
  g_return_if_fail (s->state == DRTC_DAYDREAM_SESSION_IDLE);
  set_state (s, DRTC_DAYDREAM_SESSION_CREATING,
      drtc_daydream_client_get_base (s->client));
  if (!live (s))
    return;
  drtc_daydream_create_stream (s->client, pipeline, params, name, on_created,
      drtc_daydream_session_ref (s), unref_notify);
}

/* ---- update ---- */

typedef struct
{
  DrtcDaydreamSession *session;
  DrtcDaydreamSessionUpdated callback;
  gpointer data;
  GDestroyNotify notify;
} Update;

static void
update_free (gpointer data)
{
  Update *u = data;

  if (u->notify)
    u->notify (u->data);
  drtc_daydream_session_unref (u->session);
  g_free (u);
}

static void
on_updated (gpointer result, const GError * error, gpointer data)
{
  Update *u = data;

  u->callback (u->session, result, error, u->data);
}

/**
 * drtc_daydream_session_update:
 * @params: (transfer none): the whole params (the service takes no diff)
 * @callback: always called, once: with the service's answer, or an error
 *   (DRTC_DAYDREAM_ERROR_NO_STREAM before the stream exists or after stop;
 *   else the HTTP status: see drtc_daydream_session_update_hint ())
 */
void
drtc_daydream_session_update (DrtcDaydreamSession * s, const gchar * pipeline,
    JsonObject * params, DrtcDaydreamSessionUpdated callback, gpointer data,
    GDestroyNotify notify)
{
  Update *u = g_new0 (Update, 1);

  u->session = drtc_daydream_session_ref (s);
  u->callback = callback;
  u->data = data;
  u->notify = notify;
  if (!s->stream_id || !live (s)) {
    g_autoptr (GError) err = g_error_new (DRTC_DAYDREAM_ERROR,
        DRTC_DAYDREAM_ERROR_NO_STREAM, "No active stream to update");

    callback (s, NULL, err, data);
    update_free (u);
    return;
  }
  drtc_daydream_update_stream (s->client, s->stream_id, pipeline, params,
      on_updated, u, update_free);
}

/* ---- stop ---- */

typedef struct
{
  DrtcDaydreamSession *session;
  DrtcDaydreamSessionDone done;
  gpointer data;
} Stop;

static void
stop_free (gpointer data)
{
  Stop *stop = data;

  drtc_daydream_session_unref (stop->session);
  g_free (stop);
}

static void
on_deleted (gpointer result, const GError * error, gpointer data)
{
  Stop *stop = data;

  if (stop->done)
    stop->done (stop->session, error, stop->data);
}

static void
delete_stream (DrtcDaydreamSession * s, const gchar * id,
    DrtcDaydreamSessionDone done, gpointer data)
{
  Stop *stop = g_new0 (Stop, 1);

  stop->session = drtc_daydream_session_ref (s);
  stop->done = done;
  stop->data = data;
  drtc_daydream_delete_stream (s->client, id, on_deleted, stop, stop_free);
}

/**
 * drtc_daydream_session_stop:
 * @delete_stream: DELETE the stream (one still being created is deleted
 *   once its POST answers)
 * @done: (nullable): called once, when that is over (at once when there is
 *   nothing to delete)
 *
 * No callback of the vtable runs after this; requests in flight finish in
 * the background (the caller may drop its reference now).
 */
void
drtc_daydream_session_stop (DrtcDaydreamSession * s, gboolean delete_stream_,
    DrtcDaydreamSessionDone done, gpointer data)
{
  DrtcDaydreamSessionState was = s->state;

  if (was == DRTC_DAYDREAM_SESSION_STOPPED) {
    if (done)
      done (s, NULL, data);
    return;
  }
  s->state = DRTC_DAYDREAM_SESSION_STOPPED;
  s->polling = FALSE;
  clear_poll (s);
  if (was == DRTC_DAYDREAM_SESSION_CREATING) {
    s->stop_pending = TRUE;
    s->delete_pending = delete_stream_;
    s->stop_done = done;
    s->stop_data = data;
  }
  /* nothing waits for a backoff of ours (a create among them ends the
   * pending stop) */
  drtc_daydream_client_cancel_retries (s->client);
  if (was == DRTC_DAYDREAM_SESSION_CREATING) {
    return;
  } else if (s->stream_id && delete_stream_) {
    delete_stream (s, s->stream_id, done, data);
  } else if (done) {
    done (s, NULL, data);
  }
}
