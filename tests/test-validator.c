/* The Matter attestation validator on chains this test makes with OpenSSL
 * at run time: one chain per rule, each expected to fail with exactly that
 * rule, and valid chains of every allowed shape. */
#include "config.h"

#include <glib/gstdio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "ds-cd.h"
#include "ds-crypto.h"
#include "ds-error.h"
#include "ds-matter-validator.h"
#include "ds-test-util.h"
#include "ds-trust-store.h"

/* 2025-01-01T00:00:00Z: "now" for every check here. */
#define NOW ((gint64) 1735689600)
#define DAY ((gint64) 86400)

/* What one certificate looks like; zero means "the Matter profile". */
typedef struct {
  const char *cn;
  const char *vid;          /* Matter attribute values; NULL: none */
  const char *pid;
  gboolean    dup_vid;
  gboolean    v2;           /* X.509 v2 instead of v3 */
  long        serial;       /* 0: 0x1234 */
  gboolean    sha1;
  const char *curve;        /* NULL: P-256 */
  gboolean    no_bc, bc_not_critical, bc_flip_ca;
  int         pathlen;      /* 0: the role's default; -1: absent; n > 0: n - 1 */
  gboolean    no_ku, ku_not_critical;
  const char *ku;           /* NULL: the role's default */
  gboolean    no_skid, no_akid;
  int         skid_len;     /* 0: 20 */
  gint64      not_before;   /* relative to NOW; 0: the role's default */
  gint64      not_after;
  const char *extra_nid;    /* another extension, by short name */
  const char *extra_value;
  gsize       pad;          /* this many bytes of subject alternative name */
  gboolean    foreign_key;  /* sign with a key that is not the issuer's */
} Spec;

typedef struct {
  X509     *cert;
  EVP_PKEY *key;
} Made;

static void
made_clear (Made *m)
{
  g_clear_pointer (&m->cert, X509_free);
  g_clear_pointer (&m->key, EVP_PKEY_free);
}

static EVP_PKEY *
new_key (const char *curve)
{
  EVP_PKEY *key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", curve != NULL ? curve : "P-256");

  g_assert_nonnull (key);
  return key;
}

static void
add_ext (X509       *cert,
         X509       *issuer,
         int         nid,
         const char *value)
{
  g_assert_true (ds_cert_add_ext (cert, issuer, nid, value));
}

static void
add_name (X509_NAME  *name,
          const char *oid,
          const char *value)
{
  ASN1_OBJECT *obj = OBJ_txt2obj (oid, 1);

  g_assert_cmpint (X509_NAME_add_entry_by_OBJ (name, obj, V_ASN1_UTF8STRING,
                                               (const unsigned char *) value, -1, -1, 0), ==, 1);
  ASN1_OBJECT_free (obj);
}

/* Makes a certificate for @role from @spec, issued by @issuer (NULL:
 * self-signed). */
static Made
make_cert (DsCertRole  role,
           const Spec *spec,
           const Made *issuer)
{
  Made m = { X509_new (), new_key (spec->curve) };
  X509_NAME *name = X509_NAME_new ();
  int pathlen = spec->pathlen != 0 ? spec->pathlen : role == DS_CERT_ROLE_PAI ? 1 : role == DS_CERT_ROLE_PAA ? 2 : -1;
  gboolean ca = role != DS_CERT_ROLE_DAC;
  const char *ku = spec->ku != NULL ? spec->ku
                   : role == DS_CERT_ROLE_DAC ? "digitalSignature" : "keyCertSign,cRLSign";
  gint64 not_before = spec->not_before != 0 ? spec->not_before
                      : role == DS_CERT_ROLE_PAA ? -30 * DAY : role == DS_CERT_ROLE_PAI ? -20 * DAY : -10 * DAY;
  gint64 not_after = spec->not_after != 0 ? spec->not_after : 3650 * DAY;
  X509 *issuer_cert = issuer != NULL ? issuer->cert : m.cert;
  g_autoptr(EVP_PKEY) foreign = spec->foreign_key ? new_key (NULL) : NULL;
  EVP_PKEY *signer = foreign != NULL ? foreign : issuer != NULL ? issuer->key : m.key;
  g_autofree char *bc = NULL;

  g_assert_cmpint (X509_set_version (m.cert, spec->v2 ? X509_VERSION_2 : X509_VERSION_3), ==, 1);
  ASN1_INTEGER_set (X509_get_serialNumber (m.cert), spec->serial != 0 ? spec->serial : 0x1234);

  add_name (name, "2.5.4.3", spec->cn != NULL ? spec->cn : role == DS_CERT_ROLE_DAC ? "Test DAC"
                                                     : role == DS_CERT_ROLE_PAI ? "Test PAI" : "Root PAA");
  if (spec->vid != NULL)
    add_name (name, DS_OID_MATTER_VID, spec->vid);
  if (spec->dup_vid)
    add_name (name, DS_OID_MATTER_VID, spec->vid);
  if (spec->pid != NULL)
    add_name (name, DS_OID_MATTER_PID, spec->pid);
  X509_set_subject_name (m.cert, name);
  X509_set_issuer_name (m.cert, issuer != NULL ? X509_get_subject_name (issuer->cert) : name);
  X509_NAME_free (name);

  ASN1_TIME_set (X509_getm_notBefore (m.cert), (time_t) (NOW + not_before));
  ASN1_TIME_set (X509_getm_notAfter (m.cert), (time_t) (NOW + not_after));
  X509_set_pubkey (m.cert, m.key);

  if (spec->bc_flip_ca)
    ca = !ca;
  if (!spec->no_bc)
    {
      bc = g_strdup_printf ("%sCA:%s%s", spec->bc_not_critical ? "" : "critical,",
                            ca ? "TRUE" : "FALSE", "");
      if (pathlen > 0)
        {
          g_autofree char *with = g_strdup_printf ("%s,pathlen:%d", bc, pathlen - 1);
          g_free (bc);
          bc = g_steal_pointer (&with);
        }
      add_ext (m.cert, issuer_cert, NID_basic_constraints, bc);
    }
  if (!spec->no_ku)
    {
      g_autofree char *value = g_strdup_printf ("%s%s", spec->ku_not_critical ? "" : "critical,", ku);
      add_ext (m.cert, issuer_cert, NID_key_usage, value);
    }
  if (!spec->no_skid)
    {
      ASN1_OCTET_STRING *skid = ASN1_OCTET_STRING_new ();
      guint8 digest[32];
      unsigned int n = 0;
      int len = spec->skid_len != 0 ? spec->skid_len : 20;

      X509_pubkey_digest (m.cert, EVP_sha256 (), digest, &n);
      ASN1_OCTET_STRING_set (skid, digest, len);
      X509_add1_ext_i2d (m.cert, NID_subject_key_identifier, skid, 0, X509V3_ADD_DEFAULT);
      ASN1_OCTET_STRING_free (skid);
    }
  if (!spec->no_akid && issuer != NULL && X509_get0_subject_key_id (issuer_cert) != NULL)
    add_ext (m.cert, issuer_cert, NID_authority_key_identifier, "keyid:always");
  if (spec->extra_nid != NULL)
    add_ext (m.cert, issuer_cert, OBJ_sn2nid (spec->extra_nid), spec->extra_value);
  if (spec->pad > 0)
    {
      g_autofree char *host = g_strnfill (spec->pad, 'a');
      g_autofree char *san = g_strdup_printf ("DNS:%s.example", host);
      add_ext (m.cert, issuer_cert, NID_subject_alt_name, san);
    }

  g_assert_cmpint (X509_sign (m.cert, signer, spec->sha1 ? EVP_sha1 () : EVP_sha256 ()), >, 0);
  return m;
}

