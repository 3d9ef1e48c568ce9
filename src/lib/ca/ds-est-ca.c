/* EST (RFC 7030, RFC 8951) client: the station's DACs from a remote CA. */
#include "config.h"

#include "ds-est-ca.h"

#include <glib/gi18n-lib.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "ds-crypto.h"
#include "ds-error.h"
#include "ds-pkcs7.h"

/* When a 202 comes without Retry-After (RFC 7030 requires one). */
#define DEFAULT_RETRY_AFTER_S 10

struct _DsEstCa
{
  GObject    parent_instance;

  DsCaHttp  *http;
  char      *url;           /* the EST root, with the label */
  char      *path_prefix;   /* what follows the server address */
  GBytes    *paa_configured;

  GMutex     lock;          /* the fields below */
  GPtrArray *ca_certs;      /* X509 *, from /cacerts; NULL until fetched */
  GBytes    *paa_der;       /* the configured PAA, or the self-signed one of /cacerts */
};

static void ds_est_ca_iface_init (DsCaInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (DsEstCa, ds_est_ca, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (DS_TYPE_CA, ds_est_ca_iface_init))

static void
ds_est_ca_finalize (GObject *object)
{
  DsEstCa *self = DS_EST_CA (object);

  g_clear_object (&self->http);
  g_free (self->url);
  g_free (self->path_prefix);
  g_clear_pointer (&self->paa_configured, g_bytes_unref);
  g_clear_pointer (&self->ca_certs, g_ptr_array_unref);
  g_clear_pointer (&self->paa_der, g_bytes_unref);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (ds_est_ca_parent_class)->finalize (object);
}

static void
ds_est_ca_class_init (DsEstCaClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ds_est_ca_finalize;
}

static void
ds_est_ca_init (DsEstCa *self)
{
  g_mutex_init (&self->lock);
}

DsEstCa *
ds_est_ca_new (const char              *url,
               const DsRemoteCaOptions *options,
               GError                 **error)
{
  g_autoptr(DsEstCa) self = g_object_new (DS_TYPE_EST_CA, NULL);
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *server = NULL;
  g_autofree char *path = NULL;

  uri = g_uri_parse (url != NULL ? url : "", G_URI_FLAGS_NONE, &local_error);
  if (uri == NULL || g_strcmp0 (g_uri_get_scheme (uri), "https") != 0 || g_uri_get_host (uri) == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("The EST server “%s” is not an https:// URL"), url != NULL ? url : "");
      return NULL;
    }
  if (g_uri_get_userinfo (uri) != NULL)
    {
      /* A password in a URL ends up in shell histories and process lists. */
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("The EST server URL must not carry a user or password; use --ca-user and --ca-password-file or DS_CA_PASSWORD"));
      return NULL;
    }
  if (options->label != NULL &&
      (*options->label == '\0' || strpbrk (options->label, "/?#% ") != NULL))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("The EST label “%s” is not a plain path segment"), options->label);
      return NULL;
    }

  /* The server part goes to the HTTP client; the EST path is ours. */
  server = g_uri_join (G_URI_FLAGS_NONE, "https", NULL, g_uri_get_host (uri),
                       g_uri_get_port (uri), "", NULL, NULL);
  path = g_strdup (g_uri_get_path (uri));
  while (g_str_has_suffix (path, "/"))
    path[strlen (path) - 1] = '\0';
  if (!g_str_has_suffix (path, "/.well-known/est"))
    {
      g_autofree char *p = g_strconcat (path, "/.well-known/est", NULL);
      g_free (path);
      path = g_steal_pointer (&p);
    }
  if (options->label != NULL)
    {
      g_autofree char *p = g_strconcat (path, "/", options->label, NULL);
      g_free (path);
      path = g_steal_pointer (&p);
    }

  self->http = ds_ca_http_new (server, options, error);
  if (self->http == NULL)
    return NULL;
  self->path_prefix = g_steal_pointer (&path);
  self->url = g_strconcat (ds_ca_http_get_base_url (self->http), self->path_prefix, NULL);

  if (options->paa_file != NULL)
    {
      g_autoptr(X509) paa = ds_remote_ca_load_cert (options->paa_file, error);

      if (paa == NULL)
        return NULL;
      self->paa_configured = ds_cert_to_der (paa);
    }
  return g_steal_pointer (&self);
}

