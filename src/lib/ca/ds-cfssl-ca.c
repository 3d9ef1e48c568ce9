/* CFSSL client: the station's DACs from a CFSSL signer over HTTPS. */
#include "config.h"

#include "ds-cfssl-ca.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "ds-crypto.h"
#include "ds-error.h"
#include "ds-util.h"

struct _DsCfsslCa
{
  GObject    parent_instance;

  DsCaHttp  *http;
  GBytes    *paa_der;
  X509      *paa;

  GMutex     lock;   /* pai */
  X509      *pai;    /* NULL until read or fetched */
};

static void ds_cfssl_ca_iface_init (DsCaInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (DsCfsslCa, ds_cfssl_ca, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (DS_TYPE_CA, ds_cfssl_ca_iface_init))

static void
ds_cfssl_ca_finalize (GObject *object)
{
  DsCfsslCa *self = DS_CFSSL_CA (object);

  g_clear_object (&self->http);
  g_clear_pointer (&self->paa_der, g_bytes_unref);
  g_clear_pointer (&self->paa, X509_free);
  g_clear_pointer (&self->pai, X509_free);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (ds_cfssl_ca_parent_class)->finalize (object);
}

static void
ds_cfssl_ca_class_init (DsCfsslCaClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ds_cfssl_ca_finalize;
}

static void
ds_cfssl_ca_init (DsCfsslCa *self)
{
  g_mutex_init (&self->lock);
}

DsCfsslCa *
ds_cfssl_ca_new (const char              *url,
                 const DsRemoteCaOptions *options,
                 GError                 **error)
{
  g_autoptr(DsCfsslCa) self = g_object_new (DS_TYPE_CFSSL_CA, NULL);

  if (options->paa_file == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("CFSSL does not publish the PAA the DACs chain to; give it with --paa"));
      return NULL;
    }
  self->http = ds_ca_http_new (url, options, error);
  if (self->http == NULL)
    return NULL;
  self->paa = ds_remote_ca_load_cert (options->paa_file, error);
  if (self->paa == NULL)
    return NULL;
  self->paa_der = ds_cert_to_der (self->paa);
  if (options->pai_file != NULL)
    {
      self->pai = ds_remote_ca_load_cert (options->pai_file, error);
      if (self->pai == NULL)
        return NULL;
    }
  return g_steal_pointer (&self);
}

const char *
ds_cfssl_ca_get_url (DsCfsslCa *self)
{
  return ds_ca_http_get_base_url (self->http);
}

static const char *
ds_cfssl_ca_get_name (DsCa *ca)
{
  return "CFSSL";
}

/* POSTs @request (JSON) to @path and returns the "result" member of a
 * successful answer. */
static JsonNode *
call (DsCfsslCa    *self,
      const char   *path,
      JsonBuilder  *request,
      GCancellable *cancellable,
      GError      **error)
{
  g_autoptr(JsonNode) root = json_builder_get_root (request);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(DsHttpResponse) r = NULL;
  g_autoptr(GBytes) body = NULL;
  const char *headers[] = { "Content-Type: application/json", "Accept: application/json", NULL };
  gsize len = 0;
  char *text;

  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, &len);
  body = g_bytes_new_take (text, len);
  r = ds_ca_http_request (self->http, "POST", path, headers, body, cancellable, error);
  if (r == NULL)
    return NULL;

  return ds_cfssl_parse_answer (path, r->status, r->content_type, r->body, error);
}

JsonNode *
ds_cfssl_parse_answer (const char *path,
                       long        status,
                       const char *content_type,
                       GBytes     *body,
                       GError    **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  JsonObject *answer;
  JsonNode *result;
  gsize len = 0;
  const char *data = g_bytes_get_data (body, &len);

  /* CFSSL sends its error answers as text/plain: the body decides. */
  if (len > G_MAXSSIZE || !json_parser_load_from_data (parser, data, (gssize) len, &local_error) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_autofree char *excerpt = ds_http_body_excerpt (body);

      g_set_error (error, DS_ERROR, status >= 500 ? DS_ERROR_IO : DS_ERROR_PROTOCOL,
                   _("The CFSSL server answered %s with HTTP %ld and %s, not a CFSSL JSON answer: %s"),
                   path, status, content_type != NULL ? content_type : _("no content type"), excerpt);
      return NULL;
    }
  answer = json_node_get_object (json_parser_get_root (parser));
  if (!json_object_get_boolean_member_with_default (answer, "success", FALSE) || status != 200)
    {
      JsonNode *node = json_object_get_member (answer, "errors");
      JsonArray *errors = node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
      g_autofree char *message = NULL;

      /* The server's words, made safe to show. */
      if (errors != NULL && json_array_get_length (errors) > 0 &&
          JSON_NODE_HOLDS_OBJECT (json_array_get_element (errors, 0)))
        message = ds_util_sanitize_text (json_object_get_string_member_with_default (
                                           json_array_get_object_element (errors, 0), "message", NULL),
                                         -1, DS_UTIL_MAX_PEER_TEXT);
      g_set_error (error, DS_ERROR, status >= 500 ? DS_ERROR_IO : DS_ERROR_REJECTED,
                   _("The CFSSL server refused %s (HTTP %ld): %s"), path, status,
                   message != NULL ? message : _("no reason given"));
      return NULL;
    }
  result = json_object_get_member (answer, "result");
  if (result == NULL || !JSON_NODE_HOLDS_OBJECT (result))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL, _("The CFSSL server's answer to %s holds no result"), path);
      return NULL;
    }
  return json_node_copy (result);
}

