/* daydream-rtc: async HTTP for elements (WHIP/WHEP signalling)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An element used from gst-launch has no main loop of its own to lean on,
 * so a DrtcHttp owns one: a thread with a private GMainContext, where the
 * SoupSession is created and every request and callback runs (as
 * souphttpsrc does). Redirects are followed here rather than by libsoup,
 * so that Authorization and the request body survive a 307/308, under one
 * policy (drtc_http_redirect_policy): never from https to http, and an
 * account key never to another origin.
 */
#include "drtc-http.h"

#include <string.h>

#define USER_AGENT "daydream-rtc/" DRTC_VERSION

struct _DrtcHttp
{
  gchar *name;
  GThread *thread;              /* NULL: runs on a context the caller owns */
  GMainContext *context;
  GMainLoop *loop;
  SoupSession *session;         /* the thread's own */
  GMutex lock;
  GCond cond;
  gboolean ready;
  GHashTable *jobs;             /* active Job set, under lock */
};

typedef struct
{
  DrtcHttp *http;
  gchar *method, *url, *bearer, *content_type, *if_match;
  GBytes *body;
  guint timeout_s, max_redirects, redirects;
  DrtcHttpBearerScope bearer_scope;
  DrtcHttpCallback callback;
  gpointer user_data;
  GDestroyNotify notify;
  GCancellable *cancellable;
  GSource *timeout;
  gboolean timed_out;
  SoupMessage *msg;
} Job;

static gboolean
jobs_pending (DrtcHttp * http)
{
  gboolean pending;

  g_mutex_lock (&http->lock);
  pending = g_hash_table_size (http->jobs) > 0;
  g_mutex_unlock (&http->lock);
  return pending;
}

static gpointer
http_thread (gpointer data)
{
  DrtcHttp *http = data;
  gint64 until;

  g_main_context_push_thread_default (http->context);
  http->session = soup_session_new_with_options ("user-agent", USER_AGENT,
      "max-conns-per-host", 4, NULL);
  g_mutex_lock (&http->lock);
  http->ready = TRUE;
  g_cond_broadcast (&http->cond);
  g_mutex_unlock (&http->lock);
  g_main_loop_run (http->loop);
  soup_session_abort (http->session);
  /* let the cancelled requests deliver their callbacks: one that was still
   * connecting finishes a moment later (bounded, in case one never does) */
  until = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (jobs_pending (http) && g_get_monotonic_time () < until) {
    if (!g_main_context_iteration (http->context, FALSE))
      g_usleep (1000);
  }
  g_clear_object (&http->session);
  while (g_main_context_iteration (http->context, FALSE));
  g_main_context_pop_thread_default (http->context);
  return NULL;
}

/**
 * drtc_http_new:
 * @name: thread name, for debuggers
 *
 * Returns: (transfer full): a running HTTP thread
 */
DrtcHttp *
drtc_http_new (const gchar * name)
{
  DrtcHttp *http = g_new0 (DrtcHttp, 1);

  http->name = g_strdup (name);
  http->context = g_main_context_new ();
  http->loop = g_main_loop_new (http->context, FALSE);
  http->jobs = g_hash_table_new (NULL, NULL);
  g_mutex_init (&http->lock);
  g_cond_init (&http->cond);
  http->thread = g_thread_new (name, http_thread, http);
  g_mutex_lock (&http->lock);
  while (!http->ready)
    g_cond_wait (&http->cond, &http->lock);
  g_mutex_unlock (&http->lock);
  return http;
}

/**
 * drtc_http_new_for_context:
 * @context: a context the caller iterates (an application's main context)
 *
 * No thread of its own: requests and callbacks run on @context. Call it
 * from the thread that iterates @context.
 *
 * Returns: (transfer full): the HTTP client
 */
