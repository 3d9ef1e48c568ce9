/* The HTTPS client of the remote certificate authorities, on libcurl. */
#include "config.h"

#include "ds-ca-http.h"

#include <curl/curl.h>
#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "ds-crypto.h"
#include "ds-error.h"
#include "ds-pkcs11.h"
#include "ds-util.h"

/* Answers larger than this are not certificates. */
#define MAX_BODY (1024 * 1024)
/* Backoff between attempts: 500 ms, doubling, at most 8 s. */
#define BACKOFF_FIRST_MS 500
#define BACKOFF_MAX_MS   8000

struct _DsCaHttp
{
  GObject            parent_instance;

  char              *base_url;
  DsRemoteCaOptions *options;
  GMutex             lock;  /* the pool */
  GPtrArray         *idle;  /* CURL *, each with its own live connection */
};

G_DEFINE_FINAL_TYPE (DsCaHttp, ds_ca_http, G_TYPE_OBJECT)

DsRemoteCaOptions *
ds_remote_ca_options_copy (const DsRemoteCaOptions *o)
{
  DsRemoteCaOptions *c = g_new0 (DsRemoteCaOptions, 1);

  *c = *o;
  c->ca_bundle = g_strdup (o->ca_bundle);
  c->client_cert = g_strdup (o->client_cert);
  c->client_key = g_strdup (o->client_key);
  c->client_key_pin = g_strdup (o->client_key_pin);
  c->pkcs11_module = g_strdup (o->pkcs11_module);
  c->pin = g_strdup (o->pin);
  c->username = g_strdup (o->username);
  c->password = g_strdup (o->password);
  c->paa_file = g_strdup (o->paa_file);
  c->pai_file = g_strdup (o->pai_file);
  c->label = g_strdup (o->label);
  c->profile = g_strdup (o->profile);
  return c;
}

void
ds_remote_ca_options_free (DsRemoteCaOptions *o)
{
  if (o == NULL)
    return;
  g_free (o->ca_bundle);
  g_free (o->client_cert);
  g_free (o->client_key);
  g_free (o->pin);
  g_free (o->username);
  ds_pkcs11_secret_free (o->password);
  ds_pkcs11_secret_free (o->client_key_pin);
  g_free (o->pkcs11_module);
  g_free (o->paa_file);
  g_free (o->pai_file);
  g_free (o->label);
  g_free (o->profile);
  g_free (o);
}

void
ds_http_response_free (DsHttpResponse *r)
{
  if (r == NULL)
    return;
  g_free (r->content_type);
  g_free (r->content_transfer_encoding);
  g_clear_pointer (&r->body, g_bytes_unref);
  g_free (r);
}

static void
ds_ca_http_finalize (GObject *object)
{
  DsCaHttp *self = DS_CA_HTTP (object);

  g_free (self->base_url);
  ds_remote_ca_options_free (self->options);
  g_ptr_array_unref (self->idle);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (ds_ca_http_parent_class)->finalize (object);
}

static void
ds_ca_http_class_init (DsCaHttpClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ds_ca_http_finalize;
}

static void
ds_ca_http_init (DsCaHttp *self)
{
  g_mutex_init (&self->lock);
  self->idle = g_ptr_array_new_with_free_func ((GDestroyNotify) curl_easy_cleanup);
}

static gboolean
check_readable (const char *what,
                const char *path,
                GError    **error)
{
  if (g_access (path, R_OK) != 0)
    {
      int errsv = errno;
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("Cannot read the %s %s: %s"),
                   what, path, g_strerror (errsv));
      return FALSE;
    }
  /* libcurl reads it later: a FIFO would hang the station there. */
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("Cannot read the %s %s: %s"), what, path,
                   _("it is not a regular file"));
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_private (const char *path,
               GError    **error)
{
  GStatBuf st;

  if (!check_readable (_("client key"), path, error))
    return FALSE;
  if (g_stat (path, &st) == 0 && (st.st_mode & 0077) != 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("The client key %s can be read by other users (mode %04o); make it 0600 and try again"),
                   path, (unsigned) (st.st_mode & 07777));
      return FALSE;
    }
  return TRUE;
}