static GBytes *
to_der (X509 *cert)
{
  return ds_cert_to_der (cert);
}

/* One chain: specs for the three certificates, and what the check is told. */
typedef struct {
  Spec        paa, pai, dac;
  gboolean    has_product;
  guint16     product_vid, product_pid;
  gboolean    production;
  gboolean    wrong_pai;       /* give a sibling PAI, not the DAC's issuer */
  gboolean    paa_not_in_store;
  gboolean    other_key;       /* expect a key that is not the DAC's */
} Chain;

static const Chain default_chain = {
  .paa = { .vid = "FFF1" },
  .pai = { .vid = "FFF1" },
  .dac = { .vid = "FFF1", .pid = "8000" },
};

static DsVerdict *
check_chain (const Chain *c)
{
  Made paa = make_cert (DS_CERT_ROLE_PAA, &c->paa, NULL);
  Made pai = make_cert (DS_CERT_ROLE_PAI, &c->pai, &paa);
  Made dac = make_cert (DS_CERT_ROLE_DAC, &c->dac, &pai);
  Made sibling = { NULL, NULL };
  g_autoptr(DsTrustStore) store = ds_trust_store_new ();
  g_autoptr(GBytes) paa_der = to_der (paa.cert);
  g_autoptr(GBytes) pai_der = NULL;
  g_autoptr(GBytes) dac_der = to_der (dac.cert);
  g_autoptr(EVP_PKEY) other = c->other_key ? new_key (NULL) : NULL;
  g_autoptr(GError) error = NULL;
  DsVerifyRequest request = { 0 };
  DsVerdict *verdict;

  if (c->wrong_pai)
    {
      sibling = make_cert (DS_CERT_ROLE_PAI, &c->pai, &paa);
      pai_der = to_der (sibling.cert);
    }
  else
    pai_der = to_der (pai.cert);

  if (c->paa_not_in_store)
    {
      Made stranger = make_cert (DS_CERT_ROLE_PAA, &c->paa, NULL);
      g_autoptr(GBytes) der = to_der (stranger.cert);

      g_assert_true (ds_trust_store_add_der (store, der, "stranger", &error));
      made_clear (&stranger);
    }
  else
    {
      ds_trust_store_add_der (store, paa_der, "paa", &error);
      g_assert_no_error (error);
    }

  request.dac = dac_der;
  request.pai = pai_der;
  request.trust_store = store;
  request.has_product = c->has_product;
  request.product_vid = c->product_vid;
  request.product_pid = c->product_pid;
  request.production = c->production;
  request.now = NOW;
  request.expected_key = other != NULL ? other : dac.key;
  verdict = ds_matter_verify (&request);

  /* Again with what the store keeps from the first run (the parsed PAI,
   * the PAA's X509_STORE) and the DAC handed over parsed: the same
   * verdict, rule for rule. */
  {
    g_autoptr(X509) parsed = ds_cert_parse (dac_der, NULL);
    g_autoptr(DsVerdict) again = NULL;
    g_autofree char *first = ds_verdict_to_string (verdict, "; ");
    g_autofree char *second = NULL;

    request.dac_cert = parsed;
    again = ds_matter_verify (&request);
    second = ds_verdict_to_string (again, "; ");
    g_assert_cmpstr (second, ==, first);
    g_assert_cmpint (again->test_material, ==, verdict->test_material);
  }

  made_clear (&paa);
  made_clear (&pai);
  made_clear (&dac);
  made_clear (&sibling);
  return verdict;
}

static void
assert_rules (DsVerdict  *verdict,
              const char *expected)
{
  g_autofree char *got = ds_verdict_to_string (verdict, "\n");
  g_autoptr(GString) ids = g_string_new (NULL);

  for (guint i = 0; i < verdict->violations->len; i++)
    {
      if (i > 0)
        g_string_append_c (ids, ' ');
      g_string_append (ids, ((DsViolation *) verdict->violations->pdata[i])->rule);
    }
  if (g_strcmp0 (ids->str, expected) != 0)
    g_test_message ("violations:\n%s", got);
  g_assert_cmpstr (ids->str, ==, expected);
}

/* ---- valid shapes ------------------------------------------------------ */

typedef struct {
  const char *name;
  Chain       chain;
  const char *expected;  /* "" for valid */
} Case;