DrtcHttp *
drtc_http_new_for_context (GMainContext * context)
{
  DrtcHttp *http = g_new0 (DrtcHttp, 1);

  http->name = g_strdup ("main");
  http->context = g_main_context_ref (context);
  http->jobs = g_hash_table_new (NULL, NULL);
  g_mutex_init (&http->lock);
  g_cond_init (&http->cond);
  g_main_context_push_thread_default (context);
  http->session = soup_session_new_with_options ("user-agent", USER_AGENT,
      "max-conns-per-host", 4, NULL);
  g_main_context_pop_thread_default (context);
  return http;
}

GMainContext *
drtc_http_get_context (DrtcHttp * http)
{
  return http->context;
}

/* Runs @func on the HTTP thread (now, when called from it). */
void
drtc_http_invoke (DrtcHttp * http, GSourceFunc func, gpointer data,
    GDestroyNotify notify)
{
  g_main_context_invoke_full (http->context, G_PRIORITY_DEFAULT, func, data,
      notify);
}

/* On the HTTP thread. GLib 2.74 has a race between a GCancellable cancelled
 * on one thread and its sources disposed on another, which leaks the source:
 * so requests are only ever cancelled here. */
static gboolean
cancel_jobs (gpointer data)
{
  GPtrArray *cancellables = data;

  for (guint i = 0; i < cancellables->len; i++)
    g_cancellable_cancel (g_ptr_array_index (cancellables, i));
  return G_SOURCE_REMOVE;
}

/* Cancels every request in flight now (on the HTTP thread, a moment later
 * when called from another); their callbacks get a cancelled error. Requests
 * sent after the call are not affected. */
void
drtc_http_cancel_all (DrtcHttp * http)
{
  GPtrArray *cancellables = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer key;

  g_mutex_lock (&http->lock);
  g_hash_table_iter_init (&iter, http->jobs);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (cancellables, g_object_ref (((Job *) key)->cancellable));
  g_mutex_unlock (&http->lock);
  g_main_context_invoke_full (http->context, G_PRIORITY_DEFAULT, cancel_jobs,
      cancellables, (GDestroyNotify) g_ptr_array_unref);
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/**
 * drtc_http_free:
 *
 * Cancels what is in flight (callbacks still run, with an error) and joins
 * the thread. Not to be called from the HTTP thread itself.
 */
void
drtc_http_free (DrtcHttp * http)
{
  if (!http)
    return;
  g_return_if_fail (g_thread_self () != http->thread);
  drtc_http_cancel_all (http);
  if (http->thread) {
    g_main_context_invoke (http->context, quit_loop, http->loop);
    g_thread_join (http->thread);
    g_main_loop_unref (http->loop);
  } else {
    /* the callbacks of what was cancelled run before the session goes */
    while (g_hash_table_size (http->jobs) > 0)
      g_main_context_iteration (http->context, TRUE);
    soup_session_abort (http->session);
    g_clear_object (&http->session);
  }
  g_main_context_unref (http->context);
  g_hash_table_unref (http->jobs);
  g_mutex_clear (&http->lock);
  g_cond_clear (&http->cond);
  g_free (http->name);
  g_free (http);
}

static void
clear_secret (gchar ** secret)
{
  if (*secret)
    memset (*secret, 0, strlen (*secret));
  g_clear_pointer (secret, g_free);
}

static void
job_free (Job * job)
{
  g_mutex_lock (&job->http->lock);
  g_hash_table_remove (job->http->jobs, job);
  g_mutex_unlock (&job->http->lock);
  if (job->timeout) {
    g_source_destroy (job->timeout);
    g_source_unref (job->timeout);
  }
  if (job->notify)
    job->notify (job->user_data);
  g_clear_object (&job->msg);
  g_clear_object (&job->cancellable);
  g_clear_pointer (&job->body, g_bytes_unref);
  g_free (job->method);
  g_free (job->url);
  clear_secret (&job->bearer);
  g_free (job->content_type);
  g_free (job->if_match);
  g_free (job);
}

static void
job_fail (Job * job, GError * error)
{
  if (job->timed_out) {
    g_clear_error (&error);
    error = g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
        "no answer within %u s", job->timeout_s);
  }
  if (job->callback)
    job->callback (NULL, error, job->user_data);
  g_error_free (error);
  job_free (job);
}

