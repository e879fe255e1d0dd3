/* daydream-rtc: SDP helpers on GstSDP
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "drtc-sdp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* *INDENT-OFF* */
G_DEFINE_QUARK (drtc-sdp-error-quark, drtc_sdp_error);
/* *INDENT-ON* */

/**
 * drtc_sdp_parse:
 * @text: SDP text, from the network
 *
 * Returns: (transfer full): the message, or %NULL with @error set
 */
GstSDPMessage *
drtc_sdp_parse (const gchar * text, GError ** error)
{
  GstSDPMessage *msg = NULL;

  if (!text || !g_str_has_prefix (text, "v=0")) {
    g_set_error (error, DRTC_SDP_ERROR, DRTC_SDP_ERROR_PARSE,
        "body is not an SDP description (it must start with v=0)");
    return NULL;
  }
  gst_sdp_message_new (&msg);
  if (gst_sdp_message_parse_buffer ((const guint8 *) text, strlen (text),
          msg) != GST_SDP_OK || gst_sdp_message_medias_len (msg) == 0) {
    gst_sdp_message_free (msg);
    g_set_error (error, DRTC_SDP_ERROR, DRTC_SDP_ERROR_PARSE,
        "SDP description has no media section");
    return NULL;
  }
  return msg;
}

/* The encoding name of @pt in @media ("H264"), or NULL. */
static gchar *
payload_encoding (const GstSDPMedia * media, gint pt)
{
  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, i);
    gint n;
    gchar name[32];

    if (g_strcmp0 (attr->key, "rtpmap") != 0 || !attr->value)
      continue;
    if (sscanf (attr->value, "%d %31[^/]", &n, name) == 2 && n == pt)
      return g_ascii_strup (name, -1);
  }
  return NULL;
}

static const gchar *
payload_fmtp (const GstSDPMedia * media, gint pt)
{
  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, i);
    gint n;

    if (g_strcmp0 (attr->key, "fmtp") == 0 && attr->value
        && sscanf (attr->value, "%d", &n) == 1 && n == pt)
      return attr->value;
  }
  return "";
}

/* Higher is better: packetization-mode=1 and a baseline profile first, as
 * the Daydream gateway and every browser decode those. */
static gint
h264_score (const gchar * fmtp)
{
  gint score = 0;

  if (strstr (fmtp, "packetization-mode=1"))
    score += 4;
  if (strstr (fmtp, "profile-level-id=42e0") || strstr (fmtp,
          "profile-level-id=42c0"))
    score += 2;
  else if (strstr (fmtp, "profile-level-id=4200"))
    score += 1;
  return score;
}

/* Removes every attribute that names payload @pt (rtpmap, fmtp, rtcp-fb). */
static void
remove_payload_attributes (GstSDPMedia * media, gint pt)
{
  for (guint i = gst_sdp_media_attributes_len (media); i > 0; i--) {
    const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, i - 1);
    gint n;

    if ((g_strcmp0 (attr->key, "rtpmap") == 0
            || g_strcmp0 (attr->key, "fmtp") == 0
            || g_strcmp0 (attr->key, "rtcp-fb") == 0) && attr->value
        && sscanf (attr->value, "%d", &n) == 1 && n == pt)
      gst_sdp_media_remove_attribute (media, i - 1);
  }
}

static gboolean
keep_codec_in_media (GstSDPMedia * media, const gchar * encoding, gint * chosen)
{
  gint best = -1, best_score = -1;

  for (guint i = 0; i < gst_sdp_media_formats_len (media); i++) {
    gint pt = atoi (gst_sdp_media_get_format (media, i));
    g_autofree gchar *enc = payload_encoding (media, pt);
    gint score;

    if (g_strcmp0 (enc, encoding) != 0)
      continue;
    score = g_str_equal (encoding, "H264") ?
        h264_score (payload_fmtp (media, pt)) : 0;
    if (score > best_score) {
      best = pt;
      best_score = score;
    }
  }
  if (best < 0)
    return FALSE;
  for (guint i = gst_sdp_media_formats_len (media); i > 0; i--) {
    gint pt = atoi (gst_sdp_media_get_format (media, i - 1));

    if (pt != best) {
      gst_sdp_media_remove_format (media, i - 1);
      remove_payload_attributes (media, pt);
    }
  }
  *chosen = best;
  return TRUE;
}

/**
 * drtc_sdp_keep_codec:
 * @msg: an offer, changed in place
 * @encoding: upper-case encoding name, "H264"
 * @payload: (out) (optional): the payload type kept
 *
 * Keeps, in every video section, only the best payload of @encoding (and
 * drops the others with their rtpmap/fmtp/rtcp-fb lines, RTX included), so
 * that an answer made from it can only pick that codec.
 *
 * Returns: %FALSE with @error when a video section lacks @encoding
 */
