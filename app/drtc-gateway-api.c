/* daydream-rtc gateway: the Daydream stream API (/v1/streams)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   POST   /v1/streams               create (201)
 *   GET    /v1/streams/{id}          the stream
 *   PATCH  /v1/streams/{id}          change params (the effect follows)
 *   DELETE /v1/streams/{id}          stop and forget (204)
 *   GET    /v1/streams/{id}/status   state, WHEP URL, fps, last params
 *
 * Errors are {"success": false, "error": "<message>"} with 400 (not strict
 * JSON), 401 (key), 404, 405, 413 (body over 256 KiB, counted as it comes
 * and, like the key, checked before the body is read: drtc-gateway.c's
 * early handler), 415 (not application/json), 422 (invalid params,
 * the field named; nesting over 64 levels, strings over 64 KiB) or 500.
 */
#include "drtc-gateway-private.h"
#include "drtc-gateway-bodies.h"
#include "drtc-http-util.h"
#include "drtc-json.h"

#include <string.h>

void
drtc_gateway_reply_error (SoupServerMessage * msg, guint status,
    const gchar * format, ...)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gchar *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  json_builder_begin_object (b);
  drtc_json_builder_add_boolean (b, "success", FALSE);
  drtc_json_builder_add_string (b, "error", text);
  drtc_http_reply_object (msg, status, b);
}

/* drtc_gateway_reply_error () for a plain @message: the refusal callback
 * the HTTP guard and the preview's shared handler take. */
void
drtc_gateway_reply_message (SoupServerMessage * msg, guint status,
    const gchar * message)
{
  drtc_gateway_reply_error (msg, status, "%s", message);
}

static void
add_object (JsonBuilder * b, const gchar * name, JsonObject * value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_value (b, json_node_init_object (json_node_alloc (), value));
}

