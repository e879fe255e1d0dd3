/* daydream-rtc: SDP helpers on GstSDP
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>

G_BEGIN_DECLS

#define DRTC_SDP_ERROR (drtc_sdp_error_quark ())
GQuark drtc_sdp_error_quark (void);

typedef enum
{
  DRTC_SDP_ERROR_PARSE,         /* not SDP at all */
  DRTC_SDP_ERROR_NO_VIDEO,      /* no video m-line */
  DRTC_SDP_ERROR_CODEC,         /* video without an acceptable codec */
} DrtcSdpError;

GstSDPMessage *drtc_sdp_parse (const gchar * text, GError ** error);

gboolean drtc_sdp_keep_codec (GstSDPMessage * msg, const gchar * encoding,
    gint * payload, GError ** error);

gint drtc_sdp_find_payload (const GstSDPMessage * msg, const gchar * encoding);

GstCaps *drtc_sdp_payload_caps (const GstSDPMessage * msg, gint payload);

/* One ICE candidate of a trickle-ice-sdpfrag body. */
typedef struct
{
  guint mline;
  gchar *candidate;             /* "candidate:..." without "a=" */
} DrtcSdpCandidate;

void drtc_sdp_candidate_free (DrtcSdpCandidate * candidate);

GPtrArray *drtc_sdp_frag_candidates (const gchar * frag, GError ** error);

void drtc_sdp_strip_candidates (GstSDPMessage * msg);

G_END_DECLS
