/* daydream-rtc: whepsrc's end of stream
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The stream of a whepsrc ends in two ways: an EOS event sent to the
 * element (gst-launch-1.0 -e, gst_element_send_event), which goes into the
 * receive chains so that the depayloader and decoder drain and it leaves
 * by the src pads; or GST_FLOW_EOS from downstream (identity eos-after),
 * seen on the ghost pads' internal pads. Either way the element stops
 * connecting and reconnecting; the session stays until PAUSED->READY.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whepsrc-private.h"

#define GST_CAT_DEFAULT gst_daydream_whep_src_debug

/* TRUE the first time only */
static gboolean
mark_ended (GstDaydreamWhepSrc * self)
{
  WhepConn *conn = NULL;

  if (!g_atomic_int_compare_and_exchange (&self->ended, FALSE, TRUE))
    return FALSE;
  GST_INFO_OBJECT (self, "end of stream: no more connection attempts");
  g_mutex_lock (&self->lock);
  if (self->conn)
    conn = g_atomic_rc_box_acquire (self->conn);
  g_mutex_unlock (&self->lock);
  if (conn) {
    whep_conn_finish (conn);
    whep_conn_unref (conn);
  }
  return TRUE;
}

/* An EOS on a pad that has streamed nothing still needs a stream-start
 * before it, or downstream warns of misordered sticky events. */
static void
push_eos (GstPad * pad, GstEvent * eos)
{
  g_autoptr (GstEvent) start = gst_pad_get_sticky_event (pad,
      GST_EVENT_STREAM_START, 0);

  if (!start) {
    g_autofree gchar *id = gst_pad_create_stream_id (pad,
        GST_ELEMENT (GST_OBJECT_PARENT (pad)), NULL);

    gst_pad_push_event (pad, gst_event_new_stream_start (id));
  }
  gst_pad_push_event (pad, eos);
}

/* Sends @eos through the chain feeding @ghost, or out of @ghost at once
 * when no chain feeds it. */
static void
send_eos_to (GstPad * ghost, GstPad * chain_sink, GstEvent * eos)
{
  if (chain_sink && gst_pad_send_event (chain_sink, gst_event_ref (eos))) {
    gst_event_unref (eos);
    return;
  }
  push_eos (ghost, eos);
}

/**
 * whep_src_send_eos:
 * @eos: (transfer full): the EOS event
 *
 * The application ends the stream (not on a streaming thread).
 */
gboolean
whep_src_send_eos (GstDaydreamWhepSrc * self, GstEvent * eos)
{
  g_autoptr (GstPad) video = NULL;
  g_autoptr (GstPad) audio = NULL;
  g_autoptr (GstPad) audiopad = NULL;

  if (!mark_ended (self)) {
    gst_event_unref (eos);
    return TRUE;
  }
  g_mutex_lock (&self->chain_lock);
  video = whep_chain_sink_pad (self->video);
  audio = whep_chain_sink_pad (self->audio);
  if (self->audiopad)
    audiopad = gst_object_ref (self->audiopad);
  g_mutex_unlock (&self->chain_lock);
  if (audiopad)
    send_eos_to (audiopad, audio, gst_event_ref (eos));
  send_eos_to (self->srcpad, video, eos);
  return TRUE;
}

/* what downstream answered: GST_FLOW_EOS ends the element's work; so does
 * an error (a muxer refusing a buffer, not-negotiated): a new session
 * would meet the same element in its error state, so the session's error
 * that follows becomes the element's (gstwhepsrc.c) */
static GstFlowReturn
note_flow (GstPad * pad, GstFlowReturn ret)
{
  GstDaydreamWhepSrc *self = gst_pad_get_element_private (pad);

  if (ret <= GST_FLOW_NOT_NEGOTIATED) {
    GST_INFO_OBJECT (self, "downstream answered %s", gst_flow_get_name (ret));
    g_atomic_int_set (&self->downstream_failed, TRUE);
  }
  if (ret == GST_FLOW_EOS || ret <= GST_FLOW_NOT_NEGOTIATED)
    mark_ended (self);
  return ret;
}

static GstFlowReturn
on_output_chain (GstPad * pad, GstObject * parent, GstBuffer * buffer)
{
  return note_flow (pad, gst_proxy_pad_chain_default (pad, parent, buffer));
}

static GstFlowReturn
on_output_chain_list (GstPad * pad, GstObject * parent, GstBufferList * list)
{
  return note_flow (pad, gst_proxy_pad_chain_list_default (pad, parent, list));
}

/**
 * whep_src_watch_output:
 * @ghost: one of the element's src ghost pads
 *
 * Downstream's GST_FLOW_EOS on @ghost will end the element's work.
 */
void
whep_src_watch_output (GstDaydreamWhepSrc * self, GstPad * ghost)
{
  g_autoptr (GstProxyPad) internal =
      gst_proxy_pad_get_internal (GST_PROXY_PAD (ghost));
  GstPad *pad = GST_PAD (internal);

  gst_pad_set_element_private (pad, self);
  gst_pad_set_chain_function (pad, on_output_chain);
  gst_pad_set_chain_list_function (pad, on_output_chain_list);
}
