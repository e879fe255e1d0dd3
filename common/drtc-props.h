/* daydream-rtc: GObject properties kept in plain struct fields
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib-object.h>
#include <gst/gst.h>

G_BEGIN_DECLS
/* A property whose value is a field of the instance struct: gchar * for
 * strings (owned), gboolean, gint (also enums), guint, gint64, guint64,
 * gdouble, or a boxed pointer (owned, e.g. GstCaps *). */
    typedef struct
{
  guint prop_id;
  gsize offset;
} DrtcPropField;

#define DRTC_PROP_FIELD(prop_id, Type, member) \
  { (prop_id), G_STRUCT_OFFSET (Type, member) }

gboolean drtc_props_set (gpointer instance, const DrtcPropField * fields,
    guint n_fields, guint prop_id, const GValue * value);
gboolean drtc_props_get (gpointer instance, const DrtcPropField * fields,
    guint n_fields, guint prop_id, GValue * value);
void drtc_props_set_locked (GObject * object, GMutex * lock,
    const DrtcPropField * fields, guint n_fields, guint prop_id,
    const GValue * value, GParamSpec * pspec);
void drtc_props_get_locked (GObject * object, GMutex * lock,
    const DrtcPropField * fields, guint n_fields, guint prop_id,
    GValue * value, GParamSpec * pspec);
void drtc_props_clear (gpointer instance, const DrtcPropField * fields,
    guint n_fields, GParamSpec ** pspecs);
gboolean drtc_props_settable (GstElement * element, GParamSpec * pspec,
    GstDebugCategory * category);

G_END_DECLS