static gboolean
on_job_timeout (gpointer data)
{
  Job *job = data;

  job->timed_out = TRUE;
  g_cancellable_cancel (job->cancellable);
  return G_SOURCE_REMOVE;
}

static void job_send (Job * job);

static gboolean
is_redirect (guint status)
{
  return status == 301 || status == 302 || status == 303 || status == 307
      || status == 308;
}

/* TRUE when the job goes on to @location; FALSE when it failed (and is
 * freed). */
static gboolean
follow_redirect (Job * job, const gchar * location)
{
  GUri *from = soup_message_get_uri (job->msg);
  g_autofree gchar *next = drtc_http_resolve (from, location);
  g_autoptr (GUri) to = next ? g_uri_parse (next, G_URI_FLAGS_ENCODED,
      NULL) : NULL;
  DrtcHttpRedirect policy;

  if (!to) {
    job_fail (job, g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED,
            "redirect to an invalid Location"));
    return FALSE;
  }
  if (++job->redirects > job->max_redirects) {
    job_fail (job, g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED,
            "more than %u redirects", job->max_redirects));
    return FALSE;
  }
  policy = drtc_http_redirect_policy (from, to, job->bearer_scope);
  if (policy == DRTC_HTTP_REDIRECT_REFUSE) {
    job_fail (job, g_error_new (G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
            "refused a redirect from https to plain http"));
    return FALSE;
  }
  if (policy == DRTC_HTTP_REDIRECT_DROP_AUTH && job->bearer) {
    g_debug ("redirect to another origin: the API key is not sent there");
    clear_secret (&job->bearer);
  }
  g_free (job->url);
  job->url = g_steal_pointer (&next);
  return TRUE;
}

static void
on_read (GObject * source, GAsyncResult * result, gpointer data)
{
  Job *job = data;
  GError *error = NULL;
  GBytes *body = soup_session_send_and_read_finish (SOUP_SESSION (source),
      result, &error);
  SoupMessageHeaders *headers;
  DrtcHttpResponse response = { 0 };
  const gchar *location;
  guint status;

  if (!body) {
    job_fail (job, error);
    return;
  }
  status = soup_message_get_status (job->msg);
  headers = soup_message_get_response_headers (job->msg);
  location = soup_message_headers_get_one (headers, "Location");
  if (is_redirect (status) && location) {
    g_bytes_unref (body);
    if (!follow_redirect (job, location))
      return;
    if (status == 303) {        /* see other: fetch it, without the body */
      g_free (job->method);
      job->method = g_strdup ("GET");
      g_clear_pointer (&job->body, g_bytes_unref);
    }
    job_send (job);
    return;
  }
  response.status = status;
  response.headers = headers;
  response.body = body;
  response.uri = soup_message_get_uri (job->msg);
  response.redirects = job->redirects;
  if (job->callback)
    job->callback (&response, NULL, job->user_data);
  g_bytes_unref (body);
  job_free (job);
}

static void
job_send (Job * job)
{
  SoupMessageHeaders *h;

  g_clear_object (&job->msg);
  job->msg = soup_message_new (job->method, job->url);
  if (!job->msg) {
    job_fail (job, g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
            "not a valid http(s) URL"));
    return;
  }
  /* we follow redirects ourselves, keeping method, body and headers */
  soup_message_add_flags (job->msg, SOUP_MESSAGE_NO_REDIRECT);
  h = soup_message_get_request_headers (job->msg);
  if (job->bearer) {
    g_autofree gchar *auth = g_strdup_printf ("Bearer %s", job->bearer);

    soup_message_headers_replace (h, "Authorization", auth);
  }
  if (job->if_match)
    soup_message_headers_replace (h, "If-Match", job->if_match);
  if (job->body)
    soup_message_set_request_body_from_bytes (job->msg, job->content_type,
        job->body);
  soup_session_send_and_read_async (job->http->session, job->msg,
      G_PRIORITY_DEFAULT, job->cancellable, on_read, job);
}

