/* daydream-rtc: the daydreamrtc plugin this binary was built with
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The binary loads its own plugin by file name before anything asks the
 * registry, so that it works from the build tree and from any install
 * prefix without GST_PLUGIN_PATH, and never runs with another copy of the
 * elements (an older system-wide install, say) than the one it was built
 * with. The places, in order: relative to the binary as `meson install`
 * lays them out (bindir -> libdir/gstreamer-1.0, so a DESTDIR or a moved
 * prefix works too), relative to it in the build tree (build/app ->
 * build/gst), the configured install directory. Only when none holds the
 * file does the registry (GST_PLUGIN_PATH, the system directory) decide.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "drtc-plugin.h"

#include <gst/gst.h>

static gchar *plugin_filename;

static GPtrArray *
candidates (void)
{
  g_autofree gchar *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree gchar *dir = exe ? g_path_get_dirname (exe) : NULL;
  GPtrArray *list = g_ptr_array_new_with_free_func (g_free);
  const gchar *rel[] = { DRTC_PLUGIN_FROM_BINDIR, DRTC_PLUGIN_FROM_BUILD };

  for (guint i = 0; dir && i < G_N_ELEMENTS (rel); i++) {
    g_autofree gchar *path = NULL;

    if (!*rel[i])               /* bindir or libdir outside the prefix */
      continue;
    path = g_build_filename (dir, rel[i], DRTC_PLUGIN_FILE, NULL);
    g_ptr_array_add (list, g_canonicalize_filename (path, NULL));
  }
  g_ptr_array_add (list, g_build_filename (DRTC_PLUGIN_INSTALL_DIR,
          DRTC_PLUGIN_FILE, NULL));
  return list;
}

static gboolean
load_file (const gchar * path, GError ** error)
{
  g_autoptr (GError) err = NULL;
  GstPlugin *plugin = gst_plugin_load_file (path, &err);

  if (!plugin) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "cannot load the daydreamrtc plugin %s: %s", path, err->message);
    return FALSE;
  }
  gst_object_unref (plugin);
  plugin_filename = g_strdup (path);
  g_debug ("daydreamrtc plugin: %s", path);
  return TRUE;
}

/**
 * drtc_plugin_ensure:
 *
 * After gst_init (): loads the daydreamrtc plugin from where this binary
 * expects it, else makes sure the registry has one.
 *
 * Returns: %TRUE when the plugin's elements can be made
 */
gboolean
drtc_plugin_ensure (GError ** error)
{
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GstPlugin) found = NULL;
  g_autofree gchar *looked = NULL;

  if (plugin_filename)
    return TRUE;
  list = candidates ();
  for (guint i = 0; i < list->len; i++) {
    if (g_file_test (list->pdata[i], G_FILE_TEST_IS_REGULAR))
      return load_file (list->pdata[i], error);
  }
  found = gst_registry_find_plugin (gst_registry_get (), "daydreamrtc");
  if (found && gst_plugin_get_filename (found)) {
    plugin_filename = g_strdup (gst_plugin_get_filename (found));
    return TRUE;
  }
  g_ptr_array_add (list, NULL);
  looked = g_strjoinv (", ", (gchar **) list->pdata);
  g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
      "the daydreamrtc GStreamer plugin is missing: it is in none of %s, "
      "and not in GStreamer's registry either (install daydream-rtc again, "
      "or set GST_PLUGIN_PATH to the directory holding %s)", looked,
      DRTC_PLUGIN_FILE);
  return FALSE;
}

/* (transfer none) (nullable): the plugin file in use, once ensured */
const gchar *
drtc_plugin_filename (void)
{
  return plugin_filename;
}
