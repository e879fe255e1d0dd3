/* daydream-rtc serve: runtime config and files in the settings folder
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Same file names and shapes as the reference tool (settings/
 * rtc_runtime_config.json: {"frame_rate", "frame_width", "frame_height"}),
 * but every write is atomic (temporary file, fsync, rename: GLib's
 * g_file_set_contents_full) and private where it matters.
 */
#include "drtc-runtime-config.h"
#include "drtc-json.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>

void
drtc_runtime_config_clamp (DrtcRuntimeConfig * c)
{
  c->frame_rate = CLAMP (c->frame_rate, 1, 240);
  c->frame_width = CLAMP (c->frame_width, 64, 4096);
  c->frame_height = CLAMP (c->frame_height, 64, 4096);
}

/**
 * drtc_runtime_config_path:
 * @stream: the stream's name
 *
 * The reference tool's file for the default stream, one file per other
 * stream beside it (rtc_runtime_config.<name>.json; names are checked by
 * the server: letters, digits, '-' and '_').
 */
gchar *
drtc_runtime_config_path (const gchar * dir, const gchar * stream)
{
  g_autofree gchar *file = NULL;

  if (!stream || g_str_equal (stream, DRTC_DEFAULT_STREAM))
    return g_build_filename (dir, DRTC_RUNTIME_CONFIG_FILE, NULL);
  file = g_strdup_printf ("rtc_runtime_config.%s.json", stream);
  return g_build_filename (dir, file, NULL);
}

/* Missing or unreadable file: the defaults (logged), as the reference. */
void
drtc_runtime_config_load (const gchar * dir, const gchar * stream,
    DrtcRuntimeConfig * config)
{
  DrtcRuntimeConfig defaults = DRTC_RUNTIME_CONFIG_DEFAULT;
  g_autofree gchar *path = drtc_runtime_config_path (dir, stream);
  g_autofree gchar *text = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) err = NULL;
  JsonObject *o;
  gint64 v;

  *config = defaults;
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return;
  if (!g_file_get_contents (path, &text, NULL, &err)
      || !(root = drtc_json_parse (text, -1, &err))
      || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_warning ("runtime config %s unreadable, using defaults: %s", path,
        err ? err->message : "not a JSON object");
    return;
  }
  o = json_node_get_object (root);
  if (drtc_json_get_int (o, "frame_rate", &v))
    config->frame_rate = (gint) CLAMP (v, G_MININT, G_MAXINT);
  if (drtc_json_get_int (o, "frame_width", &v))
    config->frame_width = (gint) CLAMP (v, G_MININT, G_MAXINT);
  if (drtc_json_get_int (o, "frame_height", &v))
    config->frame_height = (gint) CLAMP (v, G_MININT, G_MAXINT);
  drtc_runtime_config_clamp (config);
}

/**
 * drtc_runtime_config_add_members:
 *
 * Adds frame_rate, frame_width and frame_height to the object @b is
 * building: the file's members, which GET/POST /config answer too.
 */
void
drtc_runtime_config_add_members (const DrtcRuntimeConfig * c, JsonBuilder * b)
{
  drtc_json_builder_add_int (b, "frame_rate", c->frame_rate);
  drtc_json_builder_add_int (b, "frame_width", c->frame_width);
  drtc_json_builder_add_int (b, "frame_height", c->frame_height);
}

gboolean
drtc_runtime_config_save (const gchar * dir, const gchar * stream,
    const DrtcRuntimeConfig * c, GError ** error)
{
  g_autofree gchar *path = drtc_runtime_config_path (dir, stream);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  drtc_runtime_config_add_members (c, b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return drtc_write_json_atomic (path, root, TRUE, 0600, error);
}

/**
 * drtc_write_json_atomic:
 * @mode: file mode, e.g. 0600
 *
 * Writes @node to @path so that a reader sees the old or the new file,
 * never a half-written one; creates the folder (0700) when missing.
 */
gboolean
drtc_write_json_atomic (const gchar * path, JsonNode * node, gboolean pretty,
    gint mode, GError ** error)
{
  g_autofree gchar *dir = g_path_get_dirname (path);
  g_autofree gchar *text = drtc_json_to_string (node, pretty);
  g_autofree gchar *with_newline = g_strconcat (text, "\n", NULL);

  if (g_mkdir_with_parents (dir, 0700) != 0) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
        "cannot create %s: %s", dir, g_strerror (errno));
    return FALSE;
  }
  return g_file_set_contents_full (path, with_newline, -1,
      G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, mode,
      error);
}
