/* daydream-rtc: whepsrc: the settings a connection runs with
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A connection takes a copy of the properties when it starts, so that a
 * property set while it runs takes effect from the next run on.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whepsrc-private.h"

#define GST_CAT_DEFAULT gst_daydream_whep_src_debug

WhepSettings *
whep_settings_copy (const WhepSettings * s)
{
  WhepSettings *c = g_new0 (WhepSettings, 1);

  *c = *s;
  c->endpoint = g_strdup (s->endpoint);
  c->auth_token = g_strdup (s->auth_token);
  c->stun_server = g_strdup (s->stun_server);
  c->turn_server = g_strdup (s->turn_server);
  c->local_addresses = g_strdupv (s->local_addresses);
  c->video_caps = s->video_caps ? gst_caps_ref (s->video_caps) : NULL;
  c->audio_caps = s->audio_caps ? gst_caps_ref (s->audio_caps) : NULL;
  return c;
}

void
whep_settings_clear (WhepSettings * s)
{
  g_clear_pointer (&s->endpoint, g_free);
  g_clear_pointer (&s->auth_token, g_free);
  g_clear_pointer (&s->stun_server, g_free);
  g_clear_pointer (&s->turn_server, g_free);
  g_clear_pointer (&s->local_addresses, g_strfreev);
  gst_clear_caps (&s->video_caps);
  gst_clear_caps (&s->audio_caps);
}

void
whep_settings_free (WhepSettings * s)
{
  if (!s)
    return;
  whep_settings_clear (s);
  g_free (s);
}
