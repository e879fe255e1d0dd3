/* daydream-rtc: what a browser may ask of serve and the gateway
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _DrtcHttpGuard DrtcHttpGuard;

/* How a server words a refusal ({"detail"} for serve, {"error"} for the
 * gateway) */
typedef void (*DrtcGuardReplyFunc) (SoupServerMessage * msg, guint status,
    const gchar * detail);

/* libsoup 3.2 names neither */
#define DRTC_STATUS_MISDIRECTED_REQUEST 421
#define DRTC_STATUS_UNSUPPORTED_MEDIA_TYPE 415

DrtcHttpGuard *drtc_http_guard_new (const gchar * bound_host,
    const gchar * const *extra_hosts, const gchar * const *origins,
    gboolean with_comfyui, GError ** error);
void drtc_http_guard_free (DrtcHttpGuard * guard);
void drtc_http_guard_set_port (DrtcHttpGuard * guard, guint port);
const gchar *drtc_http_guard_check (DrtcHttpGuard * guard,
    SoupServerMessage * msg, const gchar * const *body_types, guint * status);
gboolean drtc_http_guard_cors (DrtcHttpGuard * guard,
    SoupServerMessage * msg, const gchar * expose);
void drtc_http_guard_refuse (SoupServerMessage * msg, guint status,
    const gchar * detail, DrtcGuardReplyFunc reply);
void drtc_http_guard_answer_now (SoupServerMessage * msg);
void drtc_http_guard_limit_body (SoupServerMessage * msg, goffset limit,
    DrtcGuardReplyFunc reply);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DrtcHttpGuard, drtc_http_guard_free)

G_END_DECLS
