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
#include "ds-trust-store.h"

G_BEGIN_DECLS

typedef enum {
  DS_CERT_ROLE_DAC,
  DS_CERT_ROLE_PAI,
  DS_CERT_ROLE_PAA,
} DsCertRole;

/* The largest DER certificate a Matter device and commissioner handle
 * (kMaxDERCertLength). */
#define DS_MATTER_MAX_CERT_DER 600

typedef struct {
  char *rule;      /* stable identifier: "dac.key-usage.cert-sign" */
  char *message;   /* a sentence for an operator, translated */
} DsViolation;

struct _DsVerdict {
  GPtrArray  *violations;     /* DsViolation*, in the order found */
  GPtrArray  *notes;          /* char*: what is worth saying, e.g. test material */
  gboolean    test_material;  /* test VID, test PAA or test CD key involved */
  DsMatterIds dac_ids;
  DsMatterIds pai_ids;
  DsMatterIds paa_ids;
  gboolean    paa_found;
  char       *paa_subject;
  DsCd       *cd;             /* the decoded CD, when one was given and decodable */
};

DsVerdict  *ds_verdict_new        (void);
void        ds_verdict_free       (DsVerdict   *verdict);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsVerdict, ds_verdict_free)
gboolean    ds_verdict_is_valid   (const DsVerdict *verdict);
gboolean    ds_verdict_has_rule   (const DsVerdict *verdict,
                                   const char      *rule);
/* Adds a violation; @message is a printf format. */
void        ds_verdict_add        (DsVerdict   *verdict,
                                   const char  *rule,
                                   const char  *message,
                                   ...) G_GNUC_PRINTF (3, 4);
/* "rule: message" lines joined by @separator. */
char       *ds_verdict_to_string  (const DsVerdict *verdict,
                                   const char      *separator);

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

/* The per-certificate format rules (F2-F14, and the VID/PID encoding) for
 * @role; violations are added to @verdict. */
void        ds_matter_check_format (X509        *cert,
                                    gsize        der_len,
                                    DsCertRole   role,
                                    DsVerdict   *verdict);

/* TRUE for a PAA that is test material: a test vendor ID, or a subject
 * common name that calls it a test or development root. */
gboolean    ds_matter_paa_is_test  (X509        *paa);
gboolean    ds_matter_vid_is_test  (guint16      vid);

G_END_DECLS
