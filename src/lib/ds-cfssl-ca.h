/* A remote certificate authority reached through CFSSL's HTTP API
 * (/api/v1/cfssl/sign, /api/v1/cfssl/info) over HTTPS. */
#pragma once

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
gboolean   ds_cfssl_ca_load_ca_certs  (DsCfsslCa               *self,
                                       GCancellable            *cancellable,
                                       GError                 **error);

G_END_DECLS
