/* daydream-rtc: the local half of an SDP negotiation on webrtcbin
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "drtc-webrtc.h"

G_BEGIN_DECLS
#define DRTC_NEGOTIATE_ERROR (drtc_negotiate_error_quark ())
    GQuark drtc_negotiate_error_quark (void);

typedef enum
{
  DRTC_NEGOTIATE_ERROR_CREATE,  /* create-offer / create-answer failed */
  DRTC_NEGOTIATE_ERROR_SET_LOCAL,       /* set-local-description refused */
  DRTC_NEGOTIATE_ERROR_NO_SDP,  /* no local description after all */
} DrtcNegotiateError;

/* Edits the description before it is set (an fmtp line, say). */
typedef void (*DrtcDescriptionFunc) (GstWebRTCSessionDescription * desc,
    gpointer user_data);

/* On the context: the local description as SDP text, after gathering
 * (@complete) or its timeout, or at once when no gathering was asked
 * for; or @error. */
typedef void (*DrtcLocalSdpFunc) (GstElement * webrtc, const gchar * sdp,
    gboolean complete, const GError * error, gpointer user_data);

typedef struct
{
  GstWebRTCSDPType type;        /* OFFER or ANSWER (a remote offer is set) */
  GMainContext *context;        /* where the steps and @func run */
  guint gather_timeout_ms;      /* longest wait for ICE gathering */
  gboolean no_gathering;        /* answer at once (trickle): no wait */
  DrtcDescriptionFunc edit;     /* or NULL */
} DrtcNegotiateOptions;

void drtc_negotiate_local (GstElement * webrtc,
    const DrtcNegotiateOptions * options, DrtcLocalSdpFunc func,
    gpointer user_data, GDestroyNotify notify);
void drtc_negotiate_interrupt (GstElement * webrtc);

G_END_DECLS
