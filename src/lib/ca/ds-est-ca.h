/* A remote certificate authority reached with EST (RFC 7030, RFC 8951) over
 * HTTPS: /cacerts for the PAI and PAA, /simpleenroll for each DAC. */
#pragma once

#include "ds-ca.h"
#include "ds-ca-http.h"

G_BEGIN_DECLS

#define DS_TYPE_EST_CA (ds_est_ca_get_type ())
G_DECLARE_FINAL_TYPE (DsEstCa, ds_est_ca, DS, EST_CA, GObject)

/* @url is the server (https://host:port), or its EST root when it already
 * ends in /.well-known/est.  Checks the options and reads the configured
 * PAA, without touching the network. */
DsEstCa    *ds_est_ca_new             (const char              *url,
                                       const DsRemoteCaOptions *options,
                                       GError                 **error);
/* The EST root: https://host:port/.well-known/est[/label]. */
const char *ds_est_ca_get_url         (DsEstCa                 *self);
/* Fetches /cacerts now; otherwise that happens at the first issue.  The
 * station calls it at start so a wrong address, bundle or credential is
 * reported before any board is touched. */
gboolean    ds_est_ca_load_ca_certs   (DsEstCa                 *self,
                                       GCancellable            *cancellable,
                                       GError                 **error);

G_END_DECLS
