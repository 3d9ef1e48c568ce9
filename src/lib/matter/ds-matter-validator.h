/* The Matter attestation validator: every rule a Matter commissioner applies
 * to a DAC, its PAI, the PAA they chain to and the Certification Declaration,
 * plus what a provisioning station adds (the DAC is for the board's key and
 * for the product being built).  ../shared/matter-vectors/RULES.md lists the
 * rules; docs/validator.md lists their identifiers.
 *
 * Pure logic: bytes in, a verdict out, no I/O; safe to call from job threads
 * with a shared, loaded DsTrustStore. */
#pragma once

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ds-cd.h"
#include "ds-crypto.h"
#include "ds-matter-format.h"
#include "ds-trust-store.h"
#include "ds-verdict.h"

G_BEGIN_DECLS

typedef struct {
  GBytes       *dac;            /* DER or PEM */
  GBytes       *pai;            /* DER or PEM */
  GBytes       *cd;             /* DER CMS, or NULL */
  DsTrustStore *trust_store;
  GPtrArray    *cd_signers;     /* X509*: CD-signing certificates beyond the test key, or NULL */
  gboolean      has_product;    /* the product being built (BasicInformation) */
  guint16       product_vid;
  guint16       product_pid;
  gboolean      production;     /* refuse test material */
  gint64        now;            /* seconds since the epoch; 0: the current time */
  EVP_PKEY     *expected_key;   /* the key of the board's CSR, or NULL */
  X509         *dac_cert;       /* @dac already parsed (the same bytes), or NULL: spares parsing it again */
} DsVerifyRequest;

/* Applies every rule; never stops at the first violation. */
DsVerdict  *ds_matter_verify      (const DsVerifyRequest *request);

/* Every rule on @dac -> @pai -> @paa (as the only trusted PAA) for product
 * @vid/@pid, now: DS_ERROR_INVALID_DATA with every violation on failure. */
gboolean    ds_matter_verify_chain (X509        *dac,
                                    X509        *pai,
                                    X509        *paa,
                                    guint16      vid,
                                    guint16      pid,
                                    GError     **error);

G_END_DECLS
