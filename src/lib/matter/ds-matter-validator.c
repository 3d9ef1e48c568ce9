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
      g_autofree char *prefix = g_strdup_printf ("%s.", ds_cert_role_id (role));

      switch (e->error)
        {
        case X509_V_ERR_CERT_SIGNATURE_FAILURE:
        case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
          ds_matter_add_for (verdict, role, "signature",
                   _("The %s's signature does not verify with its issuer's key"), ds_cert_role_name (role));
          break;
        case X509_V_ERR_CERT_NOT_YET_VALID:
        case X509_V_ERR_CERT_HAS_EXPIRED:
          if (role == DS_CERT_ROLE_DAC)
            ds_matter_add_for (verdict, role, "validity.period", _("The DAC's validity period is empty"));
          else
            ds_matter_add_for (verdict, role, "validity.at-issuance",
                     _("The %s was not valid when the DAC was issued (%s)"), ds_cert_role_name (role),
                     e->error == X509_V_ERR_CERT_NOT_YET_VALID ? _("not yet valid") : _("already expired"));
          break;
        case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
          ds_matter_add_for (verdict, role, "extension.critical-unknown",
                   _("The %s has a critical extension the station does not know"), ds_cert_role_name (role));
          break;
        default:
          /* The Matter format rules already explain most of what strict
           * mode finds; report the rest as it comes. */
          if (!ds_verdict_has_rule_prefix (verdict, prefix) && !ds_verdict_has_rule_prefix (verdict, "chain."))
            ds_matter_add_for (verdict, role, "path", _("The %s fails path validation: %s"),
                     ds_cert_role_name (role), X509_verify_cert_error_string (e->error));
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
        ds_matter_add_for (verdict, role, "der", _("The %s is not DER-encoded, as Matter requires: %s"), ds_cert_role_name (role),
                 problem);
      else
        ds_matter_add_for (verdict, role, "parse", _("The %s is not a readable X.509 certificate"), ds_cert_role_name (role));
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
  g_autoptr(DsCd) cd = NULL;

  dac = parse_cert (request->dac, request->dac_cert, NULL, DS_CERT_ROLE_DAC, &dac_len, verdict);
  pai = parse_cert (request->pai, NULL, request->trust_store, DS_CERT_ROLE_PAI, &pai_len, verdict);

  /* C1, C2a: the format of the PAI, then of the DAC. */
  if (pai != NULL)
    ds_matter_check_format_ids (pai, pai_len, DS_CERT_ROLE_PAI, verdict, &verdict->pai_ids);
  if (dac != NULL)
    ds_matter_check_format_ids (dac, dac_len, DS_CERT_ROLE_DAC, verdict, &verdict->dac_ids);

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
      ds_matter_check_format_ids (paa, 0, DS_CERT_ROLE_PAA, paa_verdict, &verdict->paa_ids);
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
    cd = ds_cd_parse (request->cd, request->cd_signers, verdict);
  if (request->has_product && (cd == NULL || !cd->has_dac_origin))
    {
      if (d->has_vid && d->vid != request->product_vid)
        ds_verdict_add (verdict, "product.vid",
                        _("The DAC is for vendor %04X, but this product is vendor %04X"), d->vid, request->product_vid);
      if (d->has_pid && d->pid != request->product_pid)
        ds_verdict_add (verdict, "product.pid",
                        _("The DAC is for product %04X, but this product is %04X"), d->pid, request->product_pid);
    }
  if (cd != NULL)
    check_cd (request, verdict, cd, product_vid, product_pid, paa);

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
