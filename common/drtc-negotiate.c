/* daydream-rtc: the local half of an SDP negotiation on webrtcbin
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every element and the gateway make a description the same way:
 * create-offer (or create-answer once the remote offer is set) ->
 * set-local-description -> wait for ICE gathering, bounded, since Daydream
 * and most WHIP/WHEP servers take no trickled candidates -> the SDP text,
 * which the caller POSTs or PATCHes. drtc_negotiate_local () runs that
 * chain on the caller's context and calls back once.
 *
 * webrtcbin 1.22 drops a promise it never answered when it goes to NULL
 * with the operation queued (and warns): drtc_negotiate_interrupt () ends
 * the pending ones of a webrtcbin before the caller stops it. The callback
 * then gets an error; the caller's own staleness check discards it.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "drtc-negotiate.h"

#define PENDING_KEY "drtc-negotiate-pending"

G_DEFINE_QUARK (drtc - negotiate - error - quark, drtc_negotiate_error);

/* Refcounted: the caller's chain and each promise in flight hold one. */
typedef struct
{
  GstElement *webrtc;
  DrtcNegotiateOptions opts;
  DrtcLocalSdpFunc func;
  gpointer user_data;
  GDestroyNotify notify;
  gboolean done;
} Negotiation;

static void
negotiation_clear (gpointer data)
{
  Negotiation *n = data;

  if (n->notify)
    n->notify (n->user_data);
  g_main_context_unref (n->opts.context);
  gst_object_unref (n->webrtc);
}

static void
negotiation_release (gpointer data)
{
  g_atomic_rc_box_release_full (data, negotiation_clear);
}

static void
finish (Negotiation * n, gboolean complete, GError * error)
{
  g_autofree gchar *sdp = NULL;

  if (n->done)
    return;
  n->done = TRUE;
  if (!error && !(sdp = drtc_webrtc_local_sdp (n->webrtc)))
    error = g_error_new_literal (DRTC_NEGOTIATE_ERROR,
        DRTC_NEGOTIATE_ERROR_NO_SDP, "webrtcbin has no local description");
  n->func (n->webrtc, sdp, complete, error, n->user_data);
  g_clear_error (&error);
}

static GPtrArray *
pending_of (GstElement * webrtc)
{
  GPtrArray *pending = g_object_get_data (G_OBJECT (webrtc), PENDING_KEY);

  if (!pending) {
    pending = g_ptr_array_new_with_free_func ((GDestroyNotify)
        gst_promise_unref);
    g_object_set_data_full (G_OBJECT (webrtc), PENDING_KEY, pending,
        (GDestroyNotify) g_ptr_array_unref);
  }
  return pending;
}

/* A promise answered on the context, listed until then for interrupt. */
static GstPromise *
track (Negotiation * n, DrtcPromiseFunc func)
{
  GstPromise *promise = drtc_promise_new (n->opts.context, func,
      g_atomic_rc_box_acquire (n), negotiation_release);

  g_ptr_array_add (pending_of (n->webrtc), gst_promise_ref (promise));
  return promise;
}

static void
untrack (Negotiation * n, GstPromise * promise)
{
  g_ptr_array_remove_fast (pending_of (n->webrtc), promise);
}

static void
on_gathered (GstElement * webrtc, gboolean complete, gpointer data)
{
  finish (data, complete, NULL);
}

static void
on_local_set (GstPromise * promise, gpointer data)
{
  Negotiation *n = data;
  GError *err = NULL;

  untrack (n, promise);
  if (!drtc_promise_reply (promise, NULL, &err)) {
    GError *e = g_error_new (DRTC_NEGOTIATE_ERROR,
        DRTC_NEGOTIATE_ERROR_SET_LOCAL, "set-local-description: %s",
        err->message);

    g_error_free (err);
    finish (n, FALSE, e);
  } else if (n->opts.no_gathering) {
    finish (n, FALSE, NULL);
  } else {
    drtc_webrtc_when_gathered (n->webrtc, n->opts.context,
        n->opts.gather_timeout_ms, on_gathered, g_atomic_rc_box_acquire (n),
        negotiation_release);
  }
}

static void
on_created (GstPromise * promise, gpointer data)
{
  Negotiation *n = data;
  const gchar *field = n->opts.type == GST_WEBRTC_SDP_TYPE_OFFER ?
      "offer" : "answer";
  GError *err = NULL;
  GstWebRTCSessionDescription *desc;
  GstPromise *next;

  untrack (n, promise);
  if (!(desc = drtc_promise_description (promise, field, &err))) {
    GError *e = g_error_new_literal (DRTC_NEGOTIATE_ERROR,
        DRTC_NEGOTIATE_ERROR_CREATE, err->message);

    g_error_free (err);
    finish (n, FALSE, e);
    return;
  }
  if (n->opts.edit)
    n->opts.edit (desc, n->user_data);
  next = track (n, on_local_set);
  g_signal_emit_by_name (n->webrtc, "set-local-description", desc, next);
  gst_promise_unref (next);
  gst_webrtc_session_description_free (desc);
}

/**
 * drtc_negotiate_local:
 * @options: what to make and where; copied
 * @func: called once on @options->context (not when webrtcbin drops an
 *   unanswered promise: then only @notify runs)
 *
 * Makes the local description of @webrtc, sets it and waits for gathering.
 * Call it on @options->context.
 */
void
drtc_negotiate_local (GstElement * webrtc,
    const DrtcNegotiateOptions * options, DrtcLocalSdpFunc func,
    gpointer user_data, GDestroyNotify notify)
{
  Negotiation *n = g_atomic_rc_box_new0 (Negotiation);
  GstPromise *promise;

  n->webrtc = gst_object_ref (webrtc);
  n->opts = *options;
  g_main_context_ref (n->opts.context);
  n->func = func;
  n->user_data = user_data;
  n->notify = notify;
  promise = track (n, on_created);
  g_signal_emit_by_name (webrtc, options->type == GST_WEBRTC_SDP_TYPE_OFFER ?
      "create-offer" : "create-answer", NULL, promise);
  gst_promise_unref (promise);
  negotiation_release (n);
}

/**
 * drtc_negotiate_interrupt:
 *
 * Interrupts the promises of negotiations on @webrtc that webrtcbin has
 * not answered (before it goes to NULL). On the negotiations' context.
 */
void
drtc_negotiate_interrupt (GstElement * webrtc)
{
  GPtrArray *pending = g_object_steal_data (G_OBJECT (webrtc), PENDING_KEY);

  for (guint i = 0; pending && i < pending->len; i++)
    gst_promise_interrupt (g_ptr_array_index (pending, i));
  g_clear_pointer (&pending, g_ptr_array_unref);
}
