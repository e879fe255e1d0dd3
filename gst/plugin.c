/* daydream-rtc: the "daydreamrtc" GStreamer plugin
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "gstframebridgesrc.h"
#include "gstwhipsink.h"
#include "gstdaydreamcontrol.h"
#include "gstwhepsrc.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ok = FALSE;

  ok |= GST_ELEMENT_REGISTER (framebridgesrc, plugin);
  ok |= GST_ELEMENT_REGISTER (whipsink, plugin);
  ok |= GST_ELEMENT_REGISTER (daydreamcontrol, plugin);
  ok |= GST_ELEMENT_REGISTER (whepsrc, plugin);
  return ok;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, daydreamrtc,
    "Live video to and from Daydream's real-time StreamDiffusion service: "
    "frame bridge, WHIP/WHEP and stream control",
    plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