DsCaHttp *
ds_ca_http_new (const char              *base_url,
                const DsRemoteCaOptions *options,
                GError                 **error)
{
  static gsize curl_ready = 0;
  g_autoptr(DsCaHttp) self = NULL;

  if (g_once_init_enter (&curl_ready))
    {
      curl_global_init (CURL_GLOBAL_DEFAULT);
      g_once_init_leave (&curl_ready, 1);
    }

  if (base_url == NULL || g_ascii_strncasecmp (base_url, "https://", 8) != 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("The CA address “%s” is not an https:// URL; a CA is only reached over TLS"),
                   base_url != NULL ? base_url : "");
      return NULL;
    }
  {
    g_autoptr(GUri) uri = g_uri_parse (base_url, G_URI_FLAGS_NONE, NULL);

    if (uri == NULL || g_uri_get_host (uri) == NULL)
      {
        g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("The CA address “%s” is not a URL"), base_url);
        return NULL;
      }
    /* A password in a URL ends up in shell histories and process lists. */
    if (g_uri_get_userinfo (uri) != NULL)
      {
        g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                     _("The CA address must not carry a user or password; use --ca-user and --ca-password-file or DS_CA_PASSWORD"));
        return NULL;
      }
  }
  if (options->ca_bundle == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("No CA bundle to verify the CA server with: name the file of the CA’s certificates (CA bundle in Preferences, or --ca-bundle)"));
      return NULL;
    }
  if (!check_readable (_("CA bundle"), options->ca_bundle, error))
    return NULL;
  if ((options->client_cert == NULL) != (options->client_key == NULL))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("A client certificate needs its key, and a key its certificate (--client-cert and --client-key)"));
      return NULL;
    }
  if (options->client_cert != NULL && !check_readable (_("client certificate"), options->client_cert, error))
    return NULL;
  if (options->client_key != NULL && !ds_pkcs11_is_uri (options->client_key) &&
      !check_private (options->client_key, error))
    return NULL;
  if (options->client_key != NULL && ds_pkcs11_is_uri (options->client_key))
    {
      if (!ds_pkcs11_check_uri (options->client_key, error))
        return NULL;
      /* Without a PIN the engine would ask for one on the terminal. */
      if (options->client_key_pin == NULL || *options->client_key_pin == '\0')
        {
          g_autofree char *shown = ds_pkcs11_display_uri (options->client_key);

          g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                       _("The client key %s is in a PKCS#11 token and needs the token's PIN: put it in a file of mode 0600 (--client-key-pin-file) or in DS_PKCS11_PIN"),
                       shown);
          return NULL;
        }
      if (!ds_pkcs11_engine_prepare (options->pkcs11_module, error))
        return NULL;
    }
  else if (options->pkcs11_module != NULL || options->client_key_pin != NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("A PKCS#11 module or token PIN was given, but the client key is not a pkcs11: URI"));
      return NULL;
    }
  if (options->pin != NULL && !g_str_has_prefix (options->pin, "sha256//"))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("The public-key pin must look like sha256//BASE64 (got “%s”)"), options->pin);
      return NULL;
    }
  if (options->password != NULL && options->username == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("A CA password was given without a user name"));
      return NULL;
    }

  self = g_object_new (DS_TYPE_CA_HTTP, NULL);
  self->base_url = g_strdup (base_url);
  /* One trailing slash or none: paths start with one. */
  while (g_str_has_suffix (self->base_url, "/"))
    self->base_url[strlen (self->base_url) - 1] = '\0';
  self->options = ds_remote_ca_options_copy (options);
  if (self->options->timeout_s == 0)
    self->options->timeout_s = 30;
  if (self->options->connect_timeout_s == 0)
    self->options->connect_timeout_s = 10;
  if (self->options->retries == 0)
    self->options->retries = 3;
  if (self->options->pending_limit_s == 0)
    self->options->pending_limit_s = 300;
  return g_steal_pointer (&self);
}

