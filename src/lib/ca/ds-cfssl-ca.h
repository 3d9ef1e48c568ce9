/* A remote certificate authority reached through CFSSL's HTTP API
 * (/api/v1/cfssl/sign, /api/v1/cfssl/info) over HTTPS. */
#pragma once

#include <json-glib/json-glib.h>
#include <openssl/x509.h>

#include "ds-ca.h"
#include "ds-ca-http.h"

G_BEGIN_DECLS

#define DS_TYPE_CFSSL_CA (ds_cfssl_ca_get_type ())
G_DECLARE_FINAL_TYPE (DsCfsslCa, ds_cfssl_ca, DS, CFSSL_CA, GObject)

/* @url is the server, https://host:port.  The PAA must be configured
 * (options->paa_file): CFSSL does not publish its root.  The PAI is read
 * from options->pai_file, or asked from /api/v1/cfssl/info. */
DsCfsslCa *ds_cfssl_ca_new            (const char              *url,
                                       const DsRemoteCaOptions *options,
                                       GError                 **error);
/* Reads or fetches the PAI now; otherwise that happens at the first issue. */
/* The server's base address. */
const char *ds_cfssl_ca_get_url         (DsCfsslCa               *self);
gboolean   ds_cfssl_ca_load_ca_certs  (DsCfsslCa               *self,
                                       GCancellable            *cancellable,
                                       GError                 **error);

/* Reads a CFSSL API answer (@path, the HTTP status and content type are for
 * the message): the "result" object of a successful answer, or a clear
 * error (not JSON, refused with CFSSL's reason, no result).  Pure: for the
 * client and its fuzz target. */
JsonNode   *ds_cfssl_parse_answer       (const char *path,
                                         long        status,
                                         const char *content_type,
                                         GBytes     *body,
                                         GError    **error);
/* @result's "certificate" member (PEM), parsed; @what names it in errors. */
X509       *ds_cfssl_result_certificate (JsonNode   *result,
                                         const char *what,
                                         GError    **error);

G_END_DECLS
