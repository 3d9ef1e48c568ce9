/* The per-certificate Matter format rules.  Rule numbers (F) refer to
 * ../shared/matter-vectors/RULES.md; docs/validator.md lists the rule
 * identifiers this file reports. */
#include "config.h"

#include "ds-matter-format.h"

#include <glib/gi18n-lib.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>
const char *
ds_cert_role_id (DsCertRole role)
{
  switch (role)
    {
    case DS_CERT_ROLE_DAC: return "dac";
    case DS_CERT_ROLE_PAI: return "pai";
    case DS_CERT_ROLE_PAA: return "paa";
    default: g_assert_not_reached ();
    }
}

const char *
ds_cert_role_name (DsCertRole role)
{
  switch (role)
    {
    /* TRANSLATORS: the device attestation certificate */
    case DS_CERT_ROLE_DAC: return C_("certificate", "DAC");
    /* TRANSLATORS: the product attestation intermediate certificate */
    case DS_CERT_ROLE_PAI: return C_("certificate", "PAI");
    /* TRANSLATORS: the product attestation authority (root) certificate */
    case DS_CERT_ROLE_PAA: return C_("certificate", "PAA");
    default: g_assert_not_reached ();
    }
}

void
ds_matter_add_for (DsVerdict  *verdict,
                   DsCertRole  role,
                   const char *suffix,
                   const char *message,
                   ...)
{
  g_autofree char *rule = g_strdup_printf ("%s.%s", ds_cert_role_id (role), suffix);
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, message);
  text = g_strdup_vprintf (message, args);
  va_end (args);
  ds_verdict_add (verdict, rule, "%s", text);
}

gboolean
ds_matter_vid_is_test (guint16 vid)
{
  return vid >= DS_VID_TEST_MIN && vid <= DS_VID_TEST_MAX;
}

gboolean
ds_matter_paa_is_test (X509 *paa)
{
  DsMatterIds ids;
  X509_NAME *subject = X509_get_subject_name (paa);
  int idx;

  if (ds_name_get_matter_ids (subject, &ids, NULL) && ids.has_vid && ds_matter_vid_is_test (ids.vid))
    return TRUE;
  idx = X509_NAME_get_index_by_NID (subject, NID_commonName, -1);
  if (idx >= 0)
    {
      const ASN1_STRING *s = X509_NAME_ENTRY_get_data (X509_NAME_get_entry (subject, idx));
      g_autofree char *cn = g_strndup ((const char *) ASN1_STRING_get0_data (s), ASN1_STRING_length (s));
      g_autofree char *lower = g_ascii_strdown (cn, -1);

      /* Test and development roots say so in their name, on the DCL too:
       * "Matter Test PAA", "Matter Development PAA", "... Test PAA". */
      if (strstr (lower, "test") != NULL || strstr (lower, "development") != NULL)
        return TRUE;
    }
  return FALSE;
}

/* Counts the extensions of @nid and whether any of them is critical. */
static int
count_ext (X509     *cert,
           int       nid,
           gboolean *critical,
           X509_EXTENSION **first)
{
  int n = 0;

  *critical = FALSE;
  *first = NULL;
  for (int i = 0; i < X509_get_ext_count (cert); i++)
    {
      X509_EXTENSION *ext = X509_get_ext (cert, i);

      if (OBJ_obj2nid (X509_EXTENSION_get_object (ext)) != nid)
        continue;
      if (n == 0)
        {
          *first = ext;
          *critical = X509_EXTENSION_get_critical (ext) != 0;
        }
      n++;
    }
  return n;
}

/* Presence, criticality and uniqueness of one extension (F7, F9, F11, F12).
 * Returns the extension when it is there once. */
static X509_EXTENSION *
check_ext_presence (X509       *cert,
                    DsCertRole  role,
                    DsVerdict  *verdict,
                    int         nid,
                    const char *id,
                    const char *what,
                    gboolean    required,
                    gboolean    critical_required)
{
  gboolean critical;
  X509_EXTENSION *ext;
  int n = count_ext (cert, nid, &critical, &ext);
  g_autofree char *missing = g_strdup_printf ("%s.missing", id);
  g_autofree char *dup = g_strdup_printf ("%s.duplicate", id);
  g_autofree char *crit = g_strdup_printf ("%s.critical", id);

  if (n == 0)
    {
      if (required)
        ds_matter_add_for (verdict, role, missing, _("The %s has no %s extension"), ds_cert_role_name (role), what);
      return NULL;
    }
  if (n > 1)
    {
      ds_matter_add_for (verdict, role, dup, _("The %s has more than one %s extension"), ds_cert_role_name (role), what);
      return NULL;
    }
  if (critical_required && !critical)
    ds_matter_add_for (verdict, role, crit, _("The %s's %s extension must be marked critical"), ds_cert_role_name (role), what);
  else if (!critical_required && critical)
    ds_matter_add_for (verdict, role, crit, _("The %s's %s extension must not be marked critical"), ds_cert_role_name (role), what);
  return ext;
}

