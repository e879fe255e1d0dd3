/* daydream-rtc: tests of common/drtc-props.c */
#include "drtc-props.h"

typedef struct
{
  GObject parent;
  GMutex lock;
  gchar *name;
  gboolean on;
  gint level;
  guint count;
  gint64 big;
  guint64 ubig;
  gdouble ratio;
  GStrv list;                   /* boxed */
  GBindingFlags mode;           /* an enum-sized field */
} Thing;

typedef GObjectClass ThingClass;

enum
{
  PROP_0, PROP_NAME, PROP_ON, PROP_LEVEL, PROP_COUNT, PROP_BIG, PROP_UBIG,
  PROP_RATIO, PROP_LIST, PROP_MODE, N_PROPS
};

static GParamSpec *props[N_PROPS];

static const DrtcPropField fields[] = {
  DRTC_PROP_FIELD (PROP_NAME, Thing, name),
  DRTC_PROP_FIELD (PROP_ON, Thing, on),
  DRTC_PROP_FIELD (PROP_LEVEL, Thing, level),
  DRTC_PROP_FIELD (PROP_COUNT, Thing, count),
  DRTC_PROP_FIELD (PROP_BIG, Thing, big),
  DRTC_PROP_FIELD (PROP_UBIG, Thing, ubig),
  DRTC_PROP_FIELD (PROP_RATIO, Thing, ratio),
  DRTC_PROP_FIELD (PROP_LIST, Thing, list),
};

static GType thing_get_type (void);
G_DEFINE_TYPE (Thing, thing, G_TYPE_OBJECT);

static void
thing_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  Thing *self = (Thing *) object;

  if (prop_id == PROP_MODE)
    self->mode = g_value_get_flags (value);
  else
    drtc_props_set_locked (object, &self->lock, fields, G_N_ELEMENTS (fields),
        prop_id, value, pspec);
}

static void
thing_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  Thing *self = (Thing *) object;

  if (prop_id == PROP_MODE)
    g_value_set_flags (value, self->mode);
  else
    drtc_props_get_locked (object, &self->lock, fields, G_N_ELEMENTS (fields),
        prop_id, value, pspec);
}

static void
thing_finalize (GObject * object)
{
  drtc_props_clear (object, fields, G_N_ELEMENTS (fields), props);
  g_mutex_clear (&((Thing *) object)->lock);
  G_OBJECT_CLASS (thing_parent_class)->finalize (object);
}

static void
thing_init (Thing * self)
{
  g_mutex_init (&self->lock);
}

static void
thing_class_init (ThingClass * klass)
{
  const GParamFlags rw = G_PARAM_READWRITE;

  klass->set_property = thing_set_property;
  klass->get_property = thing_get_property;
  klass->finalize = thing_finalize;
  props[PROP_NAME] = g_param_spec_string ("name", "", "", NULL, rw);
  props[PROP_ON] = g_param_spec_boolean ("on", "", "", FALSE, rw);
  props[PROP_LEVEL] = g_param_spec_int ("level", "", "", -10, 10, 0, rw);
  props[PROP_COUNT] = g_param_spec_uint ("count", "", "", 0, 100, 0, rw);
  props[PROP_BIG] = g_param_spec_int64 ("big", "", "", G_MININT64,
      G_MAXINT64, 0, rw);
  props[PROP_UBIG] = g_param_spec_uint64 ("ubig", "", "", 0, G_MAXUINT64, 0,
      rw);
  props[PROP_RATIO] = g_param_spec_double ("ratio", "", "", 0, 1, 0, rw);
  props[PROP_LIST] = g_param_spec_boxed ("list", "", "", G_TYPE_STRV, rw);
  props[PROP_MODE] = g_param_spec_flags ("mode", "", "", G_TYPE_BINDING_FLAGS,
      0, rw);
  g_object_class_install_properties (klass, N_PROPS, props);
}

