/* The Matter attestation validator.  Rule numbers (F, V, C, S) refer to
 * ../shared/matter-vectors/RULES.md; docs/validator.md lists the rule
 * identifiers this file reports. */
#include "config.h"

#include "ds-matter-validator.h"

#include <glib/gi18n-lib.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <time.h>

#include "ds-error.h"
#include "ds-util.h"

/* ---- verdicts --------------------------------------------------------- */

static void
violation_free (DsViolation *v)
{
  g_free (v->rule);
  g_free (v->message);
  g_free (v);
}

DsVerdict *
ds_verdict_new (void)
{
  DsVerdict *verdict = g_new0 (DsVerdict, 1);

  verdict->violations = g_ptr_array_new_with_free_func ((GDestroyNotify) violation_free);
  verdict->notes = g_ptr_array_new_with_free_func (g_free);
  return verdict;
}

void
ds_verdict_free (DsVerdict *verdict)
{
  if (verdict == NULL)
    return;
  g_ptr_array_unref (verdict->violations);
  g_ptr_array_unref (verdict->notes);
  g_free (verdict->paa_subject);
  ds_cd_free (verdict->cd);
  g_free (verdict);
}

gboolean
ds_verdict_is_valid (const DsVerdict *verdict)
{
  return verdict->violations->len == 0;
}

gboolean
ds_verdict_has_rule (const DsVerdict *verdict,
                     const char      *rule)
{
  for (guint i = 0; i < verdict->violations->len; i++)
    if (g_strcmp0 (((DsViolation *) verdict->violations->pdata[i])->rule, rule) == 0)
      return TRUE;
  return FALSE;
}

/* TRUE when some violation's rule starts with @prefix. */
static gboolean
has_rule_prefix (const DsVerdict *verdict,
                 const char      *prefix)
{
  for (guint i = 0; i < verdict->violations->len; i++)
    if (g_str_has_prefix (((DsViolation *) verdict->violations->pdata[i])->rule, prefix))
      return TRUE;
  return FALSE;
}

void
ds_verdict_add (DsVerdict  *verdict,
                const char *rule,
                const char *message,
                ...)
{
  DsViolation *v;
  va_list args;

  if (ds_verdict_has_rule (verdict, rule))
    return;
  v = g_new0 (DsViolation, 1);
  v->rule = g_strdup (rule);
  va_start (args, message);
  v->message = g_strdup_vprintf (message, args);
  va_end (args);
  g_ptr_array_add (verdict->violations, v);
}