gboolean
drtc_sdp_keep_codec (GstSDPMessage * msg, const gchar * encoding,
    gint * payload, GError ** error)
{
  gboolean have_video = FALSE;
  gint chosen = -1;

  for (guint i = 0; i < gst_sdp_message_medias_len (msg); i++) {
    GstSDPMedia *media = (GstSDPMedia *) gst_sdp_message_get_media (msg, i);

    if (g_strcmp0 (gst_sdp_media_get_media (media), "video") != 0)
      continue;
    have_video = TRUE;
    if (!keep_codec_in_media (media, encoding, &chosen)) {
      g_set_error (error, DRTC_SDP_ERROR, DRTC_SDP_ERROR_CODEC,
          "the offer's video has no %s payload; this endpoint takes %s only",
          encoding, encoding);
      return FALSE;
    }
  }
  if (!have_video) {
    g_set_error (error, DRTC_SDP_ERROR, DRTC_SDP_ERROR_NO_VIDEO,
        "the offer has no video section");
    return FALSE;
  }
  if (payload)
    *payload = chosen;
  return TRUE;
}

/**
 * drtc_sdp_find_payload:
 *
 * Returns: the first payload type of @encoding in a video section, or -1
 */
gint
drtc_sdp_find_payload (const GstSDPMessage * msg, const gchar * encoding)
{
  for (guint i = 0; i < gst_sdp_message_medias_len (msg); i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (msg, i);

    if (g_strcmp0 (gst_sdp_media_get_media (media), "video") != 0)
      continue;
    for (guint f = 0; f < gst_sdp_media_formats_len (media); f++) {
      gint pt = atoi (gst_sdp_media_get_format (media, f));
      g_autofree gchar *enc = payload_encoding (media, pt);

      if (g_strcmp0 (enc, encoding) == 0)
        return pt;
    }
  }
  return -1;
}

/**
 * drtc_sdp_payload_caps:
 *
 * Returns: (transfer full) (nullable): application/x-rtp caps for payload
 *   @pt of the first video section, as webrtcbin's pads want them
 */
GstCaps *
drtc_sdp_payload_caps (const GstSDPMessage * msg, gint pt)
{
  for (guint i = 0; i < gst_sdp_message_medias_len (msg); i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (msg, i);
    GstCaps *caps;
    GstStructure *s;

    if (g_strcmp0 (gst_sdp_media_get_media (media), "video") != 0)
      continue;
    caps = gst_sdp_media_get_caps_from_media (media, pt);
    if (!caps)
      return NULL;
    s = gst_caps_get_structure (caps, 0);
    gst_structure_set_name (s, "application/x-rtp");
    /* feedback and extmap fields belong to the transport, not the pad */
    gst_structure_remove_fields (s, "rtcp-fb-nack", "rtcp-fb-nack-pli",
        "rtcp-fb-ccm-fir", "rtcp-fb-goog-remb", "rtcp-fb-transport-cc", NULL);
    return caps;
  }
  return NULL;
}

void
drtc_sdp_candidate_free (DrtcSdpCandidate * candidate)
{
  if (!candidate)
    return;
  g_free (candidate->candidate);
  g_free (candidate);
}

/**
 * drtc_sdp_frag_candidates:
 * @frag: an application/trickle-ice-sdpfrag body (RFC 8840)
 *
 * Returns: (transfer full) (element-type DrtcSdpCandidate): the candidates
 *   with the index of the media section they belong to
 */
GPtrArray *
drtc_sdp_frag_candidates (const gchar * frag, GError ** error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify)
      drtc_sdp_candidate_free);
  g_auto (GStrv) lines = g_strsplit (frag ? frag : "", "\n", -1);
  gint mline = -1;

  for (guint i = 0; lines[i]; i++) {
    gchar *line = g_strstrip (lines[i]);

    if (g_str_has_prefix (line, "m=")) {
      mline++;
    } else if (g_str_has_prefix (line, "a=candidate:")) {
      DrtcSdpCandidate *c = g_new0 (DrtcSdpCandidate, 1);

      c->mline = MAX (mline, 0);
      c->candidate = g_strdup (line + 2);
      g_ptr_array_add (out, c);
    } else if (*line && !g_str_has_prefix (line, "a=")) {
      g_set_error (error, DRTC_SDP_ERROR, DRTC_SDP_ERROR_PARSE,
          "not an SDP fragment line: '%.40s'", line);
      return NULL;
    }
  }
  return g_steal_pointer (&out);
}

/**
 * drtc_sdp_strip_candidates:
 * @msg: changed in place
 *
 * Removes every a=candidate and a=end-of-candidates line: for an offer
 * whose candidates all go by trickle (RFC 8840), so that none is sent
 * twice.
 */
void
drtc_sdp_strip_candidates (GstSDPMessage * msg)
{
  for (guint m = 0; m < gst_sdp_message_medias_len (msg); m++) {
    GstSDPMedia *media = (GstSDPMedia *) gst_sdp_message_get_media (msg, m);

    for (gint i = (gint) gst_sdp_media_attributes_len (media) - 1; i >= 0; i--) {
      const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, i);

      if (g_str_equal (a->key, "candidate")
          || g_str_equal (a->key, "end-of-candidates"))
        gst_sdp_media_remove_attribute (media, i);
    }
  }
}
