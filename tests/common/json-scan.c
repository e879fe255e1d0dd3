/* daydream-rtc: tests of common/drtc-json-scan.c and drtc-json.c's writer */
#include "drtc-json.h"

#include <math.h>
#include <string.h>

typedef struct
{
  const gchar *text;
  gint code;                    /* -1: accepted */
} Case;

static const Case cases[] = {
  {"{\"a\": [1, -0.5e-3, true, false, null, \"\\u00e9\\ud83d\\ude00\"]}", -1},
  {"  \"plain\"  ", -1},
  {"{\"a\": 1, \"b\": {\"a\": 2}}", -1},        /* same name, other object */
  {"{'a': 1}", DRTC_JSON_SCAN_ERROR_SYNTAX},
  {"{\"a\": 'x'}", DRTC_JSON_SCAN_ERROR_SYNTAX},
  {"{\"a\": 1,}", DRTC_JSON_SCAN_ERROR_SYNTAX},
  {"[1 2]", DRTC_JSON_SCAN_ERROR_SYNTAX},
  {"[01]", DRTC_JSON_SCAN_ERROR_SYNTAX},
  {"[1.]", DRTC_JSON_SCAN_ERROR_SYNTAX},
  {"[.5]", DRTC_JSON_SCAN_ERROR_SYNTAX},
  {"[+1]", DRTC_JSON_SCAN_ERROR_SYNTAX},
  {"[NaN]", DRTC_JSON_SCAN_ERROR_SYNTAX},
  {"[Infinity]", DRTC_JSON_SCAN_ERROR_SYNTAX},
  {"[\"a\tb\"]", DRTC_JSON_SCAN_ERROR_SYNTAX},
  {"[\"\\x41\"]", DRTC_JSON_SCAN_ERROR_SYNTAX},
  {"[\"\\u00\"]", DRTC_JSON_SCAN_ERROR_SYNTAX},
  {"[\"\\u0000\"]", DRTC_JSON_SCAN_ERROR_SYNTAX},
  {"[\"\xff\"]", DRTC_JSON_SCAN_ERROR_SYNTAX},
  {"/* c */ 1", DRTC_JSON_SCAN_ERROR_SYNTAX},
  {"1 2", DRTC_JSON_SCAN_ERROR_SYNTAX},
  {"", DRTC_JSON_SCAN_ERROR_SYNTAX},
  {"[\"open", DRTC_JSON_SCAN_ERROR_SYNTAX},
  {"{\"a\": 1, \"a\": 2}", DRTC_JSON_SCAN_ERROR_DUPLICATE},
  {"{\"a\": 1, \"\\u0061\": 2}", DRTC_JSON_SCAN_ERROR_DUPLICATE},
  {"[1e400]", DRTC_JSON_SCAN_ERROR_NUMBER},
  {"[-1e400]", DRTC_JSON_SCAN_ERROR_NUMBER},
  {"[99999999999999999999]", DRTC_JSON_SCAN_ERROR_NUMBER},
  {"[1e308]", -1},
};

static void
test_strict (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) err = NULL;
    gboolean ok = drtc_json_scan (cases[i].text, strlen (cases[i].text), NULL,
        &err);

    if (cases[i].code < 0) {
      g_assert_no_error (err);
      g_assert_true (ok);
    } else {
      g_assert_error (err, DRTC_JSON_SCAN_ERROR, cases[i].code);
    }
  }
}

static void
test_limits (void)
{
  DrtcJsonLimits limits = { 64, 3, 4 };
  g_autoptr (GError) deep = NULL, depth_ok = NULL, len = NULL, size = NULL;
  GString *huge = g_string_new (NULL);

  g_assert_true (drtc_json_scan ("[[[\"abcd\"]]]", 12, &limits, &depth_ok));
  g_assert_false (drtc_json_scan ("[[[[1]]]]", 9, &limits, &deep));
  g_assert_error (deep, DRTC_JSON_SCAN_ERROR, DRTC_JSON_SCAN_ERROR_DEPTH);
  g_assert_nonnull (strstr (deep->message, "3 levels"));
  g_assert_false (drtc_json_scan ("[\"abcde\"]", 9, &limits, &len));
  g_assert_error (len, DRTC_JSON_SCAN_ERROR, DRTC_JSON_SCAN_ERROR_STRING);
  /* the default depth (64) holds 10^5 levels back, without recursing */
  for (gint i = 0; i < 100000; i++)
    g_string_append_c (huge, '[');
  for (gint i = 0; i < 100000; i++)
    g_string_append_c (huge, ']');
  g_assert_null (drtc_json_parse (huge->str, huge->len, &size));
  g_assert_error (size, DRTC_JSON_SCAN_ERROR, DRTC_JSON_SCAN_ERROR_DEPTH);
  g_string_free (huge, TRUE);
}

/* json-glib 1.6 writes 1e+20.0 and inf.0: what we write is JSON */
static void
test_numbers_written (void)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *text = NULL;
  g_autoptr (JsonNode) back = NULL;

  json_builder_begin_array (b);
  json_builder_add_double_value (b, 1e308);
  json_builder_add_double_value (b, -1e20);
  json_builder_add_double_value (b, 30.0);
  json_builder_add_double_value (b, 0.25);
  json_builder_add_double_value (b, INFINITY);
  json_builder_add_double_value (b, NAN);
  json_builder_add_string_value (b, "1e+20.0 inf.0 \"q\"");
  json_builder_end_array (b);
  root = json_builder_get_root (b);
  text = drtc_json_to_string (root, FALSE);
  g_assert_cmpstr (text, ==,
      "[1e+308,-1e+20,30.0,0.25,null,null,\"1e+20.0 inf.0 \\\"q\\\"\"]");
  back = drtc_json_parse (text, -1, NULL);
  g_assert_nonnull (back);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/json-scan/strict", test_strict);
  g_test_add_func ("/json-scan/limits", test_limits);
  g_test_add_func ("/json/numbers-written", test_numbers_written);
  return g_test_run ();
}