static void
check_basic_constraints (X509       *cert,
                         DsCertRole  role,
                         DsVerdict  *verdict)
{
  X509_EXTENSION *ext = check_ext_presence (cert, role, verdict, NID_basic_constraints,
                                            "basic-constraints", _("basic constraints"), TRUE, TRUE);
  BASIC_CONSTRAINTS *bc;
  long pathlen = -1;

  if (ext == NULL)
    return;
  bc = X509V3_EXT_d2i (ext);
  if (bc == NULL)
    {
      ERR_clear_error ();
      ds_matter_add_for (verdict, role, "basic-constraints.malformed",
               _("The %s's basic constraints cannot be decoded"), ds_cert_role_name (role));
      return;
    }
  if (bc->pathlen != NULL)
    pathlen = ASN1_INTEGER_get (bc->pathlen);
  switch (role)
    {
    case DS_CERT_ROLE_DAC:
      if (bc->ca)
        ds_matter_add_for (verdict, role, "basic-constraints.ca",
                 _("The DAC claims to be a certificate authority (CA:TRUE); a DAC must be an end entity"));
      if (bc->pathlen != NULL)
        ds_matter_add_for (verdict, role, "basic-constraints.path-length",
                 _("The DAC has a path length constraint; a DAC must have none"));
      break;
    case DS_CERT_ROLE_PAI:
      if (!bc->ca)
        ds_matter_add_for (verdict, role, "basic-constraints.ca",
                 _("The PAI is not marked as a certificate authority (CA:TRUE)"));
      if (pathlen != 0)
        ds_matter_add_for (verdict, role, "basic-constraints.path-length",
                 _("The PAI's path length must be present and 0, so that it can sign only DACs"));
      break;
    case DS_CERT_ROLE_PAA:
      if (!bc->ca)
        ds_matter_add_for (verdict, role, "basic-constraints.ca",
                 _("The PAA is not marked as a certificate authority (CA:TRUE)"));
      if (bc->pathlen != NULL && pathlen != 1)
        ds_matter_add_for (verdict, role, "basic-constraints.path-length",
                 _("The PAA's path length must be absent or 1"));
      break;
    default:
      g_assert_not_reached ();
    }
  BASIC_CONSTRAINTS_free (bc);
}

static void
check_key_usage (X509       *cert,
                 DsCertRole  role,
                 DsVerdict  *verdict)
{
  X509_EXTENSION *ext = check_ext_presence (cert, role, verdict, NID_key_usage,
                                            "key-usage", _("key usage"), TRUE, TRUE);
  ASN1_BIT_STRING *bits;
  gboolean dig, cert_sign, crl_sign, other = FALSE;

  if (ext == NULL)
    return;
  bits = X509V3_EXT_d2i (ext);
  if (bits == NULL)
    {
      ERR_clear_error ();
      ds_matter_add_for (verdict, role, "key-usage.malformed", _("The %s's key usage cannot be decoded"), ds_cert_role_name (role));
      return;
    }
  dig = ASN1_BIT_STRING_get_bit (bits, 0);
  cert_sign = ASN1_BIT_STRING_get_bit (bits, 5);
  crl_sign = ASN1_BIT_STRING_get_bit (bits, 6);
  for (int i = 1; i < ASN1_STRING_length (bits) * 8; i++)
    if (i != 5 && i != 6 && ASN1_BIT_STRING_get_bit (bits, i))
      other = TRUE;
  ASN1_BIT_STRING_free (bits);

  if (role == DS_CERT_ROLE_DAC)
    {
      if (!dig)
        ds_matter_add_for (verdict, role, "key-usage.digital-signature",
                 _("The DAC's key usage lacks digitalSignature, which attestation needs"));
      if (cert_sign)
        ds_matter_add_for (verdict, role, "key-usage.cert-sign",
                 _("The DAC's key usage allows signing certificates (keyCertSign); a DAC may only sign attestations"));
      if (crl_sign)
        ds_matter_add_for (verdict, role, "key-usage.crl-sign",
                 _("The DAC's key usage allows signing revocation lists (cRLSign); a DAC may only sign attestations"));
      if (other)
        ds_matter_add_for (verdict, role, "key-usage.other",
                 _("The DAC's key usage has bits besides digitalSignature"));
    }
  else
    {
      if (!cert_sign)
        ds_matter_add_for (verdict, role, "key-usage.cert-sign",
                 _("The %s's key usage lacks keyCertSign"), ds_cert_role_name (role));
      if (!crl_sign)
        ds_matter_add_for (verdict, role, "key-usage.crl-sign",
                 _("The %s's key usage lacks cRLSign"), ds_cert_role_name (role));
      if (other)
        ds_matter_add_for (verdict, role, "key-usage.other",
                 _("The %s's key usage has bits besides keyCertSign, cRLSign and digitalSignature"),
                 ds_cert_role_name (role));
    }
}