static gboolean
job_start (gpointer data)
{
  Job *job = data;

  if (job->timeout_s) {
    job->timeout = g_timeout_source_new_seconds (job->timeout_s);
    g_source_set_callback (job->timeout, on_job_timeout, job, NULL);
    g_source_attach (job->timeout, job->http->context);
  }
  job_send (job);
  return G_SOURCE_REMOVE;
}

/**
 * drtc_http_send:
 * @request: copied; may be freed when this returns
 * @callback: (nullable): runs once on the HTTP thread
 * @notify: (nullable): frees @user_data after @callback
 *
 * Sends @request from any thread.
 */
void
drtc_http_send (DrtcHttp * http, const DrtcHttpRequest * request,
    DrtcHttpCallback callback, gpointer user_data, GDestroyNotify notify)
{
  Job *job = g_new0 (Job, 1);

  job->http = http;
  job->method = g_strdup (request->method);
  job->url = g_strdup (request->url);
  job->bearer = g_strdup (request->bearer);
  job->content_type = g_strdup (request->content_type);
  job->if_match = g_strdup (request->if_match);
  job->body = request->body ? g_bytes_ref (request->body) : NULL;
  job->timeout_s = request->timeout_s;
  job->max_redirects = request->max_redirects;
  job->bearer_scope = request->bearer_scope;
  job->callback = callback;
  job->user_data = user_data;
  job->notify = notify;
  job->cancellable = g_cancellable_new ();
  g_mutex_lock (&http->lock);
  g_hash_table_add (http->jobs, job);
  g_mutex_unlock (&http->lock);
  g_main_context_invoke (http->context, job_start, job);
}

typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean done;
  guint status;
} SyncWait;

static void
sync_wait_clear (gpointer data)
{
  SyncWait *w = data;

  g_mutex_clear (&w->lock);
  g_cond_clear (&w->cond);
}

static void
sync_wait_release (gpointer data)
{
  g_atomic_rc_box_release_full (data, sync_wait_clear);
}

static void
on_sync_done (DrtcHttpResponse * response, const GError * error, gpointer data)
{
  SyncWait *w = data;

  g_mutex_lock (&w->lock);
  w->done = TRUE;
  w->status = response ? response->status : 0;
  g_cond_signal (&w->cond);
  g_mutex_unlock (&w->lock);
}

/**
 * drtc_http_send_and_wait:
 * @wait_s: the longest the caller blocks, in seconds
 * @status: (out) (optional): the HTTP status, 0 when the request failed
 *
 * Sends @request and blocks the calling thread until it is answered or
 * @wait_s seconds pass; the request goes on after a timeout, and its late
 * answer is dropped safely. Must not be called on the DrtcHttp thread
 * itself (it would wait for itself): there it only sends.
 *
 * Returns: %TRUE when the request finished (answered or failed) in time
 */
gboolean
drtc_http_send_and_wait (DrtcHttp * http, const DrtcHttpRequest * request,
    guint wait_s, guint * status)
{
  SyncWait *w = g_atomic_rc_box_new0 (SyncWait);
  gint64 deadline = g_get_monotonic_time () + (gint64) wait_s * G_USEC_PER_SEC;
  gboolean done = FALSE;

  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  drtc_http_send (http, request, on_sync_done, g_atomic_rc_box_acquire (w),
      sync_wait_release);
  if (!g_main_context_is_owner (http->context)) {
    g_mutex_lock (&w->lock);
    while (!w->done && g_cond_wait_until (&w->cond, &w->lock, deadline));
    done = w->done;
    if (status)
      *status = w->status;
    g_mutex_unlock (&w->lock);
  }
  sync_wait_release (w);
  return done;
}

/**
 * drtc_http_resolve:
 * @base: the URL a response came from
 * @reference: an absolute or relative URL (a Location header)
 *
 * Returns: (transfer full) (nullable): the absolute URL
 */
gchar *
drtc_http_resolve (GUri * base, const gchar * reference)
{
  g_autoptr (GUri) uri = NULL;

  if (!base || !reference || !*reference)
    return NULL;
  uri = g_uri_parse_relative (base, reference, G_URI_FLAGS_ENCODED, NULL);
  if (!drtc_http_uri_is_http (uri))
    return NULL;
  return g_uri_to_string (uri);
}

