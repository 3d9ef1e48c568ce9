/* Certificate and CSR helpers on OpenSSL 3: parsing, the checks the station
 * makes on a board's CSR and on the DAC it gets back, fingerprints. */
#pragma once

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509, X509_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_REQ, X509_REQ_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY, EVP_PKEY_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY_CTX, EVP_PKEY_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_MD_CTX, EVP_MD_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_NAME, X509_NAME_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_STORE, X509_STORE_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_STORE_CTX, X509_STORE_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIO, BIO_free_all)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIGNUM, BN_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ASN1_INTEGER, ASN1_INTEGER_free)

/* Matter DN attribute OIDs (Matter Core spec 6.5.6.1). */
#define DS_OID_MATTER_VID "1.3.6.1.4.1.37244.2.1"
#define DS_OID_MATTER_PID "1.3.6.1.4.1.37244.2.2"

/* Test vendor IDs, never allowed in production. */
#define DS_VID_TEST_MIN 0xFFF1
#define DS_VID_TEST_MAX 0xFFF4

/* What the station asks the board to put in its CSR subject. */
typedef struct {
  const char *common_name;
  guint16     vid;
  guint16     pid;
} DsCsrSubject;

/* A Matter vendor and product ID as a subject DN carries them. */
typedef struct {
  gboolean has_vid;
  gboolean has_pid;
  guint16  vid;
  guint16  pid;
} DsMatterIds;

/* Registers the Matter VID/PID OIDs with OpenSSL (idempotent, thread-safe).
 * Returns the NIDs. */
void       ds_crypto_init            (int *nid_vid,
                                      int *nid_pid);

/* Parses a DER PKCS#10 request (PEM is refused: the wire carries DER). */
X509_REQ  *ds_csr_parse              (GBytes          *der,
                                      GError         **error);
/* Checks the CSR's self-signature (proof of possession), that its key is
 * EC P-256 and its signature ecdsa-with-SHA256, and that its subject holds
 * @expected's CN and VID/PID.  Errors are DS_ERROR_INVALID_DATA with a
 * sentence an operator understands. */
gboolean   ds_csr_check              (X509_REQ        *req,
                                      const DsCsrSubject *expected,
                                      GError         **error);
EVP_PKEY  *ds_csr_get_pubkey         (X509_REQ        *req);

/* NULL when @data is exactly one strict DER element: definite lengths in
 * their shortest form, minimal tags, every constructed element's contents
 * DER as well, no trailing bytes.  Else a translated sentence saying what
 * is wrong (BER indefinite length, a non-minimal length...). */
const char *ds_der_check             (const guint8    *data,
                                      gsize            len);
/* ds_der_check() of a certificate given as DER or PEM (the first
 * certificate of PEM); NULL when it is DER or when the PEM does not decode. */
const char *ds_cert_der_problem      (GBytes          *der_or_pem);

/* Parses one certificate, DER or PEM; BER is refused. */
X509      *ds_cert_parse             (GBytes          *der_or_pem,
                                      GError         **error);
GBytes    *ds_cert_to_der            (X509            *cert);
char      *ds_cert_to_pem            (X509            *cert);
/* Adds the extension @nid written as `openssl x509 -extfile` would
 * ("critical,CA:TRUE", "hash", "keyid:always"), with @issuer (NULL: @cert
 * itself) for the key identifiers. */
gboolean   ds_cert_add_ext           (X509            *cert,
                                      X509            *issuer,
                                      int              nid,
                                      const char      *value);
/* Lower-case hex SHA-256 of the DER encoding, 64 characters. */
char      *ds_cert_fingerprint       (X509            *cert);
/* Upper-case hex of the serial number's magnitude, no separators. */
char      *ds_cert_serial_hex        (X509            *cert);
/* One-line RFC 2253 subject. */
char      *ds_cert_subject           (X509            *cert);
/* Extracts the VID/PID of a subject exactly as the Matter SDK does
 * (ExtractVIDPIDFromX509Cert): Matter attributes of exactly four upper-case
 * hex digits, at most one of each; otherwise "Mvid:XXXX"/"Mpid:XXXX" in the
 * first 64 bytes of the CN; attributes win over the CN entirely.  Returns
 * FALSE when the subject is malformed, with @problem set to "vid.format",
 * "pid.format", "vid.duplicate" or "pid.duplicate". */
gboolean   ds_name_get_matter_ids    (const X509_NAME *name,
                                      DsMatterIds     *ids,
                                      const char     **problem);
/* Reads the Matter VID/PID attributes of the subject (or the legacy
 * "Mvid:XXXX Mpid:XXXX" CN form).  Missing values are left untouched and
 * reported through @has_vid/@has_pid. */
gboolean   ds_cert_get_vid_pid       (X509            *cert,
                                      gboolean        *has_vid,
                                      guint16         *vid,
                                      gboolean        *has_pid,
                                      guint16         *pid);

/* Lower-case hex SHA-256 of the DER SubjectPublicKeyInfo. */
char      *ds_pubkey_fingerprint     (EVP_PKEY        *key);
/* The same fingerprint from a certificate's or CSR's SubjectPublicKeyInfo
 * (X509_get_X509_PUBKEY(), X509_REQ_get_X509_PUBKEY()): an uncompressed
 * P-256 key is hashed as it stands, which spares OpenSSL 3.0's encoder
 * (dearer than a signature check); other keys go through
 * ds_pubkey_fingerprint().  NULL when the key cannot be read. */
char      *ds_spki_fingerprint       (X509_PUBKEY     *spki);
gboolean   ds_pubkey_equal           (EVP_PKEY        *a,
                                      EVP_PKEY        *b);

/* ECDSA P-256 with SHA-256 over @msg; @sig is a DER ECDSA-Sig-Value. */
gboolean   ds_verify_signature       (EVP_PKEY        *key,
                                      const guint8    *msg,
                                      gsize            msg_len,
                                      const guint8    *sig,
                                      gsize            sig_len,
                                      GError         **error);

/* Writes @contents to @path atomically with the given mode (0600 for
 * private files), creating parent directories (0700). */
gboolean   ds_write_file_atomic      (const char      *path,
                                      const void      *contents,
                                      gsize            len,
                                      int              mode,
                                      GError         **error);
/* The same, atomic against a crash of the process (a reader sees the old
 * contents or the new) but not synced to disk: after a power cut the file
 * may be empty or missing.  For what must outlive a process but not a power
 * cut (a simulated board's storage), and for copies of what is kept
 * durably elsewhere (the PEM files of certificates the store holds). */
gboolean   ds_write_file_replace     (const char      *path,
                                      const void      *contents,
                                      gsize            len,
                                      int              mode,
                                      GError         **error);

G_END_DECLS
