/* Describing and checking a board's certificate chain for the details view. */
#include "config.h"

#include "ds-cert-info.h"

#include <glib/gi18n-lib.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ds-crypto.h"
#include "ds-error.h"
#include "ds-matter-validator.h"
#include "ds-util.h"

void
ds_cert_info_free (DsCertInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->role);
  g_free (info->subject);
  g_free (info->issuer);
  g_free (info->vid);
  g_free (info->pid);
  g_free (info->serial);
  g_free (info->fingerprint);
  g_free (info);
}

void
ds_chain_info_free (DsChainInfo *info)
{
  if (info == NULL)
    return;
  g_clear_pointer (&info->certs, g_ptr_array_unref);
  g_free (info->verdict);
  g_free (info);
}

static gint64
asn1_time_to_unix (const ASN1_TIME *t)
{
  struct tm tm = { 0 };
  g_autoptr(GDateTime) dt = NULL;

  if (t == NULL || ASN1_TIME_to_tm (t, &tm) != 1)
    return 0;
  dt = g_date_time_new_utc (tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return dt != NULL ? g_date_time_to_unix (dt) : 0;
}

static char *
name_to_string (const X509_NAME *name)
{
  g_autoptr(BIO) bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  long len;

  /* Most specific first, as RFC 2253, but without its escapes: for
   * people, not for parsers. */
  if (name == NULL ||
      X509_NAME_print_ex (bio, name, 0, XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_DN_REV | XN_FLAG_FN_SN |
                                        ASN1_STRFLGS_UTF8_CONVERT) < 0)
    return g_strdup ("");
  len = BIO_get_mem_data (bio, &data);
  /* Nothing escaped above: a CA's or a board's controls, C1 or invalid
   * UTF-8 are made visible here, as in ds_cert_subject(). */
  return len > 0 && data != NULL ? ds_util_sanitize_text (data, len, 1024) : g_strdup ("");
}

static DsCertInfo *
describe (X509       *cert,
          const char *role)
{
  DsCertInfo *info = g_new0 (DsCertInfo, 1);
  gboolean has_vid = FALSE, has_pid = FALSE;
  guint16 vid = 0, pid = 0;

  info->role = g_strdup (role);
  info->subject = name_to_string (X509_get_subject_name (cert));
  info->issuer = name_to_string (X509_get_issuer_name (cert));
  ds_cert_get_vid_pid (cert, &has_vid, &vid, &has_pid, &pid);
  info->vid = has_vid ? g_strdup_printf ("%04X", vid) : NULL;
  info->pid = has_pid ? g_strdup_printf ("%04X", pid) : NULL;
  info->serial = ds_cert_serial_hex (cert);
  info->not_before = asn1_time_to_unix (X509_get0_notBefore (cert));
  info->not_after = asn1_time_to_unix (X509_get0_notAfter (cert));
  info->fingerprint = ds_cert_fingerprint (cert);
  return info;
}

static X509 *
load_cert (const char  *path,
           const char  *role,
           GError     **error)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_autoptr(GBytes) bytes = NULL;
  X509 *cert;

  if (path == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_NOT_FOUND, _("No %s was issued to this board yet"), role);
      return NULL;
    }
  if (!ds_util_read_file (path, DS_UTIL_MAX_CERT_FILE, &contents, &len, error))
    return NULL;
  bytes = g_bytes_new_take (g_steal_pointer (&contents), len);
  cert = ds_cert_parse (bytes, error);
  if (cert == NULL)
    g_prefix_error (error, "%s %s: ", role, path);
  return cert;
}

DsChainInfo *
ds_chain_info_load (const char         *dac_path,
                    const char         *pai_path,
                    const DsJobOptions *options,
                    GError            **error)
{
  g_autoptr(DsChainInfo) info = g_new0 (DsChainInfo, 1);
  g_autoptr(X509) dac = NULL;
  g_autoptr(X509) pai = NULL;
  g_autoptr(GBytes) dac_der = NULL;
  g_autoptr(GBytes) pai_der = NULL;
  g_autoptr(DsTrustStore) store = NULL;
  g_autoptr(DsVerdict) verdict = NULL;
  g_autoptr(GError) check_error = NULL;
  const ASN1_OCTET_STRING *akid;
  X509 *paa = NULL;

  dac = load_cert (dac_path, "DAC", error);
  if (dac == NULL)
    return NULL;
  pai = load_cert (pai_path, "PAI", error);
  if (pai == NULL)
    return NULL;
  dac_der = ds_cert_to_der (dac);
  pai_der = ds_cert_to_der (pai);

  info->certs = g_ptr_array_new_with_free_func ((GDestroyNotify) ds_cert_info_free);
  g_ptr_array_add (info->certs, describe (dac, "DAC"));
  g_ptr_array_add (info->certs, describe (pai, "PAI"));

  verdict = ds_job_options_verify (options, dac_der, NULL, pai_der, NULL, &store, &check_error);
  akid = X509_get0_authority_key_id (pai);
  if (store != NULL && akid != NULL)
    paa = ds_trust_store_lookup (store, ASN1_STRING_get0_data (akid), ASN1_STRING_length (akid));
  if (paa != NULL)
    g_ptr_array_add (info->certs, describe (paa, "PAA"));

  if (verdict == NULL)
    {
      info->valid = FALSE;
      info->verdict = g_strdup_printf (_("Not checked: %s"), check_error->message);
    }
  else if (ds_verdict_is_valid (verdict))
    {
      info->valid = TRUE;
      info->verdict = g_strdup (_("Valid: the chain verifies to a trusted PAA and meets every Matter attestation rule for the station's product."));
    }
  else
    {
      g_autofree char *why = ds_verdict_to_string (verdict, "\n");

      info->valid = FALSE;
      info->verdict = g_strdup_printf (_("Invalid: it breaks these Matter rules:\n%s"), why);
    }
  info->test = verdict != NULL && verdict->test_material;
  return g_steal_pointer (&info);
}