const char *
ds_est_ca_get_url (DsEstCa *self)
{
  return self->url;
}

static const char *
ds_est_ca_get_name (DsCa *ca)
{
  return "EST";
}

/* An error for an answer that is not what EST allows here. */
static void
set_status_error (DsEstCa        *self,
                  const char     *what,
                  DsHttpResponse *r,
                  GError        **error)
{
  g_autofree char *excerpt = ds_http_body_excerpt (r->body);
  const char *sep = *excerpt != '\0' ? ": " : "";

  if (r->status == 401 || r->status == 403)
    g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                 _("The EST server refused the station's credentials for %s (HTTP %ld); check the client certificate or the user name and password%s%s"),
                 what, r->status, sep, excerpt);
  else if (r->status == 404)
    g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                 _("The EST server has no %s at %s (HTTP 404); check the URL and the label"),
                 what, self->url);
  else if (r->status >= 400 && r->status < 500)
    g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                 _("The EST server rejected %s (HTTP %ld)%s%s"), what, r->status, sep, excerpt);
  else if (r->status >= 500)
    g_set_error (error, DS_ERROR, DS_ERROR_IO,
                 _("The EST server failed on %s (HTTP %ld) after %u attempts%s%s"),
                 what, r->status, ds_ca_http_get_options (self->http)->retries + 1, sep, excerpt);
  else
    g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL,
                 _("The EST server answered %s with HTTP %ld, which EST does not allow"), what, r->status);
}

/* The certificates of a 200 certs-only answer. */
static GPtrArray *
decode_certs (DsHttpResponse *r,
              GError        **error)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (r->body, &len);

  if (!ds_pkcs7_check_content_type (r->content_type, error))
    return NULL;
  return ds_pkcs7_decode_certs_only (data, len, r->content_transfer_encoding, error);
}

gboolean
ds_est_ca_load_ca_certs (DsEstCa      *self,
                         GCancellable *cancellable,
                         GError      **error)
{
  g_autofree char *path = g_strconcat (self->path_prefix, "/cacerts", NULL);
  g_autoptr(DsHttpResponse) r = NULL;
  g_autoptr(GPtrArray) certs = NULL;
  g_autoptr(GBytes) paa_der = NULL;
  guint n_certs;

  r = ds_ca_http_request (self->http, "GET", path, NULL, NULL, cancellable, error);
  if (r == NULL)
    return FALSE;
  if (r->status != 200)
    {
      set_status_error (self, _("the CA certificates (/cacerts)"), r, error);
      return FALSE;
    }
  certs = decode_certs (r, error);
  if (certs == NULL)
    {
      g_prefix_error (error, _("Reading the CA certificates (/cacerts): "));
      return FALSE;
    }
  for (guint i = 0; i < certs->len; i++)
    {
      X509 *c = g_ptr_array_index (certs, i);

      /* Caches the extensions now, while one thread owns the certificate. */
      X509_check_purpose (c, -1, 0);
      if (paa_der == NULL && X509_check_issued (c, c) == X509_V_OK)
        paa_der = ds_cert_to_der (c);
    }
  ERR_clear_error ();

  n_certs = certs->len;
  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->ca_certs, g_ptr_array_unref);
  self->ca_certs = g_steal_pointer (&certs);
  g_clear_pointer (&self->paa_der, g_bytes_unref);
  if (self->paa_configured != NULL)
    {
      if (paa_der != NULL && !g_bytes_equal (paa_der, self->paa_configured))
        g_warning ("The EST server %s publishes a PAA other than the configured one; DACs are checked against the configured PAA",
                   self->url);
      self->paa_der = g_bytes_ref (self->paa_configured);
    }
  else
    self->paa_der = g_steal_pointer (&paa_der);
  g_mutex_unlock (&self->lock);
  /* Not self->ca_certs: another job may be replacing it by now. */
  g_debug ("EST %s: %u CA certificates", self->url, n_certs);
  return TRUE;
}

