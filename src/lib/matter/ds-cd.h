/* The Matter Certification Declaration: a CMS SignedData envelope around a
 * Matter TLV payload, signed by a CSA CD-signing key (Matter Core spec
 * 6.3.1; the Matter SDK's CertificationDeclaration.cpp). */
#pragma once

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ds-verdict.h"

G_BEGIN_DECLS

#define DS_CD_MAX_PRODUCTS      100
#define DS_CD_MAX_PAAS          10
#define DS_CD_CERTIFICATE_ID_LEN 19
#define DS_CD_KID_LEN           20

typedef enum {
  DS_CD_TYPE_DEVELOPMENT = 0,
  DS_CD_TYPE_PROVISIONAL = 1,
  DS_CD_TYPE_OFFICIAL = 2,
} DsCdType;

typedef struct {
  guint    format_version;
  guint16  vendor_id;
  GArray  *product_ids;          /* guint16 */
  guint32  device_type_id;
  char    *certificate_id;
  guint8   security_level;
  guint16  security_information;
  guint16  version_number;
  guint8   certification_type;   /* DsCdType */
  gboolean has_dac_origin;
  guint16  dac_origin_vid;
  guint16  dac_origin_pid;
  GPtrArray *authorized_paas;    /* GBytes of 20-byte SKIDs, NULL when absent */

  /* Filled by ds_cd_parse(). */
  guint8   signer_kid[DS_CD_KID_LEN];
  gboolean signed_by_test_key;
} DsCd;

DsCd      *ds_cd_new            (void);
void       ds_cd_free           (DsCd         *cd);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsCd, ds_cd_free)

gboolean   ds_cd_has_product    (const DsCd   *cd,
                                 guint16       pid);

/* Decodes @der and checks its envelope and payload format: the CMS rules
 * (SignedData v3, SHA-256, pkcs7-data content, one v3 SignerInfo with a
 * subjectKeyIdentifier, ecdsa-with-SHA256, no certificates or signed
 * attributes), the signature by a known CD-signing key (the Matter test key,
 * built in, or one of @signers, X509*), and the TLV fields in their order.
 * Each problem is added to @verdict as a "cd.*" rule.  Returns the payload
 * when it could be decoded, even if other rules failed; NULL otherwise. */
DsCd      *ds_cd_parse          (GBytes       *der,
                                 GPtrArray    *signers,
                                 DsVerdict    *verdict);

/* Encodes @cd as a CMS SignedData signed by @key, identified by @kid (the
 * SKID of the signing certificate): what a CD-signing authority does.  For
 * development CDs and tests. */
GBytes    *ds_cd_encode         (const DsCd   *cd,
                                 EVP_PKEY     *key,
                                 const guint8  kid[DS_CD_KID_LEN],
                                 GError      **error);

/* The two halves of ds_cd_encode(), for a signer that signs otherwise:
 * the TLV payload that is signed, and the CMS envelope around it with
 * @signature (DER ECDSA-Sig-Value over @payload with SHA-256). */
GBytes    *ds_cd_encode_payload (const DsCd   *cd);
GBytes    *ds_cd_wrap           (GBytes       *payload,
                                 GBytes       *signature,
                                 const guint8  kid[DS_CD_KID_LEN]);

/* The SKID of the Matter test CD-signing key (Chip-Test-CD-Signing-Cert). */
extern const guint8 ds_cd_test_kid[DS_CD_KID_LEN];

/* The public key of the Matter test CD signer, the one ds_cd_parse()
 * checks test CDs with; NULL when OpenSSL cannot build it. */
EVP_PKEY  *ds_cd_dup_test_signer_key (void);

G_END_DECLS
