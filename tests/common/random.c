/* daydream-rtc: tests of common/drtc-random.c */
#include "drtc-random.h"

#include <string.h>

static void
assert_token (const gchar * token, const gchar * prefix, guint bytes)
{
  g_assert_true (g_str_has_prefix (token, prefix));
  g_assert_cmpuint (strlen (token), ==, strlen (prefix) + 2 * bytes);
  for (const gchar * c = token + strlen (prefix); *c; c++)
    g_assert_true (g_ascii_isxdigit (*c) && !g_ascii_isupper (*c));
}

/* GLib's PRNG replays its output after the same seed; a CSPRNG does not:
 * an id made from g_random_* fails here */
static void
test_not_from_glib_prng (void)
{
  g_autofree gchar *a = NULL, *b = NULL;

  g_random_set_seed (42);
  a = drtc_random_token ("stk_", 16);
  g_random_set_seed (42);
  b = drtc_random_token ("stk_", 16);
  g_assert_cmpstr (a, !=, b);
}

static void
test_at_least_128_bits (void)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash,
      g_str_equal, g_free, NULL);

  for (guint i = 0; i < 1000; i++) {
    gchar *t = drtc_random_token (i % 2 ? "str_" : "", i % 20);

    /* fewer than 16 bytes asked still gives 16 */
    assert_token (t, i % 2 ? "str_" : "", MAX (i % 20, 16));
    g_assert_false (g_hash_table_contains (seen, t));
    g_hash_table_add (seen, t);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/random/not-glib-prng", test_not_from_glib_prng);
  g_test_add_func ("/random/128-bits", test_at_least_128_bits);
  return g_test_run ();
}