/**
 * drtc_http_uri_is_http:
 * @uri: (nullable): a parsed URL
 *
 * Returns: %TRUE when @uri is an http or https URL (GUri gives the scheme
 *   in lower case)
 */
gboolean
drtc_http_uri_is_http (GUri * uri)
{
  const gchar *scheme = uri ? g_uri_get_scheme (uri) : NULL;

  return g_strcmp0 (scheme, "http") == 0 || g_strcmp0 (scheme, "https") == 0;
}

static gint
effective_port (GUri * uri)
{
  gint port = g_uri_get_port (uri);

  if (port > 0)
    return port;
  return g_strcmp0 (g_uri_get_scheme (uri), "https") == 0 ? 443 : 80;
}

static gboolean
same_origin (GUri * a, GUri * b)
{
  return g_strcmp0 (g_uri_get_scheme (a), g_uri_get_scheme (b)) == 0
      && g_ascii_strcasecmp (g_uri_get_host (a) ? g_uri_get_host (a) : "",
      g_uri_get_host (b) ? g_uri_get_host (b) : "") == 0
      && effective_port (a) == effective_port (b);
}

/**
 * drtc_http_same_origin:
 * @a: (nullable): a URL
 * @b: (nullable): another
 *
 * Returns: %TRUE when both are http(s) URLs with the same scheme, host and
 *   port (a missing port is the scheme's)
 */
gboolean
drtc_http_same_origin (const gchar * a, const gchar * b)
{
  g_autoptr (GUri) ua = a ? g_uri_parse (a, G_URI_FLAGS_NONE, NULL) : NULL;
  g_autoptr (GUri) ub = b ? g_uri_parse (b, G_URI_FLAGS_NONE, NULL) : NULL;

  return drtc_http_uri_is_http (ua) && drtc_http_uri_is_http (ub)
      && same_origin (ua, ub);
}

/**
 * drtc_http_redirect_policy:
 * @from: the URL that answered with a redirect
 * @to: where the redirect points (absolute)
 * @scope: what the request's bearer token is
 *
 * The one rule for every redirect we follow: only to http(s), never from
 * https down to http; a #DRTC_HTTP_BEARER_SAME_ORIGIN token stays behind
 * when scheme, host or port change.
 *
 * Returns: whether to follow, and with or without the Authorization header
 */
DrtcHttpRedirect
drtc_http_redirect_policy (GUri * from, GUri * to, DrtcHttpBearerScope scope)
{
  if (!drtc_http_uri_is_http (from) || !drtc_http_uri_is_http (to))
    return DRTC_HTTP_REDIRECT_REFUSE;
  if (g_str_equal (g_uri_get_scheme (from), "https")
      && !g_str_equal (g_uri_get_scheme (to), "https"))
    return DRTC_HTTP_REDIRECT_REFUSE;
  if (scope == DRTC_HTTP_BEARER_SAME_ORIGIN && !same_origin (from, to))
    return DRTC_HTTP_REDIRECT_DROP_AUTH;
  return DRTC_HTTP_REDIRECT_KEEP_AUTH;
}

/**
 * drtc_http_host_is_loopback:
 * @host: a listen address: an IP literal or "localhost"
 *
 * Returns: %TRUE when @host only reaches this machine
 */
gboolean
drtc_http_host_is_loopback (const gchar * host)
{
  g_autoptr (GInetAddress) a = NULL;

  if (!host)
    return FALSE;
  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;
  a = g_inet_address_new_from_string (host);
  return a && g_inet_address_get_is_loopback (a);
}

/* "stun:host:port" -> "stun://host:port"; TURN with credentials
 * -> "turn://user:pass@host:port?transport=..." as webrtcbin wants them. */
