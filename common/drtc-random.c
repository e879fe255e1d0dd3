/* daydream-rtc: identifiers and keys from the kernel's CSPRNG
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Stream ids, stream keys and session ids are capabilities: whoever knows
 * one can publish to or watch a stream. They come from getrandom(2), never
 * from g_random_* or g_uuid_string_random (GLib's Mersenne Twister, whose
 * output can be predicted from earlier output).
 */
#include "drtc-random.h"

#include <errno.h>
#include <sys/random.h>

static void
fill_random (guint8 * buf, gsize len)
{
  gsize done = 0;

  while (done < len) {
    gssize n = getrandom (buf + done, len - done, 0);

    if (n < 0 && errno == EINTR)
      continue;
    /* no entropy source at all: nothing safe to hand out */
    if (n < 0)
      g_error ("getrandom failed: %s", g_strerror (errno));
    done += n;
  }
}

/**
 * drtc_random_token:
 * @prefix: (nullable): put in front, e.g. "stk_"
 * @bytes: random bytes, at least #DRTC_RANDOM_MIN_BYTES (128 bits) are
 *   used whatever is asked
 *
 * Returns: (transfer full): @prefix and 2 * @bytes lower-case hex digits
 */
gchar *
drtc_random_token (const gchar * prefix, guint bytes)
{
  guint n = MAX (bytes, DRTC_RANDOM_MIN_BYTES);
  g_autofree guint8 *buf = g_malloc (n);
  GString *s = g_string_new (prefix);

  fill_random (buf, n);
  for (guint i = 0; i < n; i++)
    g_string_append_printf (s, "%02x", buf[i]);
  return g_string_free (s, FALSE);
}
