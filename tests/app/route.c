/* The route table's matching (app/drtc-http-route.c) */
#include "drtc-http-route.h"

#include <string.h>

static void
nop (gpointer server, SoupServerMessage * msg, DrtcRouteMatch * m)
{
}

static const DrtcHttpRoute routes[] = {
  {"GET", "/healthz", nop, DRTC_ROUTE_PUBLIC},
  {"POST", "/start", nop, DRTC_ROUTE_PER_STREAM},
  {"GET", "/config", nop, DRTC_ROUTE_PER_STREAM},
  {"POST", "/config", nop, DRTC_ROUTE_PER_STREAM},
  {"DELETE", "", nop, DRTC_ROUTE_ONLY_PER_STREAM},
  {"POST", "/live/{key}/whip", nop, 0},
  {"POST", "/live/{key}-out/whep", nop, 0},
  {"DELETE", "/live/{key}-out/whep/{viewer}", nop, 0},
};

static const DrtcRouteTable table = {
  routes, G_N_ELEMENTS (routes), "/streams/{name}"
};

/* the index of the route found, -1 for none; the method's fit; params */
static gint
find (const gchar * method, const gchar * path, gboolean * ok,
    const gchar * p0, const gchar * p1)
{
  g_auto (DrtcRouteMatch) m = { 0 };
  const DrtcHttpRoute *r = drtc_route_table_find (&table, method, path, &m,
      ok);

  if (!r) {
    g_assert_null (m.route);
    return -1;
  }
  g_assert_true (m.route == r);
  g_assert_cmpstr (m.param[0], ==, p0);
  g_assert_cmpstr (m.param[1], ==, p1);
  return r - routes;
}

static void
test_find (void)
{
  gboolean ok;

  g_assert_cmpint (find ("GET", "/healthz", &ok, NULL, NULL), ==, 0);
  g_assert_true (ok);
  g_assert_cmpint (find ("HEAD", "/healthz", &ok, NULL, NULL), ==, 0);
  g_assert_true (ok);
  g_assert_cmpint (find ("POST", "/healthz", &ok, NULL, NULL), ==, 0);
  g_assert_false (ok);
  g_assert_cmpint (find ("GET", "/healthz/", &ok, NULL, NULL), ==, -1);
  g_assert_cmpint (find ("GET", "/healthzz", &ok, NULL, NULL), ==, -1);
  g_assert_cmpint (find ("GET", "/streams/a/healthz", &ok, NULL, NULL), ==, -1);
  g_assert_cmpint (find ("POST", "/start", &ok, NULL, NULL), ==, 1);
  g_assert_cmpint (find ("POST", "/streams/cam-1/start", &ok, "cam-1",
          NULL), ==, 1);
  g_assert_true (ok);
  g_assert_cmpint (find ("POST", "/streams/x/config", &ok, "x", NULL), ==, 3);
  g_assert_true (ok);
  g_assert_cmpint (find ("PUT", "/config", &ok, NULL, NULL), ==, 2);
  g_assert_false (ok);
  /* only per stream */
  g_assert_cmpint (find ("DELETE", "/streams/x", &ok, "x", NULL), ==, 4);
  g_assert_cmpint (find ("DELETE", "", &ok, NULL, NULL), ==, -1);
  g_assert_cmpint (find ("DELETE", "/streams/", &ok, "", NULL), ==, 4);
  /* a placeholder with a literal tail */
  g_assert_cmpint (find ("POST", "/live/stk_1/whip", &ok, "stk_1", NULL), ==,
      5);
  g_assert_cmpint (find ("POST", "/live/stk_1-out/whep", &ok, "stk_1",
          NULL), ==, 6);
  g_assert_cmpint (find ("POST", "/live/stk_1/whep", &ok, NULL, NULL), ==, -1);
  g_assert_cmpint (find ("GET", "/live/k-out/whep/v1", &ok, "k", "v1"), ==, 7);
  g_assert_false (ok);
  g_assert_cmpint (find ("DELETE", "/live/k-out/whep/v1/x", &ok, NULL,
          NULL), ==, -1);
}

static void
test_allow_and_describe (void)
{
  g_autofree gchar *allow =
      drtc_route_table_allow (&table, "/streams/a/config");
  g_autofree gchar *none = drtc_route_table_allow (&table, "/nope");
  g_autofree gchar *text = drtc_route_table_describe (&table);

  g_assert_cmpstr (allow, ==, "GET, POST");
  g_assert_cmpstr (none, ==, "");
  g_assert_nonnull (strstr (text, "GET /healthz\n"));
  g_assert_nonnull (strstr (text, "POST /start\nPOST /streams/{name}/start\n"));
  g_assert_nonnull (strstr (text, "DELETE /streams/{name}\n"));
  g_assert_null (strstr (text, "DELETE \n"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/route/find", test_find);
  g_test_add_func ("/route/allow-and-describe", test_allow_and_describe);
  return g_test_run ();
}
