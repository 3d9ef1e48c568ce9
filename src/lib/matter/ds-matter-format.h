/* The per-certificate Matter format rules (RULES.md F2-F14 and the VID/PID
 * encoding in the subject), and what makes a PAA or a vendor ID test
 * material.  Pure logic over one certificate: the trust store applies them
 * to every PAA it loads, the validator to the DAC, PAI and PAA of a chain. */
#pragma once

#include <glib.h>
#include <openssl/x509.h>

#include "ds-crypto.h"
#include "ds-verdict.h"

G_BEGIN_DECLS

typedef enum {
  DS_CERT_ROLE_DAC,
  DS_CERT_ROLE_PAI,
  DS_CERT_ROLE_PAA,
} DsCertRole;

/* The largest DER certificate a Matter device and commissioner handle
 * (kMaxDERCertLength). */
#define DS_MATTER_MAX_CERT_DER 600

/* "dac", "pai", "paa": the start of the role's rule identifiers. */
const char *ds_cert_role_id            (DsCertRole   role);
/* "DAC", "PAI", "PAA", translated. */
const char *ds_cert_role_name          (DsCertRole   role);

/* Adds the rule "<role>.<suffix>"; @message is a printf format. */
void        ds_matter_add_for          (DsVerdict   *verdict,
                                        DsCertRole   role,
                                        const char  *suffix,
                                        const char  *message,
                                        ...) G_GNUC_PRINTF (4, 5);

/* The per-certificate format rules (F2-F14, and the VID/PID encoding) for
 * @role; violations are added to @verdict. */
void        ds_matter_check_format     (X509        *cert,
                                        gsize        der_len,
                                        DsCertRole   role,
                                        DsVerdict   *verdict);
/* The same, and the VID and PID the subject holds in @ids. */
void        ds_matter_check_format_ids (X509        *cert,
                                        gsize        der_len,
                                        DsCertRole   role,
                                        DsVerdict   *verdict,
                                        DsMatterIds *ids);

/* TRUE for a PAA that is test material: a test vendor ID, or a subject
 * common name that calls it a test or development root. */
gboolean    ds_matter_paa_is_test      (X509        *paa);
gboolean    ds_matter_vid_is_test      (guint16      vid);

G_END_DECLS
