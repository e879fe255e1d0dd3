/* daydream-rtc: GObject properties kept in plain struct fields
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Most element properties are a field of the instance struct that
 * set_property stores and get_property reads, under the element's lock. A
 * table of (property, field offset) pairs does that for every one of them;
 * set_property and get_property keep a switch only for what is more than
 * a field (a value that is validated, parsed, or computed).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "drtc-props.h"

static gpointer
field_of (gpointer instance, const DrtcPropField * fields, guint n_fields,
    guint prop_id)
{
  for (guint i = 0; i < n_fields; i++)
    if (fields[i].prop_id == prop_id)
      return G_STRUCT_MEMBER_P (instance, fields[i].offset);
  return NULL;
}

/**
 * drtc_props_set:
 * @fields: (array length=n_fields): the table
 *
 * Stores @value in the field of @prop_id; the caller holds the lock that
 * guards it. A string or boxed value is copied, the old one freed.
 *
 * Returns: %FALSE when @prop_id is not in the table (or of a type the
 *   table does not handle)
 */
gboolean
drtc_props_set (gpointer instance, const DrtcPropField * fields,
    guint n_fields, guint prop_id, const GValue * value)
{
  gpointer field = field_of (instance, fields, n_fields, prop_id);
  GType type = G_VALUE_TYPE (value);

  if (!field)
    return FALSE;
  switch (G_TYPE_FUNDAMENTAL (type)) {
    case G_TYPE_STRING:
      g_free (*(gchar **) field);
      *(gchar **) field = g_value_dup_string (value);
      return TRUE;
    case G_TYPE_BOOLEAN:
      *(gboolean *) field = g_value_get_boolean (value);
      return TRUE;
    case G_TYPE_INT:
      *(gint *) field = g_value_get_int (value);
      return TRUE;
    case G_TYPE_ENUM:
      *(gint *) field = g_value_get_enum (value);
      return TRUE;
    case G_TYPE_UINT:
      *(guint *) field = g_value_get_uint (value);
      return TRUE;
    case G_TYPE_INT64:
      *(gint64 *) field = g_value_get_int64 (value);
      return TRUE;
    case G_TYPE_UINT64:
      *(guint64 *) field = g_value_get_uint64 (value);
      return TRUE;
    case G_TYPE_DOUBLE:
      *(gdouble *) field = g_value_get_double (value);
      return TRUE;
    case G_TYPE_BOXED:
      if (*(gpointer *) field)
        g_boxed_free (type, *(gpointer *) field);
      *(gpointer *) field = g_value_dup_boxed (value);
      return TRUE;
    default:
      return FALSE;
  }
}

/**
 * drtc_props_get:
 * @value: initialised to the property's type (as get_property gets it)
 *
 * Copies the field of @prop_id into @value; the caller holds the lock.
 *
 * Returns: %FALSE when @prop_id is not in the table
 */
gboolean
drtc_props_get (gpointer instance, const DrtcPropField * fields,
    guint n_fields, guint prop_id, GValue * value)
{
  gpointer field = field_of (instance, fields, n_fields, prop_id);

  if (!field)
    return FALSE;
  switch (G_TYPE_FUNDAMENTAL (G_VALUE_TYPE (value))) {
    case G_TYPE_STRING:
      g_value_set_string (value, *(gchar **) field);
      return TRUE;
    case G_TYPE_BOOLEAN:
      g_value_set_boolean (value, *(gboolean *) field);
      return TRUE;
    case G_TYPE_INT:
      g_value_set_int (value, *(gint *) field);
      return TRUE;
    case G_TYPE_ENUM:
      g_value_set_enum (value, *(gint *) field);
      return TRUE;
    case G_TYPE_UINT:
      g_value_set_uint (value, *(guint *) field);
      return TRUE;
    case G_TYPE_INT64:
      g_value_set_int64 (value, *(gint64 *) field);
      return TRUE;
    case G_TYPE_UINT64:
      g_value_set_uint64 (value, *(guint64 *) field);
      return TRUE;
    case G_TYPE_DOUBLE:
      g_value_set_double (value, *(gdouble *) field);
      return TRUE;
    case G_TYPE_BOXED:
      g_value_set_boxed (value, *(gpointer *) field);
      return TRUE;
    default:
      return FALSE;
  }
}

/**
 * drtc_props_set_locked:
 * @lock: what guards the fields
 *
 * set_property for the table: drtc_props_set () under @lock, and GObject's
 * warning for a property that is not in it.
 */
void
drtc_props_set_locked (GObject * object, GMutex * lock,
    const DrtcPropField * fields, guint n_fields, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  gboolean known;

  g_mutex_lock (lock);
  known = drtc_props_set (object, fields, n_fields, prop_id, value);
  g_mutex_unlock (lock);
  if (!known)
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

/**
 * drtc_props_get_locked:
 *
 * get_property for the table, as drtc_props_set_locked () is set_property.
 */
void
drtc_props_get_locked (GObject * object, GMutex * lock,
    const DrtcPropField * fields, guint n_fields, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  gboolean known;

  g_mutex_lock (lock);
  known = drtc_props_get (object, fields, n_fields, prop_id, value);
  g_mutex_unlock (lock);
  if (!known)
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

/**
 * drtc_props_clear:
 * @pspecs: indexed by property id, as the class installed them
 *
 * Frees the string and boxed fields of the table (finalize).
 */
void
drtc_props_clear (gpointer instance, const DrtcPropField * fields,
    guint n_fields, GParamSpec ** pspecs)
{
  for (guint i = 0; i < n_fields; i++) {
    GType type = G_PARAM_SPEC_VALUE_TYPE (pspecs[fields[i].prop_id]);
    gpointer *field = G_STRUCT_MEMBER_P (instance, fields[i].offset);

    if (G_TYPE_FUNDAMENTAL (type) == G_TYPE_STRING)
      g_clear_pointer ((gchar **) field, g_free);
    else if (G_TYPE_FUNDAMENTAL (type) == G_TYPE_BOXED && *field) {
      g_boxed_free (type, *field);
      *field = NULL;
    }
  }
}

/**
 * drtc_props_settable:
 * @category: the element's debug category, for the warning
 *
 * Whether @pspec may change now: a GST_PARAM_MUTABLE_READY property only
 * in the NULL or READY state. Otherwise it warns and returns %FALSE (the
 * set_property ignores the value).
 */
gboolean
drtc_props_settable (GstElement * element, GParamSpec * pspec,
    GstDebugCategory * category)
{
  GstState state;

  if (!(pspec->flags & GST_PARAM_MUTABLE_READY))
    return TRUE;
  GST_OBJECT_LOCK (element);
  state = GST_STATE (element);
  GST_OBJECT_UNLOCK (element);
  if (state <= GST_STATE_READY)
    return TRUE;
  GST_CAT_WARNING_OBJECT (category, element, "'%s' can only change in the "
      "NULL or READY state", pspec->name);
  return FALSE;
}