const char *
ds_ca_http_get_base_url (DsCaHttp *self)
{
  return self->base_url;
}

const DsRemoteCaOptions *
ds_ca_http_get_options (DsCaHttp *self)
{
  return self->options;
}

static CURL *
take_handle (DsCaHttp *self)
{
  CURL *curl = NULL;

  g_mutex_lock (&self->lock);
  if (self->idle->len > 0)
    curl = g_ptr_array_steal_index_fast (self->idle, self->idle->len - 1);
  g_mutex_unlock (&self->lock);
  if (curl == NULL)
    curl = curl_easy_init ();
  return curl;
}

static void
give_back (DsCaHttp *self,
           CURL     *curl)
{
  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->idle, curl);
  g_mutex_unlock (&self->lock);
}

typedef struct {
  GByteArray   *body;
  GCancellable *cancellable;
  char         *cte;
  int           retry_after_s;
  gboolean      too_big;
} Transfer;

static size_t
write_cb (char   *data,
          size_t  size,
          size_t  nmemb,
          void   *user_data)
{
  Transfer *t = user_data;
  gsize n = size * nmemb;

  if (t->body->len + n > MAX_BODY)
    {
      t->too_big = TRUE;
      return 0;
    }
  g_byte_array_append (t->body, (const guint8 *) data, n);
  return n;
}

/* Parses a Retry-After value: delta-seconds or an HTTP date. */
static int
parse_retry_after (const char *value)
{
  char *end = NULL;
  gint64 n = g_ascii_strtoll (value, &end, 10);
  time_t when;

  if (end != value && *end == '\0' && n >= 0)
    return (int) MIN (n, G_MAXINT);
  when = curl_getdate (value, NULL);
  if (when < 0)
    return -1;
  return (int) MAX (0, when - (time_t) (g_get_real_time () / G_USEC_PER_SEC));
}

static size_t
header_cb (char   *data,
           size_t  size,
           size_t  nmemb,
           void   *user_data)
{
  Transfer *t = user_data;
  gsize n = size * nmemb;
  g_autofree char *line = g_strndup (data, n);
  char *colon;

  g_strstrip (line);
  if (g_ascii_strncasecmp (line, "HTTP/", 5) == 0)
    {
      /* A new response (after a 100 Continue or a redirect): start over. */
      g_clear_pointer (&t->cte, g_free);
      t->retry_after_s = -1;
      return n;
    }
  colon = strchr (line, ':');
  if (colon == NULL)
    return n;
  *colon = '\0';
  if (g_ascii_strcasecmp (line, "Retry-After") == 0)
    t->retry_after_s = parse_retry_after (g_strstrip (colon + 1));
  else if (g_ascii_strcasecmp (line, "Content-Transfer-Encoding") == 0)
    {
      g_free (t->cte);
      t->cte = g_strdup (g_strstrip (colon + 1));
    }
  return n;
}

static int
progress_cb (void      *user_data,
             curl_off_t dltotal,
             curl_off_t dlnow,
             curl_off_t ultotal,
             curl_off_t ulnow)
{
  Transfer *t = user_data;

  return g_cancellable_is_cancelled (t->cancellable) ? 1 : 0;
}

/* What went wrong, in words for the operator, and whether trying again
 * may help. */