static gchar *
ice_server_url (const gchar * url, GHashTable * params)
{
  const gchar *rest;
  const gchar *user, *credential;
  g_autofree gchar *scheme = NULL;
  g_autofree gchar *euser = NULL, *ecred = NULL;

  rest = strchr (url, ':');
  if (!rest || !rest[1])
    return NULL;
  scheme = g_ascii_strdown (url, rest - url);
  rest++;
  while (*rest == '/')
    rest++;
  if (g_str_equal (scheme, "stun") || g_str_equal (scheme, "stuns"))
    return g_strdup_printf ("%s://%s", scheme, rest);
  if (!g_str_equal (scheme, "turn") && !g_str_equal (scheme, "turns"))
    return NULL;
  user = params ? g_hash_table_lookup (params, "username") : NULL;
  credential = params ? g_hash_table_lookup (params, "credential") : NULL;
  if (!user || !credential)
    return NULL;                /* a TURN server is useless without them */
  euser = g_uri_escape_string (user, NULL, FALSE);
  ecred = g_uri_escape_string (credential, NULL, FALSE);
  return g_strdup_printf ("%s://%s:%s@%s", scheme, euser, ecred, rest);
}

static void
add_link (GPtrArray * out, const gchar * item)
{
  const gchar *open = strchr (item, '<');
  const gchar *close = open ? strchr (open, '>') : NULL;
  g_autofree gchar *url = NULL;
  GHashTable *params = NULL;
  const gchar *rel, *semi;
  gchar *server;

  if (!open || !close)
    return;
  url = g_strndup (open + 1, close - open - 1);
  semi = strchr (close, ';');
  if (semi)
    params = soup_header_parse_semi_param_list (semi + 1);
  rel = params ? g_hash_table_lookup (params, "rel") : NULL;
  if (rel && strstr (rel, "ice-server")
      && (server = ice_server_url (g_strstrip (url), params)))
    g_ptr_array_add (out, server);
  if (params)
    soup_header_free_param_list (params);
}

/**
 * drtc_http_ice_servers_from_links:
 *
 * The STUN/TURN servers of the Link headers with rel="ice-server"
 * (RFC 9725 section 4.6), as webrtcbin URLs; malformed entries are skipped.
 *
 * Returns: (transfer full) (element-type utf8): the servers, maybe none
 */
GPtrArray *
drtc_http_ice_servers_from_links (SoupMessageHeaders * headers)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  const gchar *links;
  GSList *items, *l;

  links = headers ? soup_message_headers_get_list (headers, "Link") : NULL;
  if (!links)
    return out;
  items = soup_header_parse_list (links);
  for (l = items; l; l = l->next)
    add_link (out, l->data);
  soup_header_free_list (items);
  return out;
}

/**
 * drtc_http_redact_url:
 *
 * WHIP/WHEP URLs carry stream keys; logs get scheme, host and port only.
 *
 * Returns: (transfer full): "https://host:port/..."
 */
gchar *
drtc_http_redact_url (const gchar * url)
{
  g_autoptr (GUri) uri = url ? g_uri_parse (url, G_URI_FLAGS_NONE, NULL) : NULL;

  if (!uri || !g_uri_get_host (uri))
    return g_strdup ("(invalid URL)");
  if (g_uri_get_port (uri) > 0)
    return g_strdup_printf ("%s://%s:%d/...", g_uri_get_scheme (uri),
        g_uri_get_host (uri), g_uri_get_port (uri));
  return g_strdup_printf ("%s://%s/...", g_uri_get_scheme (uri),
      g_uri_get_host (uri));
}

/**
 * drtc_http_body_excerpt:
 *
 * Returns: (transfer full): up to @max printable bytes of @body, for error
 *   messages
 */
gchar *
drtc_http_body_excerpt (GBytes * body, gsize max)
{
  gsize len = 0;
  const gchar *data = body ? g_bytes_get_data (body, &len) : NULL;
  GString *out = g_string_new (NULL);

  for (gsize i = 0; data && i < len && out->len < max; i++)
    g_string_append_c (out, g_ascii_isprint (data[i]) ? data[i] : ' ');
  if (data && len > max)
    g_string_append (out, "...");
  return g_strstrip (g_string_free (out, FALSE));
}
