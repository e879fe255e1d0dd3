/* daydream-rtc: logging levels for the commands (-v, -vv)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GLib structured logging throughout, all of it on stderr (stdout is for
 * the "listening on" line). Messages, warnings and errors always go out
 * (to the journal when stderr is connected to it); -v adds info,
 * -vv debug, -vvv also the GStreamer debug log of our elements. The
 * G_MESSAGES_DEBUG environment variable keeps working as usual.
 */
#include "drtc-log.h"

#include <stdio.h>
#include <gst/gst.h>

static gint verbosity;

static gboolean
on_verbose (const gchar * name, const gchar * value, gpointer data,
    GError ** error)
{
  verbosity++;
  return TRUE;
}

/**
 * drtc_log_add_options:
 *
 * -v/--verbose (repeatable) among the command's main options. Call it
 * before any thread exists (before the options are parsed: gst_init starts
 * threads).
 */
void
drtc_log_add_options (GOptionContext * ctx)
{
  static const GOptionEntry entries[] = {
    {"verbose", 'v', G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, on_verbose,
        "More log: -v info, -vv debug, -vvv also GStreamer debug of our "
          "elements", NULL},
    {NULL}
  };

  /* stdout carries the "listening on" line that callers read; a parent
   * that reads no more of it must not block us with -v output. GLib allows
   * this only while no thread exists (a GLib-CRITICAL otherwise). */
  g_log_writer_default_set_use_stderr (TRUE);
  g_option_context_add_main_entries (ctx, entries, NULL);
}

static GLogWriterOutput
write_log (GLogLevelFlags level, const GLogField * fields, gsize n_fields,
    gpointer data)
{
  gboolean wanted = (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL |
          G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE))
      || ((level & G_LOG_LEVEL_INFO) && verbosity >= 1)
      || ((level & G_LOG_LEVEL_DEBUG) && verbosity >= 2);

  if (!wanted)                  /* G_MESSAGES_DEBUG still applies */
    return g_log_writer_default (level, fields, n_fields, data);
  if (g_log_writer_is_journald (fileno (stderr)))
    return g_log_writer_journald (level, fields, n_fields, data);
  return g_log_writer_standard_streams (level, fields, n_fields, data);
}

/**
 * drtc_log_setup:
 *
 * After option parsing: applies the -v level.
 */
void
drtc_log_setup (void)
{
  g_log_set_writer_func (write_log, NULL, NULL);
  if (verbosity >= 3)
    gst_debug_set_threshold_from_string ("framebridgesrc:6,whipsink:6,"
        "whepsrc:6,daydreamcontrol:6,webrtcbin:4", FALSE);
}
