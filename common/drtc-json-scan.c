/* daydream-rtc: strict, bounded JSON check before json-glib parses
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * json-glib accepts more than RFC 8259 (single-quoted strings, duplicate
 * member names: the last wins) and recurses once per nesting level, so a
 * body of 100 000 '[' overflows the stack. drtc_json_scan() reads the text
 * once, without building anything, and refuses what is not strict JSON or
 * passes the limits; its recursion is bounded by the depth limit. Only
 * then does json-glib see the bytes.
 */
#include "drtc-json-scan.h"

#include <errno.h>
#include <math.h>
#include <string.h>

G_DEFINE_QUARK (drtc - json - scan - error - quark, drtc_json_scan_error);

typedef struct
{
  const gchar *start, *p, *end;
  DrtcJsonLimits limits;
  guchar bits;                  /* OR of every string byte: 0x80, UTF-8 */
  GError **error;
} Scanner;

static gboolean scan_value (Scanner * s, guint depth);

static gboolean
fail (Scanner * s, DrtcJsonScanError code, const gchar * what)
{
  g_set_error (s->error, DRTC_JSON_SCAN_ERROR, code, "%s at byte %"
      G_GSIZE_FORMAT, what, (gsize) (s->p - s->start));
  return FALSE;
}

static void
skip_space (Scanner * s)
{
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n'
          || *s->p == '\r'))
    s->p++;
}

