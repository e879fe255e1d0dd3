/* daydream-rtc: entry point (gateway | serve | demo)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <locale.h>
#include <string.h>
#include <gst/gst.h>
#include <openssl/crypto.h>

#include "drtc-gateway.h"
#include "drtc-plugin.h"
#include "drtc-serve.h"

static int
usage (int status)
{
  g_printerr ("usage: daydream-rtc COMMAND [OPTIONS]\n\n"
      "  serve     the REST control server ComfyUI workflows call\n"
      "  gateway   a local Daydream-compatible service (API, WHIP, effect, "
      "WHEP)\n\n"
      "daydream-rtc COMMAND --help shows the options of each command.\n");
  return status;
}

/* The version, and which plugin file serve would use: the first thing to
 * look at when elements misbehave after an install. */
static int
version (void)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *gst_version = NULL;

  gst_init (NULL, NULL);
  g_print ("daydream-rtc %s\n", VERSION);
  if (drtc_plugin_ensure (&err))
    g_print ("daydreamrtc plugin: %s\n", drtc_plugin_filename ());
  else
    g_print ("daydreamrtc plugin: %s\n", err->message);
  gst_version = gst_version_string ();
  g_print ("%s\n", gst_version);
  return err ? 1 : 0;
}

/* The hidden `COMMAND --list-routes`: the route table, a line per method
 * and path, for tests/app/routes.py (which checks it against the docs). */
static gboolean
list_routes (int argc, char **argv)
{
  g_autofree gchar *text = NULL;

  if (argc != 3 || !g_str_equal (argv[2], "--list-routes"))
    return FALSE;
  text = g_str_equal (argv[1], "serve") ? drtc_serve_describe_routes () :
      drtc_gateway_describe_routes ();
  g_print ("%s", text);
  return TRUE;
}

int
main (int argc, char **argv)
{
  /* GLib prints its help (and translates nothing) in the user's charset:
   * without this, the ellipsis of "[OPTION...]" comes out as "?" */
  setlocale (LC_ALL, "");
  /* numbers we print are for machines (metrics, headers, SDP): "1.5" */
  setlocale (LC_NUMERIC, "C");
  /* webrtcbin's DTLS elements use OpenSSL on threads of their own (a
   * certificate being generated for a peer that arrived just before
   * SIGTERM, say) that may still run when main returns; OpenSSL's atexit
   * cleanup then frees the locks under them (SIGSEGV in
   * CRYPTO_THREAD_write_lock, about one gateway exit in five in the node
   * pack's tests). The first init decides: no cleanup at exit, the
   * process's end frees it all. */
  OPENSSL_init_crypto (OPENSSL_INIT_NO_ATEXIT, NULL);
  if (argc < 2)
    return usage (2);
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    return usage (0);
  if (g_str_equal (argv[1], "--version")) {
    return version ();
  }
  if ((g_str_equal (argv[1], "gateway") || g_str_equal (argv[1], "serve"))
      && list_routes (argc, argv))
    return 0;
  /* each command parses its own options: shift the command away */
  if (g_str_equal (argv[1], "gateway")) {
    argv[1] = argv[0];
    return drtc_gateway_main (argc - 1, argv + 1);
  }
  if (g_str_equal (argv[1], "serve")) {
    argv[1] = argv[0];
    return drtc_serve_main (argc - 1, argv + 1);
  }
  g_printerr ("daydream-rtc: unknown command '%s'\n", argv[1]);
  return usage (2);
}
