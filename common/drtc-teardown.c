/* daydream-rtc: stopping elements and pipelines off the calling thread
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Setting an element to NULL waits for its streaming threads. A streaming
 * thread, a pad probe or a signalling thread that webrtcbin calls back on
 * must not wait for itself: it hands the element to a teardown thread. The
 * teardowns in flight are counted, so that a process (or a test) can wait
 * until every one is done before it exits.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "drtc-teardown.h"

typedef struct
{
  GThreadFunc func;
  gpointer data;
} Teardown;

static GMutex teardown_lock;
static GCond teardown_cond;
static guint teardowns;

static gpointer
run_teardown (gpointer data)
{
  Teardown *t = data;

  t->func (t->data);
  g_free (t);
  g_mutex_lock (&teardown_lock);
  teardowns--;
  g_cond_broadcast (&teardown_cond);
  g_mutex_unlock (&teardown_lock);
  return NULL;
}

/**
 * drtc_teardown_run:
 * @thread_name: the new thread's name
 * @func: what stops the pipeline; it owns @data
 *
 * Runs @func (@data) on a new thread, counted by drtc_teardown_wait().
 */
void
drtc_teardown_run (const gchar * thread_name, GThreadFunc func, gpointer data)
{
  Teardown *t = g_new0 (Teardown, 1);

  t->func = func;
  t->data = data;
  g_mutex_lock (&teardown_lock);
  teardowns++;
  g_mutex_unlock (&teardown_lock);
  g_thread_unref (g_thread_new (thread_name, run_teardown, t));
}

static gpointer
stop_element (gpointer data)
{
  GstElement *element = data;
  GstObject *parent = gst_object_get_parent (GST_OBJECT (element));

  /* the parent's own state changes must not start it again */
  gst_element_set_locked_state (element, TRUE);
  gst_element_set_state (element, GST_STATE_NULL);
  if (parent) {
    if (GST_IS_BIN (parent))
      gst_bin_remove (GST_BIN (parent), element);
    gst_object_unref (parent);
  }
  gst_object_unref (element);
  return NULL;
}

/**
 * drtc_teardown_element:
 * @element: (transfer full): an element or a pipeline, in a bin or not
 * @thread_name: the teardown thread's name
 *
 * On a new thread: locks @element's state, sets it to NULL, takes it out of
 * its bin (if it is in one) and drops the reference. Safe from a streaming
 * thread or a pad probe.
 */
void
drtc_teardown_element (GstElement * element, const gchar * thread_name)
{
  g_return_if_fail (GST_IS_ELEMENT (element));
  drtc_teardown_run (thread_name, stop_element, element);
}

/**
 * drtc_teardown_wait:
 * @timeout_us: the longest wait
 *
 * Waits until every teardown started in this process has finished.
 *
 * Returns: %FALSE when some were still running after @timeout_us
 */
gboolean
drtc_teardown_wait (gint64 timeout_us)
{
  gint64 until = g_get_monotonic_time () + timeout_us;
  gboolean done;

  g_mutex_lock (&teardown_lock);
  while (teardowns > 0 && g_cond_wait_until (&teardown_cond, &teardown_lock,
          until));
  done = teardowns == 0;
  g_mutex_unlock (&teardown_lock);
  return done;
}