static void
check_key_ids (X509       *cert,
               DsCertRole  role,
               DsVerdict  *verdict)
{
  X509_EXTENSION *ext;

  ext = check_ext_presence (cert, role, verdict, NID_subject_key_identifier,
                            "skid", _("subject key identifier"), TRUE, FALSE);
  if (ext != NULL)
    {
      ASN1_OCTET_STRING *skid = X509V3_EXT_d2i (ext);

      if (skid == NULL || ASN1_STRING_length (skid) != 20)
        ds_matter_add_for (verdict, role, "skid.length",
                 _("The %s's subject key identifier is not 20 bytes long"), ds_cert_role_name (role));
      ASN1_OCTET_STRING_free (skid);
      ERR_clear_error ();
    }

  ext = check_ext_presence (cert, role, verdict, NID_authority_key_identifier,
                            "akid", _("authority key identifier"), role != DS_CERT_ROLE_PAA, FALSE);
  if (ext != NULL)
    {
      AUTHORITY_KEYID *akid = X509V3_EXT_d2i (ext);

      if (akid == NULL || akid->keyid == NULL || ASN1_STRING_length (akid->keyid) != 20)
        ds_matter_add_for (verdict, role, "akid.length",
                 _("The %s's authority key identifier does not hold a 20-byte key ID"), ds_cert_role_name (role));
      AUTHORITY_KEYID_free (akid);
      ERR_clear_error ();
    }
}

static void
check_key (X509       *cert,
           DsCertRole  role,
           DsVerdict  *verdict)
{
  EVP_PKEY *key = X509_get0_pubkey (cert);
  char group[64] = "";
  const ASN1_BIT_STRING *bits = X509_get0_pubkey_bitstr (cert);

  if (key == NULL || EVP_PKEY_get_base_id (key) != EVP_PKEY_EC)
    {
      ERR_clear_error ();
      ds_matter_add_for (verdict, role, "key.algorithm",
               _("The %s's public key is not an elliptic-curve key"), ds_cert_role_name (role));
      return;
    }
  if (!EVP_PKEY_get_group_name (key, group, sizeof group, NULL) ||
      (g_strcmp0 (group, "prime256v1") != 0 && g_strcmp0 (group, "P-256") != 0))
    {
      ds_matter_add_for (verdict, role, "key.curve",
               _("The %s's key is on curve %s; Matter allows only P-256 (prime256v1)"),
               ds_cert_role_name (role), group[0] != '\0' ? group : "?");
      return;
    }
  if (bits == NULL || ASN1_STRING_length (bits) != 65 || ASN1_STRING_get0_data (bits)[0] != 0x04)
    ds_matter_add_for (verdict, role, "key.encoding",
             _("The %s's public key is not a 65-byte uncompressed point"), ds_cert_role_name (role));
}

static void
check_serial (X509       *cert,
              DsCertRole  role,
              DsVerdict  *verdict)
{
  const ASN1_INTEGER *serial = X509_get0_serialNumber (cert);
  g_autoptr(BIGNUM) bn = serial != NULL ? ASN1_INTEGER_to_BN (serial, NULL) : NULL;

  if (bn == NULL || BN_is_negative (bn) || BN_is_zero (bn) || BN_num_bytes (bn) > 20)
    ds_matter_add_for (verdict, role, "serial",
             _("The %s's serial number must be a positive number of at most 20 bytes"), ds_cert_role_name (role));
}