#define BASE .paa = { .vid = "FFF1" }, .pai = { .vid = "FFF1" }, .dac = { .vid = "FFF1", .pid = "8000" }

/* Each row starts from BASE and overrides what its rule needs. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
static const Case cases[] = {
  /* Valid chains of every allowed shape. */
  { "valid/basic", { BASE }, "" },
  { "valid/pai-with-pid", { BASE, .pai = { .vid = "FFF1", .pid = "8000" } }, "" },
  { "valid/unscoped-paa", { BASE, .paa = { .cn = "Root PAA NoVID" } }, "" },
  { "valid/paa-pathlen-1", { BASE, .paa = { .vid = "FFF1", .pathlen = 2 } }, "" },
  { "valid/paa-pathlen-absent", { BASE, .paa = { .vid = "FFF1", .pathlen = -1 } }, "" },
  { "valid/legacy-cn", { BASE, .dac = { .cn = "ACME DAC Mvid:FFF1 Mpid:8000" },
                         .pai = { .cn = "ACME PAI Mvid:FFF1" } }, "" },
  { "valid/legacy-cn-trailing", { BASE, .dac = { .cn = "Mpid:8000,ACME,Mvid:FFF1xyz" } }, "" },
  { "valid/extra-noncritical-ext", { BASE, .dac = { .vid = "FFF1", .pid = "8000",
                                                     .extra_nid = "extendedKeyUsage", .extra_value = "clientAuth" } }, "" },
  { "valid/critical-eku", { BASE, .dac = { .vid = "FFF1", .pid = "8000",
                                            .extra_nid = "extendedKeyUsage", .extra_value = "critical,serverAuth,clientAuth" } }, "" },
  { "valid/pai-digital-signature", { BASE, .pai = { .vid = "FFF1", .ku = "digitalSignature,keyCertSign,cRLSign" } }, "" },
  { "valid/product", { BASE, .has_product = TRUE, .product_vid = 0xFFF1, .product_pid = 0x8000 }, "" },
  { "valid/paa-expired-after-issuance", { BASE, .paa = { .vid = "FFF1", .not_after = -DAY } }, "" },

  /* One rule each. */
  { "dac/version", { BASE, .dac = { .vid = "FFF1", .pid = "8000", .v2 = TRUE } }, "dac.version" },
  { "dac/serial", { BASE, .dac = { .vid = "FFF1", .pid = "8000", .serial = -5 } }, "dac.serial" },
  { "dac/signature-algorithm", { BASE, .dac = { .vid = "FFF1", .pid = "8000", .sha1 = TRUE } }, "dac.signature-algorithm" },
  { "dac/key-curve", { BASE, .dac = { .vid = "FFF1", .pid = "8000", .curve = "secp256k1" } }, "dac.key.curve" },
  { "dac/key-curve-p384", { BASE, .dac = { .vid = "FFF1", .pid = "8000", .curve = "P-384" } }, "dac.key.curve" },
  { "dac/basic-constraints-missing", { BASE, .dac = { .vid = "FFF1", .pid = "8000", .no_bc = TRUE } }, "dac.basic-constraints.missing" },
  { "dac/basic-constraints-critical", { BASE, .dac = { .vid = "FFF1", .pid = "8000", .bc_not_critical = TRUE } }, "dac.basic-constraints.critical" },
  { "dac/basic-constraints-ca", { BASE, .dac = { .vid = "FFF1", .pid = "8000", .bc_flip_ca = TRUE } }, "dac.basic-constraints.ca" },
  { "dac/basic-constraints-path-length", { BASE, .dac = { .vid = "FFF1", .pid = "8000", .bc_flip_ca = TRUE, .pathlen = 1 } },
    "dac.basic-constraints.ca dac.basic-constraints.path-length" },
  { "dac/key-usage-missing", { BASE, .dac = { .vid = "FFF1", .pid = "8000", .no_ku = TRUE } }, "dac.key-usage.missing" },
  { "dac/key-usage-critical", { BASE, .dac = { .vid = "FFF1", .pid = "8000", .ku_not_critical = TRUE } }, "dac.key-usage.critical" },
  { "dac/key-usage-cert-sign", { BASE, .dac = { .vid = "FFF1", .pid = "8000", .ku = "digitalSignature,keyCertSign" } }, "dac.key-usage.cert-sign" },
  { "dac/key-usage-crl-sign", { BASE, .dac = { .vid = "FFF1", .pid = "8000", .ku = "digitalSignature,cRLSign" } }, "dac.key-usage.crl-sign" },
  { "dac/key-usage-other", { BASE, .dac = { .vid = "FFF1", .pid = "8000", .ku = "digitalSignature,keyEncipherment" } }, "dac.key-usage.other" },
  { "dac/key-usage-digital-signature", { BASE, .dac = { .vid = "FFF1", .pid = "8000", .ku = "nonRepudiation" } },
    "dac.key-usage.digital-signature dac.key-usage.other" },
  { "dac/skid-missing", { BASE, .dac = { .vid = "FFF1", .pid = "8000", .no_skid = TRUE } }, "dac.skid.missing" },
  { "dac/skid-length", { BASE, .dac = { .vid = "FFF1", .pid = "8000", .skid_len = 8 } }, "dac.skid.length" },
  { "dac/akid-missing", { BASE, .dac = { .vid = "FFF1", .pid = "8000", .no_akid = TRUE } }, "dac.akid.missing" },
  { "dac/size", { BASE, .dac = { .vid = "FFF1", .pid = "8000", .pad = 400 } }, "dac.size" },
  { "dac/vid-format", { BASE, .dac = { .vid = "fff1", .pid = "8000" } }, "dac.vid.format" },
  { "dac/pid-format", { BASE, .dac = { .vid = "FFF1", .pid = "0x8000" } }, "dac.pid.format" },
  { "dac/vid-duplicate", { BASE, .dac = { .vid = "FFF1", .pid = "8000", .dup_vid = TRUE } }, "dac.vid.duplicate" },
  { "dac/vid-missing", { BASE, .dac = { .pid = "8000", .cn = "DAC Mvid:FFF1" } }, "dac.vid.missing" },
  { "dac/pid-missing", { BASE, .dac = { .vid = "FFF1" } }, "dac.pid.missing" },
  { "dac/legacy-cn-bad-vid", { BASE, .dac = { .cn = "DAC Mvid:FF1 Mpid:8000" } }, "dac.vid.format" },
  { "dac/signature", { BASE, .dac = { .vid = "FFF1", .pid = "8000", .foreign_key = TRUE } }, "dac.signature" },
  { "dac/expired", { BASE, .dac = { .vid = "FFF1", .pid = "8000", .not_after = -DAY } }, "dac.validity.expired" },
  { "dac/not-yet-valid", { BASE, .dac = { .vid = "FFF1", .pid = "8000", .not_before = DAY } }, "dac.validity.not-yet-valid" },
  { "dac/critical-unknown-extension", { BASE, .dac = { .vid = "FFF1", .pid = "8000", .extra_nid = "nsComment",
                                                        .extra_value = "critical,ASN1:UTF8String:hello" } },
    "dac.extension.critical-unknown" },
  { "dac/not-the-boards-key", { BASE, .other_key = TRUE }, "dac.key.not-the-boards" },

  { "pai/version", { BASE, .pai = { .vid = "FFF1", .v2 = TRUE } }, "pai.version" },
  { "pai/signature-algorithm", { BASE, .pai = { .vid = "FFF1", .sha1 = TRUE } }, "pai.signature-algorithm" },
  { "pai/key-curve", { BASE, .pai = { .vid = "FFF1", .curve = "secp256k1" } }, "pai.key.curve" },
  { "pai/basic-constraints-missing", { BASE, .pai = { .vid = "FFF1", .no_bc = TRUE } }, "pai.basic-constraints.missing" },
  { "pai/basic-constraints-critical", { BASE, .pai = { .vid = "FFF1", .bc_not_critical = TRUE } }, "pai.basic-constraints.critical" },
  { "pai/basic-constraints-ca", { BASE, .pai = { .vid = "FFF1", .bc_flip_ca = TRUE, .pathlen = -1 } }, "pai.basic-constraints.ca pai.basic-constraints.path-length" },
  { "pai/path-length-1", { BASE, .pai = { .vid = "FFF1", .pathlen = 2 } }, "pai.basic-constraints.path-length" },
  { "pai/path-length-absent", { BASE, .pai = { .vid = "FFF1", .pathlen = -1 } }, "pai.basic-constraints.path-length" },
  { "pai/key-usage-missing", { BASE, .pai = { .vid = "FFF1", .no_ku = TRUE } }, "pai.key-usage.missing" },
  { "pai/key-usage-critical", { BASE, .pai = { .vid = "FFF1", .ku_not_critical = TRUE } }, "pai.key-usage.critical" },
  { "pai/key-usage-crl-sign", { BASE, .pai = { .vid = "FFF1", .ku = "keyCertSign" } }, "pai.key-usage.crl-sign" },
  { "pai/key-usage-other", { BASE, .pai = { .vid = "FFF1", .ku = "keyCertSign,cRLSign,keyAgreement" } }, "pai.key-usage.other" },
  { "pai/skid-missing", { BASE, .pai = { .vid = "FFF1", .no_skid = TRUE } }, "pai.skid.missing dac.akid.missing" },
  { "pai/akid-missing", { BASE, .pai = { .vid = "FFF1", .no_akid = TRUE } }, "pai.akid.missing" },
  { "pai/vid-missing", { BASE, .pai = { .cn = "PAI" } }, "pai.vid.missing" },
  { "pai/vid-format", { BASE, .pai = { .vid = "FFF" } }, "pai.vid.format" },
  { "pai/size", { BASE, .pai = { .vid = "FFF1", .pad = 400 } }, "pai.size" },
  { "pai/not-valid-at-issuance", { BASE, .pai = { .vid = "FFF1", .not_before = -5 * DAY } }, "pai.validity.at-issuance" },
  { "pai/expired-before-issuance", { BASE, .pai = { .vid = "FFF1", .not_after = -15 * DAY } },
    "pai.validity.at-issuance" },
  { "paa/not-valid-at-issuance", { BASE, .paa = { .vid = "FFF1", .not_before = -5 * DAY } }, "paa.validity.at-issuance" },

  { "chain/vid-mismatch", { BASE, .pai = { .vid = "FFF1" }, .dac = { .vid = "FFF2", .pid = "8000" } }, "chain.vid-mismatch" },
  { "chain/pid-mismatch", { BASE, .pai = { .vid = "FFF1", .pid = "8001" } }, "chain.pid-mismatch" },
  { "chain/paa-vid-mismatch", { BASE, .paa = { .vid = "FFF2" } }, "chain.paa-vid-mismatch" },
  { "chain/paa-not-found", { BASE, .paa_not_in_store = TRUE }, "chain.paa-not-found" },
  { "chain/dac-issuer", { BASE, .wrong_pai = TRUE }, "chain.dac-issuer" },

  { "product/vid", { BASE, .has_product = TRUE, .product_vid = 0xFFF2, .product_pid = 0x8000 }, "product.vid" },
  { "product/pid", { BASE, .has_product = TRUE, .product_vid = 0xFFF1, .product_pid = 0x8001 }, "product.pid" },

  { "production/test-vid", { BASE, .paa = { .cn = "ACME Root" }, .production = TRUE }, "production.test-vid" },
  { "production/test-paa", { .paa = { .cn = "ACME Test PAA", .vid = "1234" }, .pai = { .vid = "1234" },
                             .dac = { .vid = "1234", .pid = "0001" }, .production = TRUE }, "production.test-paa" },
  { "production/valid", { .paa = { .cn = "ACME Root", .vid = "1234" }, .pai = { .vid = "1234" },
                          .dac = { .vid = "1234", .pid = "0001" }, .production = TRUE }, "" },
};
#pragma GCC diagnostic pop