static void
set_curl_error (DsCaHttp   *self,
                CURLcode    code,
                const char *detail,
                GError    **error)
{
  const char *url = self->base_url;
  const char *why = detail != NULL && *detail ? detail : curl_easy_strerror (code);

  /* The server's TLS alert says it outright; libcurl reports it under
   * several codes depending on when it arrives. */
  if (strstr (why, "alert bad certificate") != NULL || strstr (why, "alert certificate required") != NULL ||
      strstr (why, "alert unknown ca") != NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                   _("The CA server %s refused the station's TLS client certificate (none given, or not one it trusts): %s"),
                   url, why);
      return;
    }
  switch (code)
    {
    case CURLE_PEER_FAILED_VERIFICATION:
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                   _("The CA server %s is not who it should be: its TLS certificate does not verify against the CA bundle %s (%s)"),
                   url, self->options->ca_bundle, why);
      break;
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                   _("The CA server %s is not who it should be: its public key does not match the configured pin"),
                   url);
      break;
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("The station's TLS settings for %s are unusable (CA bundle, client certificate or key): %s"),
                   url, why);
      break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SEND_FAIL_REWIND:
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                   _("The TLS handshake with the CA server %s failed (a client certificate it does not accept, or no common TLS version): %s"),
                   url, why);
      break;
    case CURLE_OPERATION_TIMEDOUT:
      g_set_error (error, DS_ERROR, DS_ERROR_TIMED_OUT,
                   _("The CA server %s did not answer within %u s"), url, self->options->timeout_s);
      break;
    case CURLE_ABORTED_BY_CALLBACK:
      g_set_error_literal (error, DS_ERROR, DS_ERROR_CANCELLED, _("Cancelled"));
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
      g_set_error (error, DS_ERROR, DS_ERROR_IO,
                   _("Cannot connect to the CA server %s: %s"), url, why);
      break;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
      /* What a TLS 1.3 server that refuses the client certificate looks
       * like from here: the handshake "succeeds", then the line drops. */
      g_set_error (error, DS_ERROR, DS_ERROR_IO,
                   _("The CA server %s closed the connection (%s); if it requires a client certificate, check that the station's (--client-cert) is one it trusts"),
                   url, why);
      break;
    default:
      g_set_error (error, DS_ERROR, DS_ERROR_IO,
                   _("Talking to the CA server %s failed: %s"), url, why);
      break;
    }
}

/* Failures where a new attempt may succeed and the server cannot have
 * acted on the request (or the request is a GET). */
static gboolean
retryable (CURLcode code,
           gboolean idempotent)
{
  switch (code)
    {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
      return TRUE;
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
      return idempotent;
    default:
      return FALSE;
    }
}

