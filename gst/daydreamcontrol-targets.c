/* daydream-rtc: the whipsink and whepsrc a daydreamcontrol drives
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "daydreamcontrol-targets.h"

static gboolean
is_factory (GstElement * element, const gchar * name)
{
  GstElementFactory *f = gst_element_get_factory (element);

  return f && g_str_equal (GST_OBJECT_NAME (f), name);
}

/**
 * control_find_target:
 * @control: the daydreamcontrol (warned on when the choice is unclear)
 * @name: (nullable): the element's name, from a property
 *
 * Returns: (transfer full) (nullable): the element named @name, or the
 *   only one made by @factory, in @control's bin
 */
GstElement *
control_find_target (GstElement * control, const gchar * name,
    const gchar * factory)
{
  g_autoptr (GstObject) bin = gst_object_get_parent (GST_OBJECT (control));
  GstElement *found = NULL;
  GstIterator *it;
  GValue item = G_VALUE_INIT;

  if (!bin || !GST_IS_BIN (bin))
    return NULL;
  if (name)
    return gst_bin_get_by_name (GST_BIN (bin), name);
  it = gst_bin_iterate_recurse (GST_BIN (bin));
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&item);

    if (is_factory (e, factory)) {
      if (found) {
        GST_ELEMENT_WARNING (control, CORE, FAILED,
            ("Several %s elements: name the one to drive", factory),
            ("set the %s property", g_str_equal (factory, "whipsink") ?
                "whip-sink" : "whep-src"));
        gst_object_unref (found);
        found = NULL;
        g_value_reset (&item);
        break;
      }
      found = gst_object_ref (e);
    }
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  return found;
}

/* The URL, and before it @token as the element's auth-token when there is
 * one (the API key on the API's own origin: a keyed daydream-rtc gateway;
 * Daydream's WHIP/WHEP hosts never get the account key). */
void
control_give_endpoint (GWeakRef * ref, const gchar * property,
    const gchar * url, const gchar * token)
{
  GstElement *target = g_weak_ref_get (ref);

  if (target) {
    if (token)
      g_object_set (target, "auth-token", token, NULL);
    g_object_set (target, property, url, NULL);
    gst_object_unref (target);
  }
}