static void
test_case (gconstpointer data)
{
  const Case *c = data;
  g_autoptr(DsVerdict) verdict = check_chain (&c->chain);

  assert_rules (verdict, c->expected);
  if (g_str_has_prefix (c->name, "production/valid"))
    g_assert_false (verdict->test_material);
  if (g_str_has_prefix (c->name, "valid/"))
    g_assert_true (verdict->test_material);  /* FFF1 is a test vendor ID */
}

/* A PAA with a PID, or one that is not a CA, never enters a trust store. */
static void
test_store_refuses_bad_paa (void)
{
  const Spec with_pid = { .vid = "FFF1", .pid = "8000" };
  const Spec not_ca = { .vid = "FFF1", .bc_flip_ca = TRUE, .pathlen = -1 };
  const Spec *specs[] = { &with_pid, &not_ca };
  const char *rules[] = { "paa.pid.present", "paa.basic-constraints.ca" };

  for (gsize i = 0; i < G_N_ELEMENTS (specs); i++)
    {
      Made paa = make_cert (DS_CERT_ROLE_PAA, specs[i], NULL);
      g_autoptr(GBytes) der = to_der (paa.cert);
      g_autoptr(DsTrustStore) store = ds_trust_store_new ();
      g_autoptr(GError) error = NULL;

      g_assert_false (ds_trust_store_add_der (store, der, "bad.der", &error));
      g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (error->message, rules[i]));
      g_assert_cmpuint (ds_trust_store_get_count (store), ==, 0);
      g_assert_cmpuint (ds_trust_store_get_skipped (store)->len, ==, 1);
      made_clear (&paa);
    }
}