static JsonNode *
stream_to_json (DrtcGatewayStream * stream)
{
  DrtcGateway *gw = stream->gateway;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gchar *whip_path = drtc_gateway_whip_path (stream);
  g_autofree gchar *whip = drtc_gateway_url (gw, whip_path);

  json_builder_begin_object (b);
  drtc_json_builder_add_string (b, "id", stream->id);
  drtc_json_builder_add_string (b, "name", stream->name);
  drtc_json_builder_add_string (b, "stream_key", stream->key);
  drtc_json_builder_add_string (b, "output_playback_id", stream->playback_id);
  drtc_json_builder_add_string (b, "whip_url", whip);
  drtc_json_builder_add_string (b, "pipeline", stream->pipeline);
  add_object (b, "params", stream->params);
  drtc_json_builder_add_string (b, "created_at", stream->created_at);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static const gchar *
stream_state (DrtcGatewayStream * stream)
{
  if (!stream->media || !drtc_gateway_media_has_publisher (stream->media))
    return "OFFLINE";
  if (stream->gateway->opts.never_ready
      || !drtc_gateway_media_has_output (stream->media))
    return "LOADING";
  return "ONLINE";
}

static JsonNode *
status_to_json (DrtcGatewayStream * stream)
{
  DrtcGateway *gw = stream->gateway;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  const gchar *state = stream_state (stream);
  gboolean publishing = !g_str_equal (state, "OFFLINE");

  json_builder_begin_object (b);
  drtc_json_builder_add_boolean (b, "success", TRUE);
  drtc_json_builder_add_string (b, "error", NULL);
  json_builder_set_member_name (b, "data");
  json_builder_begin_object (b);
  drtc_json_builder_add_string (b, "stream_id", stream->id);
  drtc_json_builder_add_string (b, "state", state);
  json_builder_set_member_name (b, "gateway_status");
  json_builder_begin_object (b);
  if (publishing && !gw->opts.never_ready) {
    g_autofree gchar *whep_path = drtc_gateway_whep_path (stream);
    g_autofree gchar *whep = drtc_gateway_url (gw, whep_path);

    drtc_json_builder_add_string (b, "whep_url", whep);
  }
  drtc_json_builder_add_int (b, "viewers",
      stream->media ? drtc_gateway_media_n_viewers (stream->media) : 0);
  drtc_json_builder_add_int (b, "pending_viewers",
      stream->media ? drtc_gateway_media_n_pending_viewers (stream->media) : 0);
  drtc_json_builder_add_int (b, "publisher_sessions",
      stream->publisher_sessions);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "inference_status");
  json_builder_begin_object (b);
  drtc_json_builder_add_double (b, "input_fps",
      publishing ? stream->input_fps : 0.0);
  drtc_json_builder_add_double (b, "output_fps",
      publishing ? stream->output_fps : 0.0);
  drtc_json_builder_add_string (b, "last_error", stream->last_error);
  add_object (b, "last_params", stream->params);
  drtc_json_builder_add_string (b, "last_params_updated_at",
      stream->params_updated_at);
  json_builder_end_object (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static gchar *
now_iso8601 (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

  return g_date_time_format_iso8601 (now);
}

/* The JSON object body, or NULL after replying 400/413/422. */
static JsonObject *
read_object (SoupServerMessage * msg)
{
  g_autoptr (GBytes) body = drtc_http_request_body (msg);
  g_autoptr (GError) err = NULL;
  gsize len = 0;
  const gchar *data = g_bytes_get_data (body, &len);
  JsonObject *object = drtc_gateway_body_object (data, len, &err);

  if (!object)
    drtc_gateway_reply_error (msg, err->code, "%s", err->message);
  return object;
}

static void
create_stream (DrtcGateway * gw, SoupServerMessage * msg)
{
  g_autoptr (JsonObject) body = NULL;
  g_autoptr (JsonNode) reply = NULL;
  DrtcGatewayStream *stream;
  g_autoptr (GError) err = NULL;
  JsonObject *params;
  gchar *pipeline = NULL;
  const gchar *name;

  if (g_hash_table_size (gw->streams) >= gw->opts.max_streams) {
    drtc_gateway_reply_error (msg, DRTC_STATUS_TOO_MANY_REQUESTS,
        "too many streams (--max-streams %u); DELETE one first",
        gw->opts.max_streams);
    return;
  }
  if (gw->creates++ < gw->opts.fail_creates) {
    drtc_gateway_reply_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
        "stream creation failed (fault injected by --fail-creates)");
    return;
  }
  if (!(body = read_object (msg)))
    return;
  if (!drtc_gateway_body_name (body, &name, &err)
      || !(params = drtc_gateway_body_params (body, NULL, NULL, &pipeline,
              &err))) {
    drtc_gateway_reply_error (msg, err->code, "%s", err->message);
    return;
  }
  stream = g_new0 (DrtcGatewayStream, 1);
  stream->gateway = gw;
  stream->id = drtc_gateway_random_id ("str_");
  stream->key = drtc_gateway_random_id ("stk_");
  stream->playback_id = drtc_gateway_random_id ("");
  stream->name = g_strdup (name ? name : "");
  stream->pipeline = pipeline;
  stream->params = params;
  stream->created_at = now_iso8601 ();
  stream->params_updated_at = g_strdup (stream->created_at);
  g_hash_table_insert (gw->streams, stream->id, stream);
  g_hash_table_insert (gw->by_key, stream->key, stream);
  g_message ("stream %s created", stream->id);
  reply = stream_to_json (stream);
  drtc_http_reply_json (msg, SOUP_STATUS_CREATED, reply);
}

static void
update_stream (DrtcGatewayStream * stream, SoupServerMessage * msg)
{
  g_autoptr (JsonObject) body = NULL;
  g_autoptr (JsonNode) reply = NULL;
  g_autoptr (GError) err = NULL;
  JsonObject *params;
  gchar *pipeline = NULL;

  if (!(body = read_object (msg)))
    return;
  params = drtc_gateway_body_params (body, stream->pipeline, stream->params,
      &pipeline, &err);
  if (!params) {
    drtc_gateway_reply_error (msg, err->code, "%s", err->message);
    return;
  }
  json_object_unref (stream->params);
  stream->params = params;
  g_free (stream->pipeline);
  stream->pipeline = pipeline;
  g_free (stream->params_updated_at);
  stream->params_updated_at = now_iso8601 ();
  drtc_gateway_apply_params (stream);
  reply = stream_to_json (stream);
  drtc_http_reply_json (msg, SOUP_STATUS_OK, reply);
}

static void
delete_stream (DrtcGateway * gw, DrtcGatewayStream * stream,
    SoupServerMessage * msg)
{
  g_message ("stream %s deleted", stream->id);
  g_hash_table_remove (gw->by_key, stream->key);
  g_hash_table_remove (gw->streams, stream->id);
  drtc_http_reply_empty (msg, SOUP_STATUS_NO_CONTENT);
}

/**
 * drtc_gateway_api_authorized:
 *
 * Whether @msg carries the API key (when one is set); if not, answers 401.
 */
gboolean
drtc_gateway_api_authorized (DrtcGateway * gw, SoupServerMessage * msg)
{
  if (!gw->opts.api_key)
    return TRUE;
  if (drtc_http_secret_equal (drtc_http_bearer (msg), gw->opts.api_key))
    return TRUE;
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "WWW-Authenticate", "Bearer");
  drtc_gateway_reply_error (msg, SOUP_STATUS_UNAUTHORIZED,
      drtc_http_bearer (msg) ? "invalid API key" :
      "missing API key (Authorization: Bearer ...)");
  return FALSE;
}

/* ---- the routes (drtc-gateway-routes.c's table; the stream is looked up) ---- */

void
drtc_gateway_api_create (gpointer gw, SoupServerMessage * msg,
    DrtcRouteMatch * m)
{
  create_stream (gw, msg);
}

void
drtc_gateway_api_get (gpointer gw, SoupServerMessage * msg, DrtcRouteMatch * m)
{
  g_autoptr (JsonNode) reply = stream_to_json (m->stream);

  drtc_http_reply_json (msg, SOUP_STATUS_OK, reply);
}

void
drtc_gateway_api_update (gpointer gw, SoupServerMessage * msg,
    DrtcRouteMatch * m)
{
  update_stream (m->stream, msg);
}

void
drtc_gateway_api_delete (gpointer gw, SoupServerMessage * msg,
    DrtcRouteMatch * m)
{
  delete_stream (gw, m->stream, msg);
}

void
drtc_gateway_api_status (gpointer gw, SoupServerMessage * msg,
    DrtcRouteMatch * m)
{
  g_autoptr (JsonNode) reply = status_to_json (m->stream);

  drtc_http_reply_json (msg, SOUP_STATUS_OK, reply);
}