/* each type goes into its field and comes back out */
static void
test_round_trip (void)
{
  const gchar *const list[] = { "a", "b", NULL };
  Thing *t = g_object_new (thing_get_type (), "name", "x", "on", TRUE,
      "level", -3, "count", 42, "big", G_MININT64, "ubig", G_MAXUINT64,
      "ratio", 0.25, "list", list, "mode", G_BINDING_BIDIRECTIONAL, NULL);
  g_autofree gchar *name = NULL;
  g_auto (GStrv) back = NULL;
  gboolean on;
  gint level;
  guint count;
  gint64 big;
  guint64 ubig;
  gdouble ratio;

  g_assert_cmpstr (t->name, ==, "x");
  g_assert_true (t->on);
  g_assert_cmpint (t->level, ==, -3);
  g_assert_cmpuint (t->count, ==, 42);
  g_assert_cmpint (t->big, ==, G_MININT64);
  g_assert_cmpuint (t->ubig, ==, G_MAXUINT64);
  g_assert_cmpfloat (t->ratio, ==, 0.25);
  g_assert_true (g_strv_equal ((const gchar * const *) t->list, list));
  g_assert_true (t->list != (GStrv) list);      /* a copy */
  g_object_get (t, "name", &name, "on", &on, "level", &level, "count",
      &count, "big", &big, "ubig", &ubig, "ratio", &ratio, "list", &back, NULL);
  g_assert_cmpstr (name, ==, "x");
  g_assert_true (on);
  g_assert_cmpint (level, ==, -3);
  g_assert_cmpuint (count, ==, 42);
  g_assert_cmpint (big, ==, G_MININT64);
  g_assert_cmpuint (ubig, ==, G_MAXUINT64);
  g_assert_cmpfloat (ratio, ==, 0.25);
  g_assert_true (g_strv_equal ((const gchar * const *) back, list));
  /* a second set frees the first value (checked by valgrind/ASan runs) */
  g_object_set (t, "name", "y", "list", NULL, NULL);
  g_assert_cmpstr (t->name, ==, "y");
  g_assert_null (t->list);
  g_object_unref (t);
}

/* an id that is not in the table is left to the caller */
static void
test_not_in_table (void)
{
  Thing t = { 0 };
  GValue v = G_VALUE_INIT;

  g_value_init (&v, G_TYPE_BINDING_FLAGS);
  g_assert_false (drtc_props_set (&t, fields, G_N_ELEMENTS (fields),
          PROP_MODE, &v));
  g_assert_false (drtc_props_get (&t, fields, G_N_ELEMENTS (fields),
          PROP_MODE, &v));
  g_value_unset (&v);
  /* the right id with a type the table cannot store: refused too */
  g_value_init (&v, G_TYPE_BINDING_FLAGS);
  g_assert_false (drtc_props_set (&t, fields, G_N_ELEMENTS (fields),
          PROP_COUNT, &v));
  g_value_unset (&v);
}

/* a READY-only property is refused past READY; a PLAYING one never */
static void
test_settable (void)
{
  GstElement *element = gst_element_factory_make ("identity", NULL);
  GParamSpec *ready = g_param_spec_string ("r", "r", "r", NULL,
      G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY);
  GParamSpec *live = g_param_spec_string ("l", "l", "l", NULL,
      G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING);

  g_assert_nonnull (element);
  g_assert_true (drtc_props_settable (element, ready, GST_CAT_DEFAULT));
  g_assert_cmpint (gst_element_set_state (element, GST_STATE_READY), ==,
      GST_STATE_CHANGE_SUCCESS);
  g_assert_true (drtc_props_settable (element, ready, GST_CAT_DEFAULT));
  g_assert_cmpint (gst_element_set_state (element, GST_STATE_PAUSED), ==,
      GST_STATE_CHANGE_SUCCESS);
  g_assert_false (drtc_props_settable (element, ready, GST_CAT_DEFAULT));
  g_assert_true (drtc_props_settable (element, live, GST_CAT_DEFAULT));
  gst_element_set_state (element, GST_STATE_NULL);
  g_param_spec_unref (g_param_spec_ref_sink (ready));
  g_param_spec_unref (g_param_spec_ref_sink (live));
  gst_object_unref (element);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gst_init (NULL, NULL);
  g_test_add_func ("/props/round-trip", test_round_trip);
  g_test_add_func ("/props/not-in-table", test_not_in_table);
  g_test_add_func ("/props/settable", test_settable);
  return g_test_run ();
}