static gint
hex4 (const gchar * p)
{
  gint v = 0;

  for (gint i = 0; i < 4; i++) {
    gint d = g_ascii_xdigit_value (p[i]);

    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

/* One escape after the backslash at s->p; appends its text to @out. */
static gboolean
scan_escape (Scanner * s, GString * out)
{
  static const gchar from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
  const gchar *hit;
  gint u;

  if (s->p + 1 >= s->end)
    return fail (s, DRTC_JSON_SCAN_ERROR_SYNTAX, "unterminated string");
  hit = s->p[1] ? strchr (from, s->p[1]) : NULL;
  if (hit) {
    if (out)
      g_string_append_c (out, to[hit - from]);
    s->p += 2;
    return TRUE;
  }
  if (s->p[1] != 'u' || s->end - s->p < 6 || (u = hex4 (s->p + 2)) < 0)
    return fail (s, DRTC_JSON_SCAN_ERROR_SYNTAX, "invalid escape in string");
  s->p += 6;
  if (u >= 0xd800 && u < 0xdc00 && s->end - s->p >= 6 && s->p[0] == '\\'
      && s->p[1] == 'u') {
    gint low = hex4 (s->p + 2);

    if (low >= 0xdc00 && low < 0xe000) {
      u = 0x10000 + ((u - 0xd800) << 10) + (low - 0xdc00);
      s->p += 6;
    }
  }
  /* json-glib keeps strings as C strings: it would cut the text here */
  if (u == 0)
    return fail (s, DRTC_JSON_SCAN_ERROR_SYNTAX, "\\u0000 in a string");
  if (out)
    g_string_append_unichar (out, u);
  return TRUE;
}

/* A string at s->p (the opening quote); member names are decoded into
 * @out to compare them. */
static gboolean
scan_string (Scanner * s, GString * out)
{
  const gchar *open = s->p++;
  /* the closing quote may come right after max_string bytes */
  const gchar *limit = (gsize) (s->end - open) > s->limits.max_string + 2 ?
      open + s->limits.max_string + 2 : s->end;

  while (s->p < limit && *s->p != '"') {
    if (!out) {
      /* plain characters, the bulk of a base64 image: locals, so that the
       * loop keeps them in registers */
      const guchar *q = (const guchar *) s->p, *q_end = (const guchar *) limit;
      guchar bits = 0;

      while (q < q_end && *q >= 0x20 && *q != '"' && *q != '\\')
        bits |= *q++;
      s->bits |= bits;
      s->p = (const gchar *) q;
      if (q == q_end || *q == '"')
        continue;
    }
    s->bits |= (guchar) * s->p;
    if ((guchar) * s->p < 0x20)
      return fail (s, DRTC_JSON_SCAN_ERROR_SYNTAX,
          "control character in string");
    if (*s->p == '\\') {
      if (!scan_escape (s, out))
        return FALSE;
      continue;
    }
    if (out)
      g_string_append_c (out, *s->p);
    s->p++;
  }
  if (s->p >= s->end)
    return fail (s, DRTC_JSON_SCAN_ERROR_SYNTAX, "unterminated string");
  if (s->p >= limit) {
    g_set_error (s->error, DRTC_JSON_SCAN_ERROR, DRTC_JSON_SCAN_ERROR_STRING,
        "a JSON string is longer than %" G_GSIZE_FORMAT " bytes (at byte %"
        G_GSIZE_FORMAT ")", s->limits.max_string, (gsize) (open - s->start));
    return FALSE;
  }
  s->p++;
  return TRUE;
}

static gboolean
skip_digits (Scanner * s)
{
  const gchar *from = s->p;

  while (s->p < s->end && g_ascii_isdigit (*s->p))
    s->p++;
  return s->p > from;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, and in range */
static gboolean
scan_number (Scanner * s)
{
  const gchar *from = s->p;
  gboolean integer = TRUE;
  g_autofree gchar *text = NULL;

  if (*s->p == '-')
    s->p++;
  if (s->p < s->end && *s->p == '0')
    s->p++;
  else if (!skip_digits (s))
    return fail (s, DRTC_JSON_SCAN_ERROR_SYNTAX, "invalid number");
  if (s->p < s->end && *s->p == '.') {
    s->p++;
    integer = FALSE;
    if (!skip_digits (s))
      return fail (s, DRTC_JSON_SCAN_ERROR_SYNTAX, "invalid number");
  }
  if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
    s->p++;
    integer = FALSE;
    if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
      s->p++;
    if (!skip_digits (s))
      return fail (s, DRTC_JSON_SCAN_ERROR_SYNTAX, "invalid number");
  }
  text = g_strndup (from, s->p - from);
  errno = 0;
  if (integer)
    g_ascii_strtoll (text, NULL, 10);
  else if (!isfinite (g_ascii_strtod (text, NULL)))
    errno = ERANGE;
  if (errno == ERANGE) {
    s->p = from;
    return fail (s, DRTC_JSON_SCAN_ERROR_NUMBER, integer ?
        "integer out of the 64-bit range" : "number out of the double range");
  }
  return TRUE;
}

static gboolean
scan_word (Scanner * s, const gchar * word)
{
  gsize n = strlen (word);

  if ((gsize) (s->end - s->p) < n || memcmp (s->p, word, n) != 0)
    return fail (s, DRTC_JSON_SCAN_ERROR_SYNTAX, "invalid JSON value");
  s->p += n;
  return TRUE;
}

static gboolean
scan_member (Scanner * s, guint depth, GHashTable * names)
{
  GString *name;
  const gchar *at = s->p;

  if (s->p >= s->end || *s->p != '"')
    return fail (s, DRTC_JSON_SCAN_ERROR_SYNTAX,
        "expected a member name in double quotes");
  name = g_string_new (NULL);
  if (!scan_string (s, name)) {
    g_string_free (name, TRUE);
    return FALSE;
  }
  if (!g_hash_table_add (names, g_string_free (name, FALSE))) {
    s->p = at;
    return fail (s, DRTC_JSON_SCAN_ERROR_DUPLICATE, "duplicate member name");
  }
  skip_space (s);
  if (s->p >= s->end || *s->p != ':')
    return fail (s, DRTC_JSON_SCAN_ERROR_SYNTAX, "expected ':'");
  s->p++;
  return scan_value (s, depth);
}

/* An object or array at s->p; @depth counts it. */
static gboolean
scan_container (Scanner * s, guint depth)
{
  gboolean object = *s->p == '{';
  gchar close = object ? '}' : ']';
  g_autoptr (GHashTable) names = NULL;

  if (depth > s->limits.max_depth) {
    g_set_error (s->error, DRTC_JSON_SCAN_ERROR, DRTC_JSON_SCAN_ERROR_DEPTH,
        "JSON nests deeper than %u levels", s->limits.max_depth);
    return FALSE;
  }
  if (object)
    names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  s->p++;
  skip_space (s);
  if (s->p < s->end && *s->p == close) {
    s->p++;
    return TRUE;
  }
  for (;;) {
    if (!(object ? scan_member (s, depth, names) : scan_value (s, depth)))
      return FALSE;
    skip_space (s);
    if (s->p < s->end && *s->p == close) {
      s->p++;
      return TRUE;
    }
    if (s->p >= s->end || *s->p != ',')
      return fail (s, DRTC_JSON_SCAN_ERROR_SYNTAX, object ?
          "expected ',' or '}'" : "expected ',' or ']'");
    s->p++;
    skip_space (s);
  }
}

/* @depth: the containers around this value */
static gboolean
scan_value (Scanner * s, guint depth)
{
  skip_space (s);
  if (s->p >= s->end)
    return fail (s, DRTC_JSON_SCAN_ERROR_SYNTAX, "expected a JSON value");
  switch (*s->p) {
    case '{':
    case '[':
      return scan_container (s, depth + 1);
    case '"':
      return scan_string (s, NULL);
    case 't':
      return scan_word (s, "true");
    case 'f':
      return scan_word (s, "false");
    case 'n':
      return scan_word (s, "null");
    default:
      if (*s->p == '-' || g_ascii_isdigit (*s->p))
        return scan_number (s);
      return fail (s, DRTC_JSON_SCAN_ERROR_SYNTAX, "invalid JSON value");
  }
}

/**
 * drtc_json_scan:
 * @limits: (nullable): the bounds; NULL or 0 fields: the defaults
 *
 * Returns: TRUE when @data is one strict RFC 8259 JSON text within
 *   @limits; else FALSE with a DRTC_JSON_SCAN_ERROR that names the limit
 */
gboolean
drtc_json_scan (const gchar * data, gsize length,
    const DrtcJsonLimits * limits, GError ** error)
{
  Scanner s = { data, data, data + length, {0}, 0, error };

  if (limits)
    s.limits = *limits;
  if (!s.limits.max_size)
    s.limits.max_size = DRTC_JSON_DEFAULT_SIZE;
  if (!s.limits.max_depth)
    s.limits.max_depth = DRTC_JSON_DEFAULT_DEPTH;
  if (!s.limits.max_string)
    s.limits.max_string = DRTC_JSON_DEFAULT_STRING;
  if (length > s.limits.max_size) {
    g_set_error (error, DRTC_JSON_SCAN_ERROR, DRTC_JSON_SCAN_ERROR_SIZE,
        "JSON text longer than %" G_GSIZE_FORMAT " bytes", s.limits.max_size);
    return FALSE;
  }
  if (!scan_value (&s, 0))
    return FALSE;
  skip_space (&s);
  if (s.p != s.end)
    return fail (&s, DRTC_JSON_SCAN_ERROR_SYNTAX, "text after the JSON value");
  /* outside strings only ASCII passes; inside, check what is not ASCII */
  if ((s.bits & 0x80) && !g_utf8_validate_len (data, length, NULL)) {
    g_set_error_literal (error, DRTC_JSON_SCAN_ERROR,
        DRTC_JSON_SCAN_ERROR_SYNTAX, "JSON text is not valid UTF-8");
    return FALSE;
  }
  return TRUE;
}
