/* daydream-rtc: whipsink: the session resource: trickle PATCH and DELETE
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Location of a 201 is the session: late candidates are PATCHed to it
 * as RFC 8840 fragments (If-Match with its ETag), and it is DELETEd when
 * the session ends.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whipsink-private.h"

#include <gst/webrtc/webrtc.h>

#define GST_CAT_DEFAULT gst_daydream_whip_sink_debug

/* ---- trickle (RFC 8840 fragments by PATCH) ---- */

typedef struct
{
  SessionRef *ref;
  guint mline;
  gchar *candidate;
} Candidate;

static void
candidate_free (gpointer data)
{
  Candidate *c = data;

  whip_session_ref_free (c->ref);
  g_free (c->candidate);
  g_free (c);
}

static void
on_patch_response (DrtcHttpResponse * response, const GError * error,
    gpointer data)
{
  GstDaydreamWhipSink *self = whip_session_get (data);

  if (!self)
    return;
  if (response && response->status == 405) {
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
        ("The WHIP endpoint does not accept trickled candidates"),
        ("PATCH answered 405; use trickle=auto or off with this server"));
    self->can_trickle = FALSE;
  } else if (!response || response->status >= 300) {
    GST_WARNING_OBJECT (self, "PATCH failed: %s", response ?
        soup_status_get_phrase (response->status) : error->message);
  }
  gst_object_unref (self);
}

/* Sends the queued candidates (and end-of-candidates when @end). */
void
whip_send_trickle (GstDaydreamWhipSink * self, gboolean end)
{
  g_autofree gchar *url = whip_dup_locked (self, &self->resource_url);
  g_autofree gchar *token = whip_dup_locked (self, &self->auth_token);
  g_autofree gchar *etag = whip_dup_locked (self, &self->etag);
  GString *frag;
  DrtcHttpRequest req = { 0 };
  g_autoptr (GBytes) body = NULL;
  gsize len;

  if (!self->posted || !self->can_trickle || !url
      || (self->pending_candidates->len == 0 && !end))
    return;
  frag = g_string_new (NULL);
  for (guint i = 0; i < self->pending_candidates->len; i++)
    g_string_append_printf (frag, "a=%s\r\n",
        (gchar *) g_ptr_array_index (self->pending_candidates, i));
  if (end)
    g_string_append (frag, "a=end-of-candidates\r\n");
  g_ptr_array_set_size (self->pending_candidates, 0);
  len = frag->len;
  body = g_bytes_new_take (g_string_free (frag, FALSE), len);
  req.method = "PATCH";
  req.url = url;
  req.bearer = token;
  req.content_type = "application/trickle-ice-sdpfrag";
  req.body = body;
  req.if_match = etag;
  req.timeout_s = self->timeout;
  req.max_redirects = 0;
  drtc_http_send (self->http, &req, on_patch_response,
      whip_session_ref_new (self), whip_session_ref_free);
}

static gboolean
on_candidate_cb (gpointer data)
{
  Candidate *c = data;
  GstDaydreamWhipSink *self = whip_session_get (c->ref);
  GstDaydreamWhipTrickle trickle;

  if (!self)
    return G_SOURCE_REMOVE;
  g_mutex_lock (&self->lock);
  trickle = self->trickle;
  g_mutex_unlock (&self->lock);
  /* in auto mode only what came after the offer left is trickled */
  if (trickle == GST_DAYDREAM_WHIP_TRICKLE_ON
      || (trickle == GST_DAYDREAM_WHIP_TRICKLE_AUTO && self->posted)) {
    if (c->candidate && *c->candidate)
      g_ptr_array_add (self->pending_candidates, g_strdup (c->candidate));
    whip_send_trickle (self, !c->candidate || !*c->candidate);
  }
  gst_object_unref (self);
  return G_SOURCE_REMOVE;
}

void
whip_on_ice_candidate (GstElement * webrtc, guint mline,
    const gchar * candidate, gpointer data)
{
  GstDaydreamWhipSink *self = g_weak_ref_get (data);
  Candidate *c;

  if (!self)
    return;
  c = g_new0 (Candidate, 1);
  c->ref = whip_session_ref_for_webrtc (self, webrtc);
  c->mline = mline;
  c->candidate = g_strdup (candidate);
  drtc_http_invoke (self->http, on_candidate_cb, c, candidate_free);
  gst_object_unref (self);
}

/* Best effort; @wait blocks the caller (not the HTTP thread) until the
 * answer or the timeout. */
void
whip_delete_resource (GstDaydreamWhipSink * self, gboolean wait)
{
  g_autofree gchar *url = NULL;
  g_autofree gchar *token = whip_dup_locked (self, &self->auth_token);
  DrtcHttpRequest req = { 0 };

  g_mutex_lock (&self->lock);
  url = g_steal_pointer (&self->resource_url);
  g_mutex_unlock (&self->lock);
  if (!url || !self->http)
    return;
  g_object_notify (G_OBJECT (self), "resource-url");
  req.method = "DELETE";
  req.url = url;
  req.bearer = token;
  req.timeout_s = self->timeout;
  if (!wait)
    drtc_http_send (self->http, &req, NULL, NULL, NULL);
  else if (!drtc_http_send_and_wait (self->http, &req, MAX (self->timeout, 1),
          NULL))
    GST_INFO_OBJECT (self, "no answer to DELETE within %u s", self->timeout);
}
