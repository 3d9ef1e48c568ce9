/* The HTTPS client the remote certificate authorities (EST, CFSSL) share:
 * libcurl with a verified server, optional mutual TLS and HTTP Basic, a pool
 * of handles so connections are kept alive, timeouts and bounded retries. */
#pragma once

#include <gio/gio.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

/* How the station reaches a remote CA.  Only ca_bundle is required. */
typedef struct {
  char  *ca_bundle;          /* PEM file the server's certificate must chain to */
  char  *client_cert;        /* PEM, for mutual TLS; NULL: none */
  char  *client_key;         /* PEM file, refused when group- or world-readable;
                              * or a PKCS#11 URI (pkcs11:token=...;object=...) */
  char  *client_key_pin;     /* the token's user PIN for a PKCS#11 key; never logged */
  char  *pkcs11_module;      /* the PKCS#11 module for such a key; NULL: p11-kit's */
  char  *pin;                /* "sha256//BASE64[;sha256//...]": the server's public key; NULL: no pin */
  char  *username;           /* HTTP Basic; NULL: none */
  char  *password;           /* never logged */
  char  *paa_file;           /* the trusted PAA (PEM); NULL: the one the CA publishes */
  char  *pai_file;           /* CFSSL: the PAI (PEM); NULL: asked from the CA */
  char  *label;              /* EST: the CA label (/.well-known/est/LABEL/...) */
  char  *profile;            /* CFSSL: the signing profile */
  guint  timeout_s;          /* a whole request; 0: 30 s */
  guint  connect_timeout_s;  /* 0: 10 s */
  guint  retries;            /* extra attempts on connection errors and 5xx; 0: 3 */
  guint  pending_limit_s;    /* EST 202: how long to keep polling; 0: 300 s */
} DsRemoteCaOptions;

DsRemoteCaOptions *ds_remote_ca_options_copy (const DsRemoteCaOptions *options);
void               ds_remote_ca_options_free (DsRemoteCaOptions       *options);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsRemoteCaOptions, ds_remote_ca_options_free)

typedef struct {
  long    status;
  char   *content_type;               /* NULL when the server sent none */
  char   *content_transfer_encoding;  /* NULL when the server sent none */
  int     retry_after_s;              /* -1 when absent */
  GBytes *body;
} DsHttpResponse;

void ds_http_response_free (DsHttpResponse *response);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsHttpResponse, ds_http_response_free)

#define DS_TYPE_CA_HTTP (ds_ca_http_get_type ())
G_DECLARE_FINAL_TYPE (DsCaHttp, ds_ca_http, DS, CA_HTTP, GObject)

/* Checks the options (files readable, key private, https URL) without
 * touching the network.  DS_ERROR_CONFIG with the reason. */
DsCaHttp       *ds_ca_http_new          (const char              *base_url,
                                         const DsRemoteCaOptions *options,
                                         GError                 **error);
const char     *ds_ca_http_get_base_url (DsCaHttp                *self);
const DsRemoteCaOptions *ds_ca_http_get_options (DsCaHttp        *self);

/* One request to base_url + @path.  Thread-safe: every caller borrows a
 * handle from the pool, so several jobs talk to the CA at once and each
 * handle keeps its connection alive for the next request.  Connection
 * errors and 5xx answers are retried (with backoff) up to the configured
 * count; a 5xx that persists is returned as a response, not an error.
 * Timeouts and TLS failures are never retried: the first is a server that
 * may have acted on the request, the second a configuration problem. */
DsHttpResponse *ds_ca_http_request      (DsCaHttp                *self,
                                         const char              *method,
                                         const char              *path,
                                         const char *const       *headers,
                                         GBytes                  *body,
                                         GCancellable            *cancellable,
                                         GError                 **error);

/* Sleeps @ms unless @cancellable fires first (then FALSE with an error). */
gboolean        ds_ca_http_sleep        (guint                    ms,
                                         GCancellable            *cancellable,
                                         GError                 **error);

/* A short text from an error body, for messages: first line, printable,
 * at most 160 characters. */
char           *ds_http_body_excerpt    (GBytes                  *body);

/* What both remote CAs do with certificates. */
/* Reads one PEM or DER certificate file; DS_ERROR_CONFIG names the file. */
X509           *ds_remote_ca_load_cert  (const char              *path,
                                         GError                 **error);
/* The certificate of @candidates (X509 *) that issued @cert, or NULL. */
X509           *ds_remote_ca_find_issuer (GPtrArray              *candidates,
                                          X509                   *cert);

G_END_DECLS