/* What a store keeps for verification: a certificate parsed once per
 * distinct bytes, unreadable bytes never kept, one X509_STORE per PAA. */
static void
test_store_cache (void)
{
  const Spec spec = { .vid = "FFF1" };
  Made paa = make_cert (DS_CERT_ROLE_PAA, &spec, NULL);
  Made pai = make_cert (DS_CERT_ROLE_PAI, &spec, &paa);
  Made other = make_cert (DS_CERT_ROLE_PAI, &spec, &paa);
  g_autoptr(GBytes) paa_der = to_der (paa.cert);
  g_autoptr(GBytes) pai_der = to_der (pai.cert);
  g_autoptr(GBytes) pai_copy = g_bytes_new (g_bytes_get_data (pai_der, NULL), g_bytes_get_size (pai_der));
  g_autoptr(GBytes) other_der = to_der (other.cert);
  g_autoptr(GBytes) garbage = g_bytes_new_static ("not a certificate", 17);
  g_autoptr(DsTrustStore) store = ds_trust_store_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(X509) a = NULL, b = NULL, c = NULL, d = NULL;
  g_autoptr(X509_STORE) anchor1 = NULL, anchor2 = NULL;
  X509 *stored_paa;

  g_assert_true (ds_trust_store_add_der (store, paa_der, "paa", &error));
  g_assert_no_error (error);
  a = ds_trust_store_parse_cached (store, pai_der, &error);
  g_assert_no_error (error);
  b = ds_trust_store_parse_cached (store, pai_copy, &error);
  g_assert_no_error (error);
  c = ds_trust_store_parse_cached (store, other_der, &error);
  g_assert_no_error (error);
  g_assert_true (a == b);
  g_assert_true (a != c);
  g_assert_cmpint (X509_cmp (a, pai.cert), ==, 0);
  g_assert_cmpint (X509_cmp (c, other.cert), ==, 0);
  for (guint i = 0; i < 2; i++)
    {
      g_assert_null (ds_trust_store_parse_cached (store, garbage, &error));
      g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
      g_clear_error (&error);
    }
  /* The cache holds its own reference. */
  g_clear_pointer (&a, X509_free);
  g_clear_pointer (&b, X509_free);
  d = ds_trust_store_parse_cached (store, pai_der, &error);
  g_assert_cmpint (X509_cmp (d, pai.cert), ==, 0);

  stored_paa = ds_trust_store_lookup (store, ASN1_STRING_get0_data (X509_get0_subject_key_id (paa.cert)),
                                      ASN1_STRING_length (X509_get0_subject_key_id (paa.cert)));
  g_assert_nonnull (stored_paa);
  anchor1 = ds_trust_store_dup_anchor (store, stored_paa);
  anchor2 = ds_trust_store_dup_anchor (store, stored_paa);
  g_assert_nonnull (anchor1);
  g_assert_true (anchor1 == anchor2);
  made_clear (&paa);
  made_clear (&pai);
  made_clear (&other);
}

/* A directory store: DER and PEM of the same PAA count once; a bad file is
 * skipped, not fatal; an empty directory is an error. */
