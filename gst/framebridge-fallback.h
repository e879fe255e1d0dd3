/* daydream-rtc: what framebridgesrc sends before the first pushed frame
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

#include "gstframebridgesrc.h"

G_BEGIN_DECLS

typedef struct _FrameBridgeFallback FrameBridgeFallback;

gboolean framebridge_fallback_validate (GstDaydreamFrameBridgeFallback kind,
    const gchar * location, const gchar * pattern, GError ** error);

/* Owned by the streaming thread of one framebridgesrc; not thread-safe. */
FrameBridgeFallback *framebridge_fallback_new (GstDaydreamFrameBridgeFallback kind,
    const gchar * location, const gchar * pattern);
void framebridge_fallback_free (FrameBridgeFallback * fb);

/* The next frame in @caps (fixed raw video; a change rebuilds the source).
 * (transfer full): a buffer, or NULL with @error set on failure, or NULL and
 * no error when nothing came within @timeout (the caller repeats). */
GstBuffer *framebridge_fallback_next (FrameBridgeFallback * fb, GstCaps * caps,
    GstClockTime timeout, GError ** error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FrameBridgeFallback, framebridge_fallback_free)

G_END_DECLS