/* The /cacerts set, fetched once. */
static GPtrArray *
dup_ca_certs (DsEstCa      *self,
              GCancellable *cancellable,
              GError      **error)
{
  GPtrArray *certs = NULL;

  g_mutex_lock (&self->lock);
  if (self->ca_certs != NULL)
    certs = g_ptr_array_ref (self->ca_certs);
  g_mutex_unlock (&self->lock);
  if (certs != NULL)
    return certs;
  /* Two jobs may both fetch on a cold start; the second result wins and
   * both are the same certificates. */
  if (!ds_est_ca_load_ca_certs (self, cancellable, error))
    return NULL;
  g_mutex_lock (&self->lock);
  certs = g_ptr_array_ref (self->ca_certs);
  g_mutex_unlock (&self->lock);
  return certs;
}

static char *
csr_body (GBytes *csr_der)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (csr_der, &len);
  g_autofree char *b64 = g_base64_encode (data, len);
  GString *out = g_string_new (NULL);

  for (gsize i = 0, n = strlen (b64); i < n; i += 64)
    {
      g_string_append_len (out, b64 + i, MIN (64, n - i));
      g_string_append (out, "\r\n");
    }
  return g_string_free (out, FALSE);
}

/* POSTs the CSR until the CA issues, refuses, or keeps it pending past the
 * deadline.  Returns the certificates of the answer. */
static GPtrArray *
enroll (DsEstCa              *self,
        const DsIssueRequest *request,
        GCancellable         *cancellable,
        GError              **error)
{
  const DsRemoteCaOptions *o = ds_ca_http_get_options (self->http);
  g_autofree char *path = g_strconcat (self->path_prefix, "/simpleenroll", NULL);
  g_autofree char *text = csr_body (request->csr_der);
  g_autoptr(GBytes) body = g_bytes_new (text, strlen (text));
  const char *headers[] = { "Content-Type: application/pkcs10",
                            "Content-Transfer-Encoding: base64",
                            "Accept: application/pkcs7-mime", NULL };
  gint64 deadline = g_get_monotonic_time () + (gint64) o->pending_limit_s * G_USEC_PER_SEC;

  for (;;)
    {
      g_autoptr(DsHttpResponse) r = NULL;
      gint64 left_s;
      int wait_s;

      r = ds_ca_http_request (self->http, "POST", path, headers, body, cancellable, error);
      if (r == NULL)
        return NULL;
      if (r->status == 200)
        return decode_certs (r, error);
      if (r->status != 202)
        {
          set_status_error (self, _("the enrolment"), r, error);
          return NULL;
        }

      /* Pending (RFC 7030 4.2.3): the same request again after Retry-After. */
      wait_s = r->retry_after_s >= 0 ? r->retry_after_s : DEFAULT_RETRY_AFTER_S;
      wait_s = MAX (wait_s, 1);
      left_s = (deadline - g_get_monotonic_time ()) / G_USEC_PER_SEC;
      if (wait_s > left_s)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_TIMED_OUT,
                       _("The EST server kept the request pending (202) for longer than %u s"),
                       o->pending_limit_s);
          return NULL;
        }
      g_debug ("EST %s: board %s pending, retrying in %d s", self->url,
               request->board_uid != NULL ? request->board_uid : "-", wait_s);
      if (!ds_ca_http_sleep ((guint) wait_s * 1000, cancellable, error))
        return NULL;
    }
}