static void
test_store_directory (void)
{
  const Spec good = { .vid = "FFF1" };
  const Spec bad = { .vid = "FFF1", .pid = "8000" };
  Made a = make_cert (DS_CERT_ROLE_PAA, &good, NULL);
  Made b = make_cert (DS_CERT_ROLE_PAA, &bad, NULL);
  g_autofree char *dir = g_dir_make_tmp ("ds-store-XXXXXX", NULL);
  g_autofree char *pem = ds_cert_to_pem (a.cert);
  g_autoptr(GBytes) der = to_der (a.cert);
  g_autoptr(GBytes) bad_der = to_der (b.cert);
  g_autofree char *p1 = g_build_filename (dir, "a.pem", NULL);
  g_autofree char *p2 = g_build_filename (dir, "a.der", NULL);
  g_autofree char *p3 = g_build_filename (dir, "b.der", NULL);
  g_autofree char *p4 = g_build_filename (dir, "README", NULL);
  g_autoptr(DsTrustStore) store = ds_trust_store_new ();
  g_autoptr(DsTrustStore) empty = ds_trust_store_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *empty_dir = g_dir_make_tmp ("ds-store-XXXXXX", NULL);

  g_assert_true (g_file_set_contents (p1, pem, -1, NULL));
  g_assert_true (g_file_set_contents (p2, g_bytes_get_data (der, NULL), g_bytes_get_size (der), NULL));
  g_assert_true (g_file_set_contents (p3, g_bytes_get_data (bad_der, NULL), g_bytes_get_size (bad_der), NULL));
  g_assert_true (g_file_set_contents (p4, "not a certificate", -1, NULL));

  g_assert_true (ds_trust_store_add_path (store, dir, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ds_trust_store_get_count (store), ==, 1);
  g_assert_cmpuint (ds_trust_store_get_skipped (store)->len, ==, 1);
  g_assert_true (ds_trust_store_has_test_paa (store));

  g_assert_false (ds_trust_store_add_path (empty, empty_dir, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);

  g_unlink (p1);
  g_unlink (p2);
  g_unlink (p3);
  g_unlink (p4);
  g_rmdir (dir);
  g_rmdir (empty_dir);
  made_clear (&a);
  made_clear (&b);
}

/* The SDK's VID/PID parsing, attribute by attribute. */
static void
test_vid_pid_parsing (void)
{
  static const struct {
    const char *cn;
    const char *vid;
    const char *pid;
    gboolean    ok;
    int         has_vid, has_pid;
    guint16     v, p;
  } rows[] = {
    { "ACME Mvid:FFF1 Mpid:00B1", NULL, NULL, TRUE, 1, 1, 0xFFF1, 0x00B1 },
    { "Mvid:FFF1Mpid:00B1", NULL, NULL, TRUE, 1, 1, 0xFFF1, 0x00B1 },
    { "MpidMvid:FFF10 Matter Test Mpid:00B1", NULL, NULL, TRUE, 1, 1, 0xFFF1, 0x00B1 },
    { "Mvid:FFF1ACME Matter Devel DAC 5CDAMpid:00B19899", NULL, NULL, TRUE, 1, 1, 0xFFF1, 0x00B1 },
    { "Mvid:fff1 Mpid:00B1", NULL, NULL, FALSE, 0, 0, 0, 0 },
    { "Mvid:FFF1 Mpid:B1", NULL, NULL, FALSE, 0, 0, 0, 0 },
    { "Mpid: Mvid:FFF1", NULL, NULL, FALSE, 0, 0, 0, 0 },
    { "MVID:FFF1 Mpid:00B1", NULL, NULL, TRUE, 0, 1, 0, 0x00B1 },
    { "Mvid_FFF1", NULL, NULL, TRUE, 0, 0, 0, 0 },
    /* Attributes win over the CN entirely. */
    { "Mvid:FFF2 Mpid:00B2", "FFF1", "00B1", TRUE, 1, 1, 0xFFF1, 0x00B1 },
    { "Mvid:FFF1", NULL, "00B1", TRUE, 0, 1, 0, 0x00B1 },
    /* Only the first 64 bytes of a CN count. */
    { "01234567890123456789012345678901234567890123456789012345678901 Mvid:FFF1", NULL, NULL, TRUE, 0, 0, 0, 0 },
    { "0123456789012345678901234567890123456789012345678901234567 Mvid:FFF1", NULL, NULL, FALSE, 0, 0, 0, 0 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autoptr(X509_NAME) name = X509_NAME_new ();
      DsMatterIds ids;
      const char *problem = NULL;

      add_name (name, "2.5.4.3", rows[i].cn);
      if (rows[i].vid != NULL)
        add_name (name, DS_OID_MATTER_VID, rows[i].vid);
      if (rows[i].pid != NULL)
        add_name (name, DS_OID_MATTER_PID, rows[i].pid);
      g_test_message ("CN %s", rows[i].cn);
      g_assert_cmpint (ds_name_get_matter_ids (name, &ids, &problem), ==, rows[i].ok);
      if (!rows[i].ok)
        {
          g_assert_nonnull (problem);
          continue;
        }
      g_assert_cmpint (ids.has_vid, ==, rows[i].has_vid);
      g_assert_cmpint (ids.has_pid, ==, rows[i].has_pid);
      if (ids.has_vid)
        g_assert_cmphex (ids.vid, ==, rows[i].v);
      if (ids.has_pid)
        g_assert_cmphex (ids.pid, ==, rows[i].p);
    }
}

/* ---- Certification Declarations ----------------------------------------- */

typedef struct {
  EVP_PKEY *key;
  X509     *cert;
  guint8    kid[DS_CD_KID_LEN];
} Signer;

static Signer
make_signer (void)
{
  const Spec spec = { .cn = "CD Signing Authority" };
  Made m = make_cert (DS_CERT_ROLE_PAA, &spec, NULL);
  Signer s = { m.key, m.cert };
  const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id (m.cert);

  memcpy (s.kid, ASN1_STRING_get0_data (skid), DS_CD_KID_LEN);
  return s;
}

static DsCd *
valid_cd (void)
{
  DsCd *cd = ds_cd_new ();
  guint16 pids[] = { 0x8000, 0x8001 };

  cd->format_version = 1;
  cd->vendor_id = 0xFFF1;
  g_array_append_vals (cd->product_ids, pids, G_N_ELEMENTS (pids));
  cd->device_type_id = 0x0016;
  cd->certificate_id = g_strdup ("ZIG20142ZB330003-24");
  cd->certification_type = DS_CD_TYPE_DEVELOPMENT;
  return cd;
}

/* Checks the default chain with @cd signed by @signer. */
static DsVerdict *
check_with_cd (const DsCd *cd,
               guint16     product_vid,
               Signer     *signer,
               gboolean    signer_known,
               gboolean    corrupt_signature)
{
  Made paa = make_cert (DS_CERT_ROLE_PAA, &default_chain.paa, NULL);
  Made pai = make_cert (DS_CERT_ROLE_PAI, &default_chain.pai, &paa);
  Made dac = make_cert (DS_CERT_ROLE_DAC, &default_chain.dac, &pai);
  g_autoptr(DsTrustStore) store = ds_trust_store_new ();
  g_autoptr(GBytes) paa_der = to_der (paa.cert);
  g_autoptr(GBytes) pai_der = to_der (pai.cert);
  g_autoptr(GBytes) dac_der = to_der (dac.cert);
  g_autoptr(GPtrArray) signers = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) cd_der = NULL;
  g_autoptr(DsCd) with_paa = NULL;
  DsVerifyRequest request = { 0 };
  DsVerdict *verdict;

  if (cd->authorized_paas != NULL && cd->authorized_paas->len == 0)
    {
      /* "this PAA": the test fills in the SKID it only now knows. */
      const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id (paa.cert);
      g_ptr_array_add (cd->authorized_paas, g_bytes_new (ASN1_STRING_get0_data (skid), 20));
    }
  cd_der = ds_cd_encode (cd, signer->key, signer->kid, &error);
  g_assert_no_error (error);
  if (corrupt_signature)
    {
      gsize n = 0;
      guint8 *copy = g_bytes_unref_to_data (g_steal_pointer (&cd_der), &n);
      copy[n - 3] ^= 0x01;
      cd_der = g_bytes_new_take (copy, n);
    }
  g_assert_true (ds_trust_store_add_der (store, paa_der, "paa", &error));
  if (signer_known)
    g_ptr_array_add (signers, signer->cert);

  request.dac = dac_der;
  request.pai = pai_der;
  request.cd = cd_der;
  request.cd_signers = signers;
  request.trust_store = store;
  request.has_product = TRUE;
  request.product_vid = product_vid;
  request.product_pid = 0x8000;
  request.now = NOW;
  verdict = ds_matter_verify (&request);
  made_clear (&paa);
  made_clear (&pai);
  made_clear (&dac);
  return verdict;
}

static void
test_cd_rules (void)
{
  Signer signer = make_signer ();
  struct {
    const char *name;
    void      (*mutate) (DsCd *cd);
    gboolean    known;
    gboolean    corrupt;
    const char *expected;
  } rows[] = {
    { "valid", NULL, TRUE, FALSE, "" },
    { "unknown signer", NULL, FALSE, FALSE, "cd.signer.unknown" },
    { "bad signature", NULL, TRUE, TRUE, "cd.signature" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autoptr(DsCd) cd = valid_cd ();
      g_autoptr(DsVerdict) verdict = NULL;

      g_test_message ("CD: %s", rows[i].name);
      verdict = check_with_cd (cd, 0xFFF1, &signer, rows[i].known, rows[i].corrupt);
      assert_rules (verdict, rows[i].expected);
    }
  EVP_PKEY_free (signer.key);
  X509_free (signer.cert);
}

static void set_vendor (DsCd *cd) { cd->vendor_id = 0xFFF2; }
static void set_products (DsCd *cd) { g_array_set_size (cd->product_ids, 0); guint16 p = 0x8005; g_array_append_val (cd->product_ids, p); }
static void set_format (DsCd *cd) { cd->format_version = 2; }
static void set_type (DsCd *cd) { cd->certification_type = 3; }
static void set_cert_id (DsCd *cd) { g_free (cd->certificate_id); cd->certificate_id = g_strdup ("ZIG20142ZB330003-2"); }
static void set_origin_ok (DsCd *cd) { cd->vendor_id = 0xFFF2; cd->has_dac_origin = TRUE; cd->dac_origin_vid = 0xFFF1; cd->dac_origin_pid = 0x8000; }
static void set_origin_bad (DsCd *cd) { cd->has_dac_origin = TRUE; cd->dac_origin_vid = 0xFFF1; cd->dac_origin_pid = 0x8009; }
static void set_paa_listed (DsCd *cd) { cd->authorized_paas = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref); }
static void set_paa_unlisted (DsCd *cd)
{
  guint8 kid[20] = { 1, 2, 3 };
  cd->authorized_paas = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_ptr_array_add (cd->authorized_paas, g_bytes_new (kid, sizeof kid));
}
static void set_empty_products (DsCd *cd) { g_array_set_size (cd->product_ids, 0); }

static void
test_cd_payload_rules (void)
{
  Signer signer = make_signer ();
  struct {
    const char *name;
    void      (*mutate) (DsCd *cd);
    guint16     product_vid;
    const char *expected;
  } rows[] = {
    { "vendor", set_vendor, 0xFFF1, "cd.vendor-id cd.dac-vid" },
    { "products", set_products, 0xFFF1, "cd.product-id cd.dac-pid" },
    { "format version", set_format, 0xFFF1, "cd.format-version" },
    { "certification type", set_type, 0xFFF1, "cd.certification-type" },
    { "certificate id", set_cert_id, 0xFFF1, "cd.certificate-id.length" },
    { "dac origin", set_origin_ok, 0xFFF2, "" },
    { "dac origin pid", set_origin_bad, 0xFFF1, "cd.dac-origin.pid" },
    { "paa listed", set_paa_listed, 0xFFF1, "" },
    { "paa not listed", set_paa_unlisted, 0xFFF1, "cd.paa-not-authorized" },
    { "no products", set_empty_products, 0xFFF1, "cd.product-ids.count" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autoptr(DsCd) cd = valid_cd ();
      g_autoptr(DsVerdict) verdict = NULL;

      g_test_message ("CD: %s", rows[i].name);
      rows[i].mutate (cd);
      /* With a DAC origin the product is the CD's vendor's, the DAC the
       * origin's. */
      verdict = check_with_cd (cd, rows[i].product_vid, &signer, TRUE, FALSE);
      assert_rules (verdict, rows[i].expected);
    }
  EVP_PKEY_free (signer.key);
  X509_free (signer.cert);
}

/* The encoder and the decoder agree on every field. */
static void
test_cd_round_trip (void)
{
  Signer signer = make_signer ();
  g_autoptr(DsCd) cd = valid_cd ();
  g_autoptr(GBytes) der = NULL;
  g_autoptr(DsVerdict) verdict = ds_verdict_new ();
  g_autoptr(GPtrArray) signers = g_ptr_array_new ();
  g_autoptr(DsCd) back = NULL;
  g_autoptr(GError) error = NULL;

  set_paa_unlisted (cd);
  cd->has_dac_origin = TRUE;
  cd->dac_origin_vid = 0xFFF3;
  cd->dac_origin_pid = 0x1234;
  cd->security_information = 7;
  cd->version_number = 0x0102;
  der = ds_cd_encode (cd, signer.key, signer.kid, &error);
  g_assert_no_error (error);
  g_ptr_array_add (signers, signer.cert);
  back = ds_cd_parse (der, signers, verdict);
  assert_rules (verdict, "");
  g_assert_nonnull (back);
  g_assert_cmpuint (back->vendor_id, ==, 0xFFF1);
  g_assert_cmpuint (back->product_ids->len, ==, 2);
  g_assert_cmpstr (back->certificate_id, ==, "ZIG20142ZB330003-24");
  g_assert_true (back->has_dac_origin);
  g_assert_cmphex (back->dac_origin_vid, ==, 0xFFF3);
  g_assert_cmphex (back->dac_origin_pid, ==, 0x1234);
  g_assert_cmpuint (back->security_information, ==, 7);
  g_assert_cmphex (back->version_number, ==, 0x0102);
  g_assert_cmpuint (back->authorized_paas->len, ==, 1);
  g_assert_false (back->signed_by_test_key);
  g_assert_cmpmem (back->signer_kid, DS_CD_KID_LEN, signer.kid, DS_CD_KID_LEN);
  EVP_PKEY_free (signer.key);
  X509_free (signer.cert);
}

/* Garbage never crashes and is never valid. */
static void
test_cd_garbage (void)
{
  static const guint8 inputs[][8] = {
    { 0 }, { 0x30, 0x80 }, { 0x30, 0x03, 0x06, 0x01, 0x00 }, { 0x30, 0x84, 0xff, 0xff, 0xff, 0xff },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autoptr(GBytes) b = g_bytes_new_static (inputs[i], sizeof inputs[i]);
      g_autoptr(DsVerdict) verdict = ds_verdict_new ();
      g_autoptr(DsCd) cd = ds_cd_parse (b, NULL, verdict);

      g_assert_null (cd);
      g_assert_false (ds_verdict_is_valid (verdict));
    }
}

/* Matter requires DER: a DAC, a PAI or a CD in BER (an indefinite length,
 * a length longer than it needs, outside or one level in) breaks its own
 * rule, ROLE.der or cd.der, where OpenSSL alone would take it. */
static void
test_der_required (void)
{
  Signer signer = make_signer ();
  Made paa = make_cert (DS_CERT_ROLE_PAA, &default_chain.paa, NULL);
  Made pai = make_cert (DS_CERT_ROLE_PAI, &default_chain.pai, &paa);
  Made dac = make_cert (DS_CERT_ROLE_DAC, &default_chain.dac, &pai);
  g_autoptr(DsTrustStore) store = ds_trust_store_new ();
  g_autoptr(GBytes) paa_der = to_der (paa.cert);
  g_autoptr(GBytes) pai_der = to_der (pai.cert);
  g_autoptr(GBytes) dac_der = to_der (dac.cert);
  g_autoptr(DsCd) cd = valid_cd ();
  g_autoptr(GBytes) cd_der = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (ds_trust_store_add_der (store, paa_der, "paa", &error));
  cd_der = ds_cd_encode (cd, signer.key, signer.kid, &error);
  g_assert_no_error (error);

  for (int inner = 0; inner < 2; inner++)
    for (int form = DS_TEST_DER_MINIMAL; form <= DS_TEST_DER_INDEFINITE; form++)
      for (int which = 0; which < 3; which++)
        {
          g_autoptr(GBytes) dac_bytes = which == 0 ? ds_test_der_reencode (dac_der, inner, form) : g_bytes_ref (dac_der);
          g_autoptr(GBytes) pai_bytes = which == 1 ? ds_test_der_reencode (pai_der, inner, form) : g_bytes_ref (pai_der);
          g_autoptr(GBytes) cd_bytes = which == 2 ? ds_test_der_reencode (cd_der, inner, form) : g_bytes_ref (cd_der);
          g_autoptr(GPtrArray) signers = g_ptr_array_new ();
          g_autoptr(DsVerdict) verdict = NULL;
          DsVerifyRequest request = { 0 };
          const char *rule = which == 0 ? "dac.der" : which == 1 ? "pai.der" : "cd.der";

          g_test_message ("%s, inner %d, form %d", rule, inner, form);
          g_ptr_array_add (signers, signer.cert);
          request.dac = dac_bytes;
          request.pai = pai_bytes;
          request.cd = cd_bytes;
          request.cd_signers = signers;
          request.trust_store = store;
          request.now = NOW;
          verdict = ds_matter_verify (&request);
          if (form == DS_TEST_DER_MINIMAL)
            {
              /* Re-encoding DER minimally gives the same bytes: valid. */
              assert_rules (verdict, "");
              continue;
            }
          g_assert_true (ds_verdict_has_rule (verdict, rule));
          g_assert_false (ds_verdict_is_valid (verdict));
        }
  made_clear (&paa);
  made_clear (&pai);
  made_clear (&dac);
  EVP_PKEY_free (signer.key);
  X509_free (signer.cert);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/validator/chain/%s", cases[i].name);
      g_test_add_data_func (path, &cases[i], test_case);
    }
  g_test_add_func ("/validator/store/refuses-bad-paa", test_store_refuses_bad_paa);
  g_test_add_func ("/validator/store/directory", test_store_directory);
  g_test_add_func ("/validator/store/cache", test_store_cache);
  g_test_add_func ("/validator/vid-pid-parsing", test_vid_pid_parsing);
  g_test_add_func ("/validator/cd/envelope", test_cd_rules);
  g_test_add_func ("/validator/cd/payload", test_cd_payload_rules);
  g_test_add_func ("/validator/cd/round-trip", test_cd_round_trip);
  g_test_add_func ("/validator/cd/garbage", test_cd_garbage);
  g_test_add_func ("/validator/der-required", test_der_required);
  return g_test_run ();
}
