/* daydream-rtc: libFuzzer harness for the headers of WHIP/WHEP and Daydream
 * answers: Link (rel="ice-server", RFC 9725 section 4.6) and Location (the
 * resource URL, redirects and their policy): common/drtc-http.c.
 * Input: the Link value, a newline, the Location value. */
#include "drtc-http.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 * data, gsize size);

static void
check_location (const gchar * location)
{
  const gchar *bases[] = { "https://api.daydream.live/v1/streams",
    "http://127.0.0.1:8896/live/video-to-video/stk_x/whip"
  };

  for (guint i = 0; i < G_N_ELEMENTS (bases); i++) {
    g_autoptr (GUri) base = g_uri_parse (bases[i], G_URI_FLAGS_ENCODED, NULL);
    g_autofree gchar *next = drtc_http_resolve (base, location);
    g_autoptr (GUri) to = next ? g_uri_parse (next, G_URI_FLAGS_ENCODED,
        NULL) : NULL;
    g_autofree gchar *redacted = drtc_http_redact_url (next);

    if (!redacted)
      __builtin_trap ();

    /* resolve only ever gives an http(s) URL that parses again */
    if (next && !to)
      __builtin_trap ();
    if (to)
      drtc_http_redirect_policy (base, to, i);
  }
}

int
LLVMFuzzerTestOneInput (const guint8 * data, gsize size)
{
  g_autofree gchar *text = g_strndup ((const gchar *) data, size);
  gchar *newline = strchr (text, '\n');
  SoupMessageHeaders *h;
  GPtrArray *servers;

  if (newline)
    *newline = '\0';
  /* what libsoup parses from an answer never holds a CR (nor LF) */
  g_strdelimit (text, "\r", ' ');
  h = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  soup_message_headers_append (h, "Link", text);
  servers = drtc_http_ice_servers_from_links (h);
  g_ptr_array_unref (servers);
  soup_message_headers_unref (h);
  check_location (newline ? newline + 1 : text);
  return 0;
}