X509 *
ds_cfssl_result_certificate (JsonNode   *result,
                    const char *what,
                    GError    **error)
{
  const char *pem = json_object_get_string_member_with_default (json_node_get_object (result), "certificate", NULL);
  g_autoptr(GBytes) bytes = NULL;
  X509 *cert;

  if (pem == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL, _("The CFSSL server's answer holds no %s"), what);
      return NULL;
    }
  bytes = g_bytes_new (pem, strlen (pem));
  cert = ds_cert_parse (bytes, error);
  if (cert == NULL)
    g_prefix_error (error, _("The CFSSL server sent an unreadable %s: "), what);
  return cert;
}

gboolean
ds_cfssl_ca_load_ca_certs (DsCfsslCa    *self,
                           GCancellable *cancellable,
                           GError      **error)
{
  const DsRemoteCaOptions *o = ds_ca_http_get_options (self->http);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) result = NULL;
  X509 *pai;

  g_mutex_lock (&self->lock);
  pai = self->pai;
  g_mutex_unlock (&self->lock);
  if (pai != NULL)
    return TRUE;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "label");
  json_builder_add_string_value (b, "");
  if (o->profile != NULL)
    {
      json_builder_set_member_name (b, "profile");
      json_builder_add_string_value (b, o->profile);
    }
  json_builder_end_object (b);
  result = call (self, "/api/v1/cfssl/info", b, cancellable, error);
  if (result == NULL)
    return FALSE;
  pai = ds_cfssl_result_certificate (result, _("signing certificate (PAI)"), error);
  if (pai == NULL)
    return FALSE;
  X509_check_purpose (pai, -1, 0);
  g_mutex_lock (&self->lock);
  if (self->pai == NULL)
    self->pai = g_steal_pointer (&pai);
  g_mutex_unlock (&self->lock);
  g_clear_pointer (&pai, X509_free);
  return TRUE;
}

static char *
csr_to_pem (GBytes *der)
{
  gsize len = 0;
  const unsigned char *p = g_bytes_get_data (der, &len);
  g_autoptr(X509_REQ) req = d2i_X509_REQ (NULL, &p, (long) len);
  g_autoptr(BIO) bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  long n;

  if (req == NULL || !PEM_write_bio_X509_REQ (bio, req))
    return NULL;
  n = BIO_get_mem_data (bio, &data);
  return g_strndup (data, n);
}

static DsIssued *
ds_cfssl_ca_issue (DsCa                 *ca,
                   const DsIssueRequest *request,
                   GCancellable         *cancellable,
                   GError              **error)
{
  DsCfsslCa *self = DS_CFSSL_CA (ca);
  const DsRemoteCaOptions *o = ds_ca_http_get_options (self->http);
  g_autoptr(X509_REQ) req = NULL;
  g_autoptr(EVP_PKEY) csr_key = NULL;
  g_autoptr(EVP_PKEY) dac_key = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(X509) dac = NULL;
  g_autofree char *pem = NULL;
  g_autoptr(GPtrArray) issuers = g_ptr_array_new ();
  DsIssued *issued;

  req = ds_csr_parse (request->csr_der, error);
  if (req == NULL)
    return NULL;
  csr_key = ds_csr_get_pubkey (req);
  pem = csr_to_pem (request->csr_der);
  if (!ds_cfssl_ca_load_ca_certs (self, cancellable, error))
    return NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "certificate_request");
  json_builder_add_string_value (b, pem);
  if (o->profile != NULL)
    {
      json_builder_set_member_name (b, "profile");
      json_builder_add_string_value (b, o->profile);
    }
  json_builder_end_object (b);
  result = call (self, "/api/v1/cfssl/sign", b, cancellable, error);
  if (result == NULL)
    return NULL;
  dac = ds_cfssl_result_certificate (result, _("certificate"), error);
  if (dac == NULL)
    return NULL;

  dac_key = X509_get_pubkey (dac);
  if (dac_key == NULL || !ds_pubkey_equal (dac_key, csr_key))
    {
      g_autofree char *subject = ds_cert_subject (dac);

      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("The CFSSL server sent a certificate for a key other than the board's (subject %s); nothing was installed"),
                   subject);
      return NULL;
    }
  g_ptr_array_add (issuers, self->pai);
  if (ds_remote_ca_find_issuer (issuers, dac) == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL,
                   _("The CFSSL server signed the DAC with a key other than its PAI's; check --pai and --cfssl-profile"));
      return NULL;
    }

  issued = g_new0 (DsIssued, 1);
  issued->dac_der = ds_cert_to_der (dac);
  issued->pai_der = ds_cert_to_der (self->pai);
  issued->paa_der = g_bytes_ref (self->paa_der);
  return issued;
}

static GBytes *
ds_cfssl_ca_dup_paa (DsCa *ca)
{
  return g_bytes_ref (DS_CFSSL_CA (ca)->paa_der);
}

static gboolean
ds_cfssl_ca_is_test (DsCa *ca)
{
  DsCfsslCa *self = DS_CFSSL_CA (ca);
  gboolean has_vid = FALSE, has_pid = FALSE;
  guint16 vid = 0, pid = 0;

  ds_cert_get_vid_pid (self->paa, &has_vid, &vid, &has_pid, &pid);
  if (!has_vid)
    {
      g_mutex_lock (&self->lock);
      if (self->pai != NULL)
        ds_cert_get_vid_pid (self->pai, &has_vid, &vid, &has_pid, &pid);
      g_mutex_unlock (&self->lock);
    }
  return has_vid && vid >= DS_VID_TEST_MIN && vid <= DS_VID_TEST_MAX;
}

static void
ds_cfssl_ca_iface_init (DsCaInterface *iface)
{
  iface->get_name = ds_cfssl_ca_get_name;
  iface->issue = ds_cfssl_ca_issue;
  iface->dup_paa = ds_cfssl_ca_dup_paa;
  iface->is_test = ds_cfssl_ca_is_test;
}