char *
ds_verdict_to_string (const DsVerdict *verdict,
                      const char      *separator)
{
  g_autoptr(GString) s = g_string_new (NULL);

  for (guint i = 0; i < verdict->violations->len; i++)
    {
      DsViolation *v = verdict->violations->pdata[i];

      if (i > 0)
        g_string_append (s, separator);
      g_string_append_printf (s, "%s: %s", v->rule, v->message);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* ---- helpers ---------------------------------------------------------- */

static const char *
role_id (DsCertRole role)
{
  switch (role)
    {
    case DS_CERT_ROLE_DAC: return "dac";
    case DS_CERT_ROLE_PAI: return "pai";
    case DS_CERT_ROLE_PAA: return "paa";
    default: g_assert_not_reached ();
    }
}

static const char *
role_name (DsCertRole role)
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

/* Adds "<role>.<suffix>". */
G_GNUC_PRINTF (4, 5) static void
add_for (DsVerdict  *verdict,
         DsCertRole  role,
         const char *suffix,
         const char *message,
         ...)
{
  g_autofree char *rule = g_strdup_printf ("%s.%s", role_id (role), suffix);
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
        add_for (verdict, role, missing, _("The %s has no %s extension"), role_name (role), what);
      return NULL;
    }
  if (n > 1)
    {
      add_for (verdict, role, dup, _("The %s has more than one %s extension"), role_name (role), what);
      return NULL;
    }
  if (critical_required && !critical)
    add_for (verdict, role, crit, _("The %s's %s extension must be marked critical"), role_name (role), what);
  else if (!critical_required && critical)
    add_for (verdict, role, crit, _("The %s's %s extension must not be marked critical"), role_name (role), what);
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
      add_for (verdict, role, "basic-constraints.malformed",
               _("The %s's basic constraints cannot be decoded"), role_name (role));
      return;
    }
  if (bc->pathlen != NULL)
    pathlen = ASN1_INTEGER_get (bc->pathlen);
  switch (role)
    {
    case DS_CERT_ROLE_DAC:
      if (bc->ca)
        add_for (verdict, role, "basic-constraints.ca",
                 _("The DAC claims to be a certificate authority (CA:TRUE); a DAC must be an end entity"));
      if (bc->pathlen != NULL)
        add_for (verdict, role, "basic-constraints.path-length",
                 _("The DAC has a path length constraint; a DAC must have none"));
      break;
    case DS_CERT_ROLE_PAI:
      if (!bc->ca)
        add_for (verdict, role, "basic-constraints.ca",
                 _("The PAI is not marked as a certificate authority (CA:TRUE)"));
      if (pathlen != 0)
        add_for (verdict, role, "basic-constraints.path-length",
                 _("The PAI's path length must be present and 0, so that it can sign only DACs"));
      break;
    case DS_CERT_ROLE_PAA:
      if (!bc->ca)
        add_for (verdict, role, "basic-constraints.ca",
                 _("The PAA is not marked as a certificate authority (CA:TRUE)"));
      if (bc->pathlen != NULL && pathlen != 1)
        add_for (verdict, role, "basic-constraints.path-length",
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
      add_for (verdict, role, "key-usage.malformed", _("The %s's key usage cannot be decoded"), role_name (role));
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
        add_for (verdict, role, "key-usage.digital-signature",
                 _("The DAC's key usage lacks digitalSignature, which attestation needs"));
      if (cert_sign)
        add_for (verdict, role, "key-usage.cert-sign",
                 _("The DAC's key usage allows signing certificates (keyCertSign); a DAC may only sign attestations"));
      if (crl_sign)
        add_for (verdict, role, "key-usage.crl-sign",
                 _("The DAC's key usage allows signing revocation lists (cRLSign); a DAC may only sign attestations"));
      if (other)
        add_for (verdict, role, "key-usage.other",
                 _("The DAC's key usage has bits besides digitalSignature"));
    }
  else
    {
      if (!cert_sign)
        add_for (verdict, role, "key-usage.cert-sign",
                 _("The %s's key usage lacks keyCertSign"), role_name (role));
      if (!crl_sign)
        add_for (verdict, role, "key-usage.crl-sign",
                 _("The %s's key usage lacks cRLSign"), role_name (role));
      if (other)
        add_for (verdict, role, "key-usage.other",
                 _("The %s's key usage has bits besides keyCertSign, cRLSign and digitalSignature"),
                 role_name (role));
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
        add_for (verdict, role, "skid.length",
                 _("The %s's subject key identifier is not 20 bytes long"), role_name (role));
      ASN1_OCTET_STRING_free (skid);
      ERR_clear_error ();
    }

  ext = check_ext_presence (cert, role, verdict, NID_authority_key_identifier,
                            "akid", _("authority key identifier"), role != DS_CERT_ROLE_PAA, FALSE);
  if (ext != NULL)
    {
      AUTHORITY_KEYID *akid = X509V3_EXT_d2i (ext);

      if (akid == NULL || akid->keyid == NULL || ASN1_STRING_length (akid->keyid) != 20)
        add_for (verdict, role, "akid.length",
                 _("The %s's authority key identifier does not hold a 20-byte key ID"), role_name (role));
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
      add_for (verdict, role, "key.algorithm",
               _("The %s's public key is not an elliptic-curve key"), role_name (role));
      return;
    }
  if (!EVP_PKEY_get_group_name (key, group, sizeof group, NULL) ||
      (g_strcmp0 (group, "prime256v1") != 0 && g_strcmp0 (group, "P-256") != 0))
    {
      add_for (verdict, role, "key.curve",
               _("The %s's key is on curve %s; Matter allows only P-256 (prime256v1)"),
               role_name (role), group[0] != '\0' ? group : "?");
      return;
    }
  if (bits == NULL || ASN1_STRING_length (bits) != 65 || ASN1_STRING_get0_data (bits)[0] != 0x04)
    add_for (verdict, role, "key.encoding",
             _("The %s's public key is not a 65-byte uncompressed point"), role_name (role));
}

static void
check_serial (X509       *cert,
              DsCertRole  role,
              DsVerdict  *verdict)
{
  const ASN1_INTEGER *serial = X509_get0_serialNumber (cert);
  g_autoptr(BIGNUM) bn = serial != NULL ? ASN1_INTEGER_to_BN (serial, NULL) : NULL;

  if (bn == NULL || BN_is_negative (bn) || BN_is_zero (bn) || BN_num_bytes (bn) > 20)
    add_for (verdict, role, "serial",
             _("The %s's serial number must be a positive number of at most 20 bytes"), role_name (role));
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
        add_for (verdict, role, problem, _("The %s's subject holds the %s twice"), role_name (role),
                 g_str_has_prefix (problem, "vid") ? _("vendor ID") : _("product ID"));
      else
        add_for (verdict, role, problem,
                 _("The %s's subject has a malformed %s: it must be exactly four upper-case hex digits"),
                 role_name (role), g_str_has_prefix (problem, "vid") ? _("vendor ID") : _("product ID"));
      return;
    }
  /* V6: PID 0 counts as no PID. */
  if (ids->has_pid && ids->pid == 0 && role != DS_CERT_ROLE_DAC)
    ids->has_pid = FALSE;
  switch (role)
    {
    case DS_CERT_ROLE_DAC:
      if (!ids->has_vid)
        add_for (verdict, role, "vid.missing", _("The DAC's subject has no vendor ID"));
      if (!ids->has_pid)
        add_for (verdict, role, "pid.missing", _("The DAC's subject has no product ID"));
      break;
    case DS_CERT_ROLE_PAI:
      if (!ids->has_vid)
        add_for (verdict, role, "vid.missing", _("The PAI's subject has no vendor ID"));
      break;
    case DS_CERT_ROLE_PAA:
      if (ids->has_pid)
        add_for (verdict, role, "pid.present", _("The PAA's subject has a product ID; a PAA must not have one"));
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
check_format (X509        *cert,
              gsize        der_len,
              DsCertRole   role,
              DsVerdict   *verdict,
              DsMatterIds *ids)
{
  if (X509_get_version (cert) != X509_VERSION_3)
    add_for (verdict, role, "version", _("The %s is not an X.509 version 3 certificate"), role_name (role));
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
      add_for (verdict, role, "signature-algorithm",
               _("The %s is signed with %s; Matter requires ecdsa-with-SHA256"), role_name (role), name);
    }
  /* OpenSSL marks a certificate whose extensions it cannot all decode (a
   * duplicate, a malformed value); the chain checks would not trust it. */
  if (X509_get_extension_flags (cert) & EXFLAG_INVALID)
    add_for (verdict, role, "extensions.invalid",
             _("The %s has an extension that appears twice or cannot be decoded"), role_name (role));
  if (X509_NAME_entry_count (X509_get_subject_name (cert)) == 0)
    add_for (verdict, role, "subject.empty", _("The %s has an empty subject"), role_name (role));
  check_key (cert, role, verdict);
  check_basic_constraints (cert, role, verdict);
  check_key_usage (cert, role, verdict);
  check_key_ids (cert, role, verdict);
  if (der_len > DS_MATTER_MAX_CERT_DER)
    add_for (verdict, role, "size",
             _("The %s is %zu bytes long; Matter devices hold at most %u bytes"),
             role_name (role), der_len, DS_MATTER_MAX_CERT_DER);
  check_ids (cert, role, verdict, ids);
}

void
ds_matter_check_format (X509       *cert,
                        gsize       der_len,
                        DsCertRole  role,
                        DsVerdict  *verdict)
{
  DsMatterIds ids;

  check_format (cert, der_len, role, verdict, &ids);
}

/* ---- the chain -------------------------------------------------------- */

static gboolean
get_time (const ASN1_TIME *t,
          gint64          *out)
{
  struct tm tm;

  if (t == NULL || ASN1_TIME_to_tm (t, &tm) != 1)
    return FALSE;
  *out = (gint64) timegm (&tm);
  return TRUE;
}

/* One error OpenSSL's path validation found. */
typedef struct {
  int depth;
  int error;
} PathError;

static int
collect_errors (int             ok,
                X509_STORE_CTX *ctx)
{
  GArray *errors = X509_STORE_CTX_get_app_data (ctx);

  if (!ok)
    {
      PathError e = { X509_STORE_CTX_get_error_depth (ctx), X509_STORE_CTX_get_error (ctx) };
      g_array_append_val (errors, e);
    }
  /* Go on: every problem is reported, not only the first. */
  return 1;
}

/* C8: X509_verify_cert with the PAA as the only anchor, strict, at the time
 * the DAC was issued. */
static void
check_path (X509         *dac,
            X509         *pai,
            X509         *paa,
            DsTrustStore *trust_store,
            DsVerdict    *verdict)
{
  g_autoptr(X509_STORE) store = ds_trust_store_dup_anchor (trust_store, paa);
  g_autoptr(X509_STORE_CTX) ctx = X509_STORE_CTX_new ();
  g_autoptr(GArray) errors = g_array_new (FALSE, FALSE, sizeof (PathError));
  STACK_OF (X509) *untrusted = sk_X509_new_null ();
  X509_VERIFY_PARAM *param;
  gint64 issued;

  sk_X509_push (untrusted, pai);
  if (store == NULL || ctx == NULL || X509_STORE_CTX_init (ctx, store, dac, untrusted) != 1)
    {
      sk_X509_free (untrusted);
      ERR_clear_error ();
      ds_verdict_add (verdict, "chain.path", _("The certificate chain cannot be checked (out of memory)"));
      return;
    }
  param = X509_STORE_CTX_get0_param (ctx);
  X509_VERIFY_PARAM_set_flags (param, X509_V_FLAG_X509_STRICT);
  if (get_time (X509_get0_notBefore (dac), &issued))
    X509_VERIFY_PARAM_set_time (param, (time_t) issued);
  X509_STORE_CTX_set_app_data (ctx, errors);
  X509_STORE_CTX_set_verify_cb (ctx, collect_errors);
  X509_verify_cert (ctx);
  ERR_clear_error ();
  sk_X509_free (untrusted);

  for (guint i = 0; i < errors->len; i++)
    {
      PathError *e = &g_array_index (errors, PathError, i);
      DsCertRole role = e->depth <= 0 ? DS_CERT_ROLE_DAC : e->depth == 1 ? DS_CERT_ROLE_PAI : DS_CERT_ROLE_PAA;
      g_autofree char *prefix = g_strdup_printf ("%s.", role_id (role));

      switch (e->error)
        {
        case X509_V_ERR_CERT_SIGNATURE_FAILURE:
        case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
          add_for (verdict, role, "signature",
                   _("The %s's signature does not verify with its issuer's key"), role_name (role));
          break;
        case X509_V_ERR_CERT_NOT_YET_VALID:
        case X509_V_ERR_CERT_HAS_EXPIRED:
          if (role == DS_CERT_ROLE_DAC)
            add_for (verdict, role, "validity.period", _("The DAC's validity period is empty"));
          else
            add_for (verdict, role, "validity.at-issuance",
                     _("The %s was not valid when the DAC was issued (%s)"), role_name (role),
                     e->error == X509_V_ERR_CERT_NOT_YET_VALID ? _("not yet valid") : _("already expired"));
          break;
        case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
          add_for (verdict, role, "extension.critical-unknown",
                   _("The %s has a critical extension the station does not know"), role_name (role));
          break;
        default:
          /* The Matter format rules already explain most of what strict
           * mode finds; report the rest as it comes. */
          if (!has_rule_prefix (verdict, prefix) && !has_rule_prefix (verdict, "chain."))
            add_for (verdict, role, "path", _("The %s fails path validation: %s"),
                     role_name (role), X509_verify_cert_error_string (e->error));
          break;
        }
    }
}

static gboolean
octets_equal (const ASN1_OCTET_STRING *a,
              const ASN1_OCTET_STRING *b)
{
  return a != NULL && b != NULL && ASN1_STRING_cmp (a, b) == 0;
}

/* Parses DER or PEM, or takes @parsed, or (when @cache is not NULL)
 * takes what @cache parsed before; @der_len gets the DER size. */
static X509 *
parse_cert (GBytes       *bytes,
            X509         *parsed,
            DsTrustStore *cache,
            DsCertRole    role,
            gsize        *der_len,
            DsVerdict    *verdict)
{
  g_autoptr(GError) error = NULL;
  X509 *cert = NULL;
  int n;

  if (parsed != NULL && X509_up_ref (parsed) == 1)
    cert = parsed;
  else if (bytes != NULL && cache != NULL)
    cert = ds_trust_store_parse_cached (cache, bytes, &error);
  else if (bytes != NULL)
    cert = ds_cert_parse (bytes, &error);

  if (cert == NULL)
    {
      const char *problem = bytes != NULL ? ds_cert_der_problem (bytes) : NULL;

      if (problem != NULL)
        add_for (verdict, role, "der", _("The %s is not DER-encoded, as Matter requires: %s"), role_name (role),
                 problem);
      else
        add_for (verdict, role, "parse", _("The %s is not a readable X.509 certificate"), role_name (role));
      return NULL;
    }
  n = i2d_X509 (cert, NULL);
  *der_len = n > 0 ? (gsize) n : 0;
  return cert;
}

/* §5: the CD against the chain and the product. */
static void
check_cd (const DsVerifyRequest *request,
          DsVerdict             *verdict,
          const DsCd            *cd,
          guint16                product_vid,
          guint16                product_pid,
          X509                  *paa)
{
  const DsMatterIds *dac = &verdict->dac_ids;
  const DsMatterIds *pai = &verdict->pai_ids;

  if (cd->signed_by_test_key && cd->certification_type == DS_CD_TYPE_OFFICIAL)
    ds_verdict_add (verdict, "cd.signer.test-key-official",
                    _("The Certification Declaration claims official certification but is signed with the test key"));

  if (cd->vendor_id != product_vid)
    ds_verdict_add (verdict, "cd.vendor-id",
                    _("The Certification Declaration is for vendor %04X, but the product is vendor %04X"),
                    cd->vendor_id, product_vid);
  if (cd->product_ids->len > 0 && !ds_cd_has_product (cd, product_pid))
    ds_verdict_add (verdict, "cd.product-id",
                    _("The Certification Declaration does not list the product's ID %04X"), product_pid);

  if (cd->has_dac_origin)
    {
      if ((dac->has_vid && dac->vid != cd->dac_origin_vid) || (pai->has_vid && pai->vid != cd->dac_origin_vid))
        ds_verdict_add (verdict, "cd.dac-origin.vid",
                        _("The DAC and PAI vendor IDs must equal the Certification Declaration's DAC origin vendor %04X"),
                        cd->dac_origin_vid);
      if ((dac->has_pid && dac->pid != cd->dac_origin_pid) || (pai->has_pid && pai->pid != cd->dac_origin_pid))
        ds_verdict_add (verdict, "cd.dac-origin.pid",
                        _("The DAC and PAI product IDs must equal the Certification Declaration's DAC origin product %04X"),
                        cd->dac_origin_pid);
    }
  else
    {
      if ((dac->has_vid && dac->vid != cd->vendor_id) || (pai->has_vid && pai->vid != cd->vendor_id))
        ds_verdict_add (verdict, "cd.dac-vid",
                        _("The DAC's vendor ID is not the Certification Declaration's vendor %04X"), cd->vendor_id);
      if (cd->product_ids->len > 0 &&
          ((dac->has_pid && !ds_cd_has_product (cd, dac->pid)) || (pai->has_pid && !ds_cd_has_product (cd, pai->pid))) &&
          !ds_verdict_has_rule (verdict, "product.pid"))
        ds_verdict_add (verdict, "cd.dac-pid",
                        _("The DAC's product ID is not listed in the Certification Declaration"));
    }

  if (cd->authorized_paas != NULL && paa != NULL)
    {
      const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id (paa);
      gboolean listed = FALSE;

      for (guint i = 0; skid != NULL && i < cd->authorized_paas->len; i++)
        {
          gsize n = 0;
          const guint8 *kid = g_bytes_get_data (cd->authorized_paas->pdata[i], &n);

          if (n == (gsize) ASN1_STRING_length (skid) && memcmp (kid, ASN1_STRING_get0_data (skid), n) == 0)
            listed = TRUE;
        }
      if (!listed)
        ds_verdict_add (verdict, "cd.paa-not-authorized",
                        _("The Certification Declaration does not authorize the PAA this DAC chains to"));
    }

  if (cd->signed_by_test_key)
    {
      verdict->test_material = TRUE;
      g_ptr_array_add (verdict->notes, g_strdup (_("The Certification Declaration is signed with the Matter test key")));
      if (request->production)
        ds_verdict_add (verdict, "production.test-cd-key",
                        _("Production mode refuses a Certification Declaration signed with the test key"));
    }
}

DsVerdict *
ds_matter_verify (const DsVerifyRequest *request)
{
  g_autoptr(DsVerdict) verdict = ds_verdict_new ();
  g_autoptr(X509) dac = NULL;
  g_autoptr(X509) pai = NULL;
  X509 *paa = NULL;
  gsize dac_len = 0, pai_len = 0;
  gint64 now = request->now != 0 ? request->now : g_get_real_time () / G_USEC_PER_SEC;
  guint16 product_vid, product_pid;
  const DsMatterIds *d = &verdict->dac_ids;
  const DsMatterIds *p = &verdict->pai_ids;

  dac = parse_cert (request->dac, request->dac_cert, NULL, DS_CERT_ROLE_DAC, &dac_len, verdict);
  pai = parse_cert (request->pai, NULL, request->trust_store, DS_CERT_ROLE_PAI, &pai_len, verdict);

  /* C1, C2a: the format of the PAI, then of the DAC. */
  if (pai != NULL)
    check_format (pai, pai_len, DS_CERT_ROLE_PAI, verdict, &verdict->pai_ids);
  if (dac != NULL)
    check_format (dac, dac_len, DS_CERT_ROLE_DAC, verdict, &verdict->dac_ids);

  /* S1: the DAC certifies the board's own key. */
  if (dac != NULL && request->expected_key != NULL && !ds_pubkey_equal (X509_get0_pubkey (dac), request->expected_key))
    ds_verdict_add (verdict, "dac.key.not-the-boards",
                    _("The DAC certifies a different key than the one the board generated"));

  /* C2b-d: DAC and PAI agree. */
  if (d->has_vid && p->has_vid && d->vid != p->vid)
    ds_verdict_add (verdict, "chain.vid-mismatch",
                    _("The DAC is for vendor %04X but its PAI for vendor %04X"), d->vid, p->vid);
  if (d->has_pid && p->has_pid && d->pid != p->pid)
    ds_verdict_add (verdict, "chain.pid-mismatch",
                    _("The DAC is for product %04X but its PAI only for product %04X"), d->pid, p->pid);

  /* S4: the PAI is the DAC's issuer. */
  if (dac != NULL && pai != NULL)
    {
      const ASN1_OCTET_STRING *akid = X509_get0_authority_key_id (dac);
      const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id (pai);

      if (akid != NULL && skid != NULL && !octets_equal (akid, skid))
        ds_verdict_add (verdict, "chain.dac-issuer", _("The PAI given is not the one that issued the DAC"));
    }

  /* C4-C6: the PAA, chosen by the PAI's AKID. */
  if (pai != NULL && X509_get0_authority_key_id (pai) != NULL)
    {
      const ASN1_OCTET_STRING *akid = X509_get0_authority_key_id (pai);

      paa = request->trust_store != NULL
        ? ds_trust_store_lookup (request->trust_store, ASN1_STRING_get0_data (akid), ASN1_STRING_length (akid))
        : NULL;
      if (paa == NULL)
        ds_verdict_add (verdict, "chain.paa-not-found",
                        _("The PAI was issued by a PAA that is not in the trust store"));
    }
  if (paa != NULL)
    {
      g_autoptr(DsVerdict) paa_verdict = ds_verdict_new ();

      verdict->paa_found = TRUE;
      verdict->paa_subject = ds_cert_subject (paa);
      check_format (paa, 0, DS_CERT_ROLE_PAA, paa_verdict, &verdict->paa_ids);
      if (ds_verdict_has_rule (paa_verdict, "paa.pid.present"))
        ds_verdict_add (verdict, "paa.pid.present", _("The PAA's subject has a product ID; a PAA must not have one"));
      if (verdict->paa_ids.has_vid && p->has_vid && verdict->paa_ids.vid != p->vid)
        ds_verdict_add (verdict, "chain.paa-vid-mismatch",
                        _("The PAA is scoped to vendor %04X but the PAI is for vendor %04X"),
                        verdict->paa_ids.vid, p->vid);
    }

  /* C7: the DAC is valid now. */
  if (dac != NULL)
    {
      gint64 not_before = 0, not_after = 0;

      if (get_time (X509_get0_notBefore (dac), &not_before) && now < not_before)
        ds_verdict_add (verdict, "dac.validity.not-yet-valid", _("The DAC is not valid yet: check the station's clock"));
      if (get_time (X509_get0_notAfter (dac), &not_after) && now > not_after)
        ds_verdict_add (verdict, "dac.validity.expired", _("The DAC has expired"));
    }

  /* C8: signatures and constraints, at the time the DAC was issued. */
  if (dac != NULL && pai != NULL && paa != NULL && !ds_verdict_has_rule (verdict, "chain.dac-issuer"))
    check_path (dac, pai, paa, request->trust_store, verdict);

  /* S2 and §5: the product being built. */
  product_vid = request->has_product ? request->product_vid : d->vid;
  product_pid = request->has_product ? request->product_pid : d->pid;
  if (request->cd != NULL)
    verdict->cd = ds_cd_parse (request->cd, request->cd_signers, verdict);
  if (request->has_product && (verdict->cd == NULL || !verdict->cd->has_dac_origin))
    {
      if (d->has_vid && d->vid != request->product_vid)
        ds_verdict_add (verdict, "product.vid",
                        _("The DAC is for vendor %04X, but this product is vendor %04X"), d->vid, request->product_vid);
      if (d->has_pid && d->pid != request->product_pid)
        ds_verdict_add (verdict, "product.pid",
                        _("The DAC is for product %04X, but this product is %04X"), d->pid, request->product_pid);
    }
  if (verdict->cd != NULL)
    check_cd (request, verdict, verdict->cd, product_vid, product_pid, paa);

  /* Test material: said loudly, refused in production. */
  if ((d->has_vid && ds_matter_vid_is_test (d->vid)) || (p->has_vid && ds_matter_vid_is_test (p->vid)) ||
      (verdict->paa_ids.has_vid && ds_matter_vid_is_test (verdict->paa_ids.vid)))
    {
      verdict->test_material = TRUE;
      g_ptr_array_add (verdict->notes, g_strdup_printf (_("Test vendor ID (%04X-%04X): not for production devices"),
                                                        DS_VID_TEST_MIN, DS_VID_TEST_MAX));
      if (request->production)
        ds_verdict_add (verdict, "production.test-vid",
                        _("Production mode refuses the test vendor IDs %04X-%04X"), DS_VID_TEST_MIN, DS_VID_TEST_MAX);
    }
  if (paa != NULL && ds_matter_paa_is_test (paa))
    {
      verdict->test_material = TRUE;
      g_ptr_array_add (verdict->notes, g_strdup (_("The chain ends in a test PAA")));
      if (request->production)
        ds_verdict_add (verdict, "production.test-paa", _("Production mode refuses a test PAA"));
    }
  return g_steal_pointer (&verdict);
}

gboolean
ds_matter_verify_chain (X509     *dac,
                        X509     *pai,
                        X509     *paa,
                        guint16   vid,
                        guint16   pid,
                        GError  **error)
{
  g_autoptr(DsTrustStore) store = ds_trust_store_new ();
  g_autoptr(GBytes) dac_der = ds_cert_to_der (dac);
  g_autoptr(GBytes) pai_der = ds_cert_to_der (pai);
  g_autoptr(GBytes) paa_der = ds_cert_to_der (paa);
  g_autoptr(DsVerdict) verdict = NULL;
  g_autofree char *why = NULL;
  DsVerifyRequest request = { 0 };

  if (!ds_trust_store_add_der (store, paa_der, "PAA", error))
    return FALSE;
  request.dac = dac_der;
  request.pai = pai_der;
  request.trust_store = store;
  request.has_product = TRUE;
  request.product_vid = vid;
  request.product_pid = pid;
  verdict = ds_matter_verify (&request);
  if (ds_verdict_is_valid (verdict))
    return TRUE;
  why = ds_verdict_to_string (verdict, "; ");
  g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("The DAC breaks Matter rules: %s"), why);
  return FALSE;
}
