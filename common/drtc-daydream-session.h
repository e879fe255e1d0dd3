/* daydream-rtc: one Daydream stream's lifecycle, for daydreamcontrol and
 * serve alike
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "drtc-daydream.h"

G_BEGIN_DECLS typedef enum
{
  DRTC_DAYDREAM_SESSION_IDLE,   /* made, not started */
  DRTC_DAYDREAM_SESSION_CREATING,       /* the POST is in flight */
  DRTC_DAYDREAM_SESSION_CREATED,        /* polled until the status says ready */
  DRTC_DAYDREAM_SESSION_READY,  /* polled as a heartbeat */
  DRTC_DAYDREAM_SESSION_FAILED, /* the stream could not be created */
  DRTC_DAYDREAM_SESSION_STOPPED,        /* stop () was called */
} DrtcDaydreamSessionState;

/* What went wrong; only CREATE ends the session (FAILED). */
typedef enum
{
  DRTC_DAYDREAM_SESSION_PROBLEM_CREATE,
  DRTC_DAYDREAM_SESSION_PROBLEM_POLL,   /* polling goes on, backing off */
  DRTC_DAYDREAM_SESSION_PROBLEM_NEVER_READY,    /* once; polling goes on */
} DrtcDaydreamSessionProblem;

typedef struct _DrtcDaydreamSession DrtcDaydreamSession;

/* Every member may be NULL. They run on the DrtcHttp's context, never
 * after drtc_daydream_session_stop (). */
typedef struct
{
  void (*state_changed) (DrtcDaydreamSession * session,
      DrtcDaydreamSessionState state, const gchar * detail, gpointer data);
  /* the POST answered 201; @stream (transfer none) */
  void (*created) (DrtcDaydreamSession * session,
      const DrtcDaydreamStream * stream, gpointer data);
  /* the first WHEP URL known: from the create answer, the WHIP answer's
   * header (offer_whep_url ()) or the status, whichever comes first */
  void (*whep_url) (DrtcDaydreamSession * session, const gchar * url,
      gpointer data);
  /* the status said ready (once); @whep_url may still be NULL */
  void (*ready) (DrtcDaydreamSession * session, const gchar * whip_url,
      const gchar * whep_url, gpointer data);
  /* every status poll that got an answer below 500 */
  void (*polled) (DrtcDaydreamSession * session,
      const DrtcDaydreamStatus * status, gpointer data);
  void (*problem) (DrtcDaydreamSession * session,
      DrtcDaydreamSessionProblem problem, const GError * error, gpointer data);
} DrtcDaydreamSessionCallbacks;

/* @answer: the service's stream object on success (transfer none) */
typedef void (*DrtcDaydreamSessionUpdated) (DrtcDaydreamSession * session,
    JsonNode * answer, const GError * error, gpointer data);
/* @error: why the DELETE failed; NULL when gone or nothing to delete */
typedef void (*DrtcDaydreamSessionDone) (DrtcDaydreamSession * session,
    const GError * error, gpointer data);

DrtcDaydreamSession *drtc_daydream_session_new (DrtcHttp * http,
    const gchar * api_url, const gchar * api_key,
    const DrtcDaydreamSessionCallbacks * callbacks, gpointer data);
DrtcDaydreamSession *drtc_daydream_session_ref (DrtcDaydreamSession * session);
void drtc_daydream_session_unref (DrtcDaydreamSession * session);
void drtc_daydream_session_set_ready_timeout (DrtcDaydreamSession * session,
    guint seconds);

void drtc_daydream_session_start (DrtcDaydreamSession * session,
    const gchar * pipeline, JsonObject * params, const gchar * name);
void drtc_daydream_session_offer_whep_url (DrtcDaydreamSession * session,
    const gchar * url);
void drtc_daydream_session_update (DrtcDaydreamSession * session,
    const gchar * pipeline, JsonObject * params,
    DrtcDaydreamSessionUpdated callback, gpointer data, GDestroyNotify notify);
void drtc_daydream_session_stop_polling (DrtcDaydreamSession * session);
void drtc_daydream_session_stop (DrtcDaydreamSession * session,
    gboolean delete_stream, DrtcDaydreamSessionDone done, gpointer data);

DrtcDaydreamSessionState drtc_daydream_session_get_state (DrtcDaydreamSession *
    session);
const gchar *drtc_daydream_session_state_nick (DrtcDaydreamSessionState state);
const gchar *drtc_daydream_session_get_base (DrtcDaydreamSession * session);
gchar *drtc_daydream_session_media_token (DrtcDaydreamSession * session,
    const gchar * url);
const gchar *drtc_daydream_session_get_stream_id (DrtcDaydreamSession *
    session);
const gchar *drtc_daydream_session_get_whep_url (DrtcDaydreamSession * session);
const gchar *drtc_daydream_session_update_hint (const GError * error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DrtcDaydreamSession, drtc_daydream_session_unref)
    G_END_DECLS