static void
check_ids (X509       *cert,
           DsCertRole  role,
           DsVerdict  *verdict,
           DsMatterIds *ids)
{
  const char *problem = NULL;

  if (!ds_name_get_matter_ids (X509_get_subject_name (cert), ids, &problem))
    {
      if (g_str_has_suffix (problem, "duplicate"))
        ds_matter_add_for (verdict, role, problem, _("The %s's subject holds the %s twice"), ds_cert_role_name (role),
                 g_str_has_prefix (problem, "vid") ? _("vendor ID") : _("product ID"));
      else
        ds_matter_add_for (verdict, role, problem,
                 _("The %s's subject has a malformed %s: it must be exactly four upper-case hex digits"),
                 ds_cert_role_name (role), g_str_has_prefix (problem, "vid") ? _("vendor ID") : _("product ID"));
      return;
    }
  /* V6: PID 0 counts as no PID. */
  if (ids->has_pid && ids->pid == 0 && role != DS_CERT_ROLE_DAC)
    ids->has_pid = FALSE;
  switch (role)
    {
    case DS_CERT_ROLE_DAC:
      if (!ids->has_vid)
        ds_matter_add_for (verdict, role, "vid.missing", _("The DAC's subject has no vendor ID"));
      if (!ids->has_pid)
        ds_matter_add_for (verdict, role, "pid.missing", _("The DAC's subject has no product ID"));
      break;
    case DS_CERT_ROLE_PAI:
      if (!ids->has_vid)
        ds_matter_add_for (verdict, role, "vid.missing", _("The PAI's subject has no vendor ID"));
      break;
    case DS_CERT_ROLE_PAA:
      if (ids->has_pid)
        ds_matter_add_for (verdict, role, "pid.present", _("The PAA's subject has a product ID; a PAA must not have one"));
      break;
    default:
      g_assert_not_reached ();
    }
}

void
ds_matter_check_format_ids (X509        *cert,
                            gsize        der_len,
                            DsCertRole   role,
                            DsVerdict   *verdict,
                            DsMatterIds *ids)
{
  if (X509_get_version (cert) != X509_VERSION_3)
    ds_matter_add_for (verdict, role, "version", _("The %s is not an X.509 version 3 certificate"), ds_cert_role_name (role));
  check_serial (cert, role, verdict);
  if (X509_get_signature_nid (cert) != NID_ecdsa_with_SHA256)
    {
      char name[80] = "?";
      const X509_ALGOR *alg = NULL;
      const ASN1_OBJECT *oid = NULL;

      X509_get0_signature (NULL, &alg, cert);
      X509_ALGOR_get0 (&oid, NULL, NULL, alg);
      if (oid != NULL)
        OBJ_obj2txt (name, sizeof name, oid, 0);
      ds_matter_add_for (verdict, role, "signature-algorithm",
               _("The %s is signed with %s; Matter requires ecdsa-with-SHA256"), ds_cert_role_name (role), name);
    }
  /* OpenSSL marks a certificate whose extensions it cannot all decode (a
   * duplicate, a malformed value); the chain checks would not trust it. */
  if (X509_get_extension_flags (cert) & EXFLAG_INVALID)
    ds_matter_add_for (verdict, role, "extensions.invalid",
             _("The %s has an extension that appears twice or cannot be decoded"), ds_cert_role_name (role));
  if (X509_NAME_entry_count (X509_get_subject_name (cert)) == 0)
    ds_matter_add_for (verdict, role, "subject.empty", _("The %s has an empty subject"), ds_cert_role_name (role));
  check_key (cert, role, verdict);
  check_basic_constraints (cert, role, verdict);
  check_key_usage (cert, role, verdict);
  check_key_ids (cert, role, verdict);
  if (der_len > DS_MATTER_MAX_CERT_DER)
    ds_matter_add_for (verdict, role, "size",
             _("The %s is %zu bytes long; Matter devices hold at most %u bytes"),
             ds_cert_role_name (role), der_len, DS_MATTER_MAX_CERT_DER);
  check_ids (cert, role, verdict, ids);
}

void
ds_matter_check_format (X509       *cert,
                        gsize       der_len,
                        DsCertRole  role,
                        DsVerdict  *verdict)
{
  DsMatterIds ids;

  ds_matter_check_format_ids (cert, der_len, role, verdict, &ids);
}