static DsHttpResponse *
request_once (DsCaHttp          *self,
              CURL              *curl,
              const char        *method,
              const char        *url,
              struct curl_slist *headers,
              GBytes            *body,
              GCancellable      *cancellable,
              CURLcode          *code_out,
              GError           **error)
{
  const DsRemoteCaOptions *o = self->options;
  char errbuf[CURL_ERROR_SIZE] = "";
  Transfer t = { g_byte_array_new (), cancellable, NULL, -1, FALSE };
  gboolean pkcs11 = ds_pkcs11_is_uri (o->client_key);
  DsHttpResponse *r;
  char *ctype = NULL;
  CURLcode code;

  /* Each request sets everything, so a handle carries nothing over from the
   * last one but its connection. */
  curl_easy_reset (curl);
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, (long) o->timeout_s);
  curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT, (long) o->connect_timeout_s);
  curl_easy_setopt (curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt (curl, CURLOPT_FOLLOWLOCATION, 0L);
  /* The server is always verified, against the configured bundle only. */
  curl_easy_setopt (curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt (curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt (curl, CURLOPT_CAINFO, o->ca_bundle);
  curl_easy_setopt (curl, CURLOPT_CAPATH, NULL);
  curl_easy_setopt (curl, CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2);
  if (o->pin != NULL)
    curl_easy_setopt (curl, CURLOPT_PINNEDPUBLICKEY, o->pin);
  if (o->client_cert != NULL)
    curl_easy_setopt (curl, CURLOPT_SSLCERT, o->client_cert);
  if (pkcs11)
    {
      /* The engine was loaded by ds_ca_http_new(); the handle takes a
       * reference to it.  The PIN goes to libp11 through libcurl's UI
       * callback, never into the URI. */
      code = curl_easy_setopt (curl, CURLOPT_SSLENGINE, DS_PKCS11_ENGINE);
      if (code != CURLE_OK)
        {
          *code_out = code;
          g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                       _("libcurl cannot use OpenSSL's “%s” engine for the client key (%s); install %s"),
                       DS_PKCS11_ENGINE, curl_easy_strerror (code), DS_PKCS11_ENGINE_PACKAGE);
          g_byte_array_unref (t.body);
          return NULL;
        }
      curl_easy_setopt (curl, CURLOPT_SSLKEYTYPE, "ENG");
      curl_easy_setopt (curl, CURLOPT_SSLKEY, o->client_key);
      curl_easy_setopt (curl, CURLOPT_KEYPASSWD, o->client_key_pin);
    }
  else if (o->client_key != NULL)
    curl_easy_setopt (curl, CURLOPT_SSLKEY, o->client_key);
  if (o->username != NULL)
    {
      curl_easy_setopt (curl, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
      curl_easy_setopt (curl, CURLOPT_USERNAME, o->username);
      curl_easy_setopt (curl, CURLOPT_PASSWORD, o->password != NULL ? o->password : "");
    }
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  if (g_strcmp0 (method, "POST") == 0)
    {
      gsize len = 0;
      const void *data = body != NULL ? g_bytes_get_data (body, &len) : "";

      curl_easy_setopt (curl, CURLOPT_POST, 1L);
      curl_easy_setopt (curl, CURLOPT_POSTFIELDS, data);
      curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
    }
  else
    curl_easy_setopt (curl, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt (curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt (curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt (curl, CURLOPT_XFERINFOFUNCTION, progress_cb);
  curl_easy_setopt (curl, CURLOPT_XFERINFODATA, &t);

  if (pkcs11)
    ERR_clear_error ();
  code = curl_easy_perform (curl);
  *code_out = code;
  if (code != CURLE_OK)
    {
      g_debug ("%s: curl error %d (%s): %s", url, code, curl_easy_strerror (code), errbuf);
      if (pkcs11 && (code == CURLE_SSL_CERTPROBLEM || code == CURLE_SSL_ENGINE_NOTFOUND ||
                     code == CURLE_SSL_ENGINE_INITFAILED || code == CURLE_SSL_ENGINE_SETFAILED))
        {
          /* libp11's reason (a wrong PIN, a missing object) is still in
           * this thread's OpenSSL error queue; libcurl's own text only says
           * the key did not load. */
          g_autofree char *why = ds_pkcs11_take_engine_error ();
          g_autofree char *shown = ds_pkcs11_display_uri (o->client_key);

          g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                       _("The station's client key %s cannot be used from its PKCS#11 token (%s): check the token PIN (--client-key-pin-file or DS_PKCS11_PIN), that the token is present and that the URI names its private key"),
                       shown, why != NULL ? why : errbuf);
        }
      else if (t.too_big)
        g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL,
                     _("The CA server %s sent more than %d bytes; that is not a certificate"),
                     self->base_url, MAX_BODY);
      else
        set_curl_error (self, code, errbuf, error);
      g_byte_array_unref (t.body);
      g_free (t.cte);
      return NULL;
    }

  r = g_new0 (DsHttpResponse, 1);
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &r->status);
  curl_easy_getinfo (curl, CURLINFO_CONTENT_TYPE, &ctype);
  r->content_type = g_strdup (ctype);
  r->content_transfer_encoding = t.cte;
  r->retry_after_s = t.retry_after_s;
  r->body = g_byte_array_free_to_bytes (t.body);
  return r;
}

DsHttpResponse *
ds_ca_http_request (DsCaHttp          *self,
                    const char        *method,
                    const char        *path,
                    const char *const *headers,
                    GBytes            *body,
                    GCancellable      *cancellable,
                    GError           **error)
{
  g_autofree char *url = g_strconcat (self->base_url, path, NULL);
  struct curl_slist *list = NULL;
  gboolean idempotent = g_strcmp0 (method, "GET") == 0;
  guint backoff_ms = BACKOFF_FIRST_MS;
  DsHttpResponse *r = NULL;
  CURL *curl;

  g_return_val_if_fail (DS_IS_CA_HTTP (self), NULL);

  for (guint i = 0; headers != NULL && headers[i] != NULL; i++)
    list = curl_slist_append (list, headers[i]);
  /* No "Expect: 100-continue" round trip for a CSR of a few hundred bytes. */
  list = curl_slist_append (list, "Expect:");

  curl = take_handle (self);
  for (guint attempt = 0;; attempt++)
    {
      g_autoptr(GError) local_error = NULL;
      CURLcode code = CURLE_OK;
      gboolean last = attempt >= self->options->retries;

      g_clear_pointer (&r, ds_http_response_free);
      g_debug ("%s %s (attempt %u)", method, url, attempt + 1);
      r = request_once (self, curl, method, url, list, body, cancellable, &code, &local_error);
      if (r != NULL)
        {
          g_debug ("%s %s: HTTP %ld, %s", method, url, r->status,
                   r->content_type != NULL ? r->content_type : "no content type");
          if (r->status < 500 || last)
            break;
          g_message ("The CA server %s answered HTTP %ld; trying again in %u ms", self->base_url,
                     r->status, backoff_ms);
        }
      else if (!retryable (code, idempotent) || last)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          break;
        }
      else
        g_message ("%s; trying again in %u ms", local_error->message, backoff_ms);

      if (!ds_ca_http_sleep (backoff_ms, cancellable, error))
        {
          g_clear_pointer (&r, ds_http_response_free);
          break;
        }
      backoff_ms = MIN (backoff_ms * 2, BACKOFF_MAX_MS);
    }
  give_back (self, curl);
  curl_slist_free_all (list);
  return r;
}

gboolean
ds_ca_http_sleep (guint         ms,
                  GCancellable *cancellable,
                  GError      **error)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  /* Short naps: a cancelled job stops within a tenth of a second. */
  while (g_get_monotonic_time () < end)
    {
      gint64 left = end - g_get_monotonic_time ();

      if (ds_error_set_if_cancelled (cancellable, error))
        return FALSE;
      g_usleep (MIN (left, 100 * 1000));
    }
  return !ds_error_set_if_cancelled (cancellable, error);
}

