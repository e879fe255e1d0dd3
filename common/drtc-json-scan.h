/* daydream-rtc: strict, bounded JSON check before json-glib parses
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define DRTC_JSON_SCAN_ERROR (drtc_json_scan_error_quark ())
GQuark drtc_json_scan_error_quark (void);

/**
 * DrtcJsonScanError:
 * @DRTC_JSON_SCAN_ERROR_SYNTAX: not RFC 8259 JSON (single quotes, comments,
 *   trailing commas, bare words, control characters, bad UTF-8, ...)
 * @DRTC_JSON_SCAN_ERROR_DUPLICATE: an object names a member twice
 * @DRTC_JSON_SCAN_ERROR_NUMBER: a number no double or 64-bit integer holds
 * @DRTC_JSON_SCAN_ERROR_SIZE: the text is longer than the limit
 * @DRTC_JSON_SCAN_ERROR_DEPTH: arrays and objects nest deeper than the limit
 * @DRTC_JSON_SCAN_ERROR_STRING: a string (or member name) is too long
 */
typedef enum
{
  DRTC_JSON_SCAN_ERROR_SYNTAX,
  DRTC_JSON_SCAN_ERROR_DUPLICATE,
  DRTC_JSON_SCAN_ERROR_NUMBER,
  DRTC_JSON_SCAN_ERROR_SIZE,
  DRTC_JSON_SCAN_ERROR_DEPTH,
  DRTC_JSON_SCAN_ERROR_STRING,
} DrtcJsonScanError;

/* 0 in a field: the default (DRTC_JSON_DEFAULT_*) */
typedef struct
{
  gsize max_size;               /* bytes of text */
  guint max_depth;              /* nested arrays and objects */
  gsize max_string;             /* bytes of one string, as written */
} DrtcJsonLimits;

#define DRTC_JSON_DEFAULT_SIZE (1024 * 1024)
#define DRTC_JSON_DEFAULT_DEPTH 64
#define DRTC_JSON_DEFAULT_STRING (64 * 1024)

gboolean drtc_json_scan (const gchar * data, gsize length,
    const DrtcJsonLimits * limits, GError ** error);

G_END_DECLS