static GBytes *
ds_est_ca_dup_paa (DsCa *ca)
{
  DsEstCa *self = DS_EST_CA (ca);
  GBytes *paa = NULL;

  if (self->paa_configured != NULL)
    return g_bytes_ref (self->paa_configured);
  g_mutex_lock (&self->lock);
  if (self->paa_der != NULL)
    paa = g_bytes_ref (self->paa_der);
  g_mutex_unlock (&self->lock);
  return paa;
}

static DsIssued *
ds_est_ca_issue (DsCa                 *ca,
                 const DsIssueRequest *request,
                 GCancellable         *cancellable,
                 GError              **error)
{
  DsEstCa *self = DS_EST_CA (ca);
  g_autoptr(GPtrArray) ca_certs = NULL;
  g_autoptr(GPtrArray) answer = NULL;
  g_autoptr(X509_REQ) req = NULL;
  g_autoptr(EVP_PKEY) csr_key = NULL;
  X509 *dac = NULL;
  X509 *pai;
  DsIssued *issued;

  req = ds_csr_parse (request->csr_der, error);
  if (req == NULL)
    return NULL;
  csr_key = ds_csr_get_pubkey (req);

  ca_certs = dup_ca_certs (self, cancellable, error);
  if (ca_certs == NULL)
    return NULL;
  answer = enroll (self, request, cancellable, error);
  if (answer == NULL)
    return NULL;

  /* Some servers send the chain with the DAC: the DAC is the one with the
   * board's key. */
  for (guint i = 0; i < answer->len && dac == NULL; i++)
    {
      g_autoptr(EVP_PKEY) key = X509_get_pubkey (g_ptr_array_index (answer, i));

      if (key != NULL && ds_pubkey_equal (key, csr_key))
        dac = g_ptr_array_index (answer, i);
    }
  if (dac == NULL)
    {
      g_autofree char *subject = ds_cert_subject (g_ptr_array_index (answer, 0));

      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("The EST server sent a certificate for a key other than the board's (subject %s); nothing was installed"),
                   subject);
      return NULL;
    }
  pai = ds_remote_ca_find_issuer (answer, dac);
  if (pai == NULL)
    pai = ds_remote_ca_find_issuer (ca_certs, dac);
  if (pai == NULL)
    {
      g_autofree char *subject = ds_cert_subject (dac);

      g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL,
                   _("The EST server's CA certificates (/cacerts) hold no issuer of the DAC it sent (%s)"),
                   subject);
      return NULL;
    }

  issued = g_new0 (DsIssued, 1);
  issued->dac_der = ds_cert_to_der (dac);
  issued->pai_der = ds_cert_to_der (pai);
  issued->paa_der = ds_est_ca_dup_paa (ca);
  return issued;
}

/* Test material when the CA's certificates carry a test vendor ID. */
static gboolean
ds_est_ca_is_test (DsCa *ca)
{
  DsEstCa *self = DS_EST_CA (ca);
  g_autoptr(GPtrArray) certs = NULL;
  gboolean test = FALSE;

  g_mutex_lock (&self->lock);
  if (self->ca_certs != NULL)
    certs = g_ptr_array_ref (self->ca_certs);
  g_mutex_unlock (&self->lock);
  for (guint i = 0; certs != NULL && i < certs->len; i++)
    {
      gboolean has_vid = FALSE, has_pid = FALSE;
      guint16 vid = 0, pid = 0;

      ds_cert_get_vid_pid (g_ptr_array_index (certs, i), &has_vid, &vid, &has_pid, &pid);
      if (has_vid && vid >= DS_VID_TEST_MIN && vid <= DS_VID_TEST_MAX)
        test = TRUE;
    }
  return test;
}

static void
ds_est_ca_iface_init (DsCaInterface *iface)
{
  iface->get_name = ds_est_ca_get_name;
  iface->issue = ds_est_ca_issue;
  iface->dup_paa = ds_est_ca_dup_paa;
  iface->is_test = ds_est_ca_is_test;
}