char *
ds_http_body_excerpt (GBytes *body)
{
  gsize len = 0;
  const char *data = body != NULL ? g_bytes_get_data (body, &len) : NULL;
  gsize start = 0, end;

  /* The first line with something on it, made safe to show. */
  while (start < len && (data[start] == '\n' || data[start] == '\r'))
    start++;
  for (end = start; end < len && data[end] != '\n' && data[end] != '\r'; end++)
    ;
  return ds_util_sanitize_text (data != NULL ? data + start : "", (gssize) (end - start), 160);
}

X509 *
ds_remote_ca_load_cert (const char *path,
                        GError    **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) local_error = NULL;
  gsize len = 0;
  X509 *cert;

  if (!ds_util_read_file (path, DS_UTIL_MAX_CERT_FILE, &contents, &len, &local_error))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, "%s", local_error->message);
      return NULL;
    }
  bytes = g_bytes_new_take (g_steal_pointer (&contents), len);
  cert = ds_cert_parse (bytes, &local_error);
  if (cert == NULL)
    g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, "%s: %s", path, local_error->message);
  return cert;
}

X509 *
ds_remote_ca_find_issuer (GPtrArray *candidates,
                          X509      *cert)
{
  for (guint i = 0; candidates != NULL && i < candidates->len; i++)
    {
      X509 *c = g_ptr_array_index (candidates, i);

      /* Names, key identifiers and key usage; then the signature itself. */
      if (c != cert && X509_check_issued (c, cert) == X509_V_OK)
        {
          g_autoptr(EVP_PKEY) key = X509_get_pubkey (c);

          if (key != NULL && X509_verify (cert, key) == 1)
            return c;
        }
    }
  ERR_clear_error ();
  return NULL;
}
