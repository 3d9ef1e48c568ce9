/* Benchmark: the issuance pipeline of the built-in test CA on one core —
 * CSR check, DAC signing, the DAC check, and a durable record per DAC.
 * Prints DACs per second; bench/run compares it with baselines. */
#include <glib/gstdio.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench-util.h"
#include "ds-crypto.h"
#include "ds-matter-validator.h"
#include "ds-store.h"
#include "ds-test-ca.h"
#include "ds-util.h"

int
main (int    argc,
      char **argv)
{
  guint n = argc > 1 ? (guint) atoi (argv[1]) : 200;
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("ds-bench-XXXXXX", &error);
  g_autofree char *pki = g_build_filename (tmp, "pki", NULL);
  g_autofree char *db = g_build_filename (tmp, "records.sqlite3", NULL);
  g_autoptr(DsTestCa) ca = ds_test_ca_new (pki, &error);
  g_autoptr(DsStore) store = ds_store_open (db, &error);
  g_autoptr(GPtrArray) csrs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GBytes) paa_der = NULL;
  g_autoptr(X509) paa = NULL;
  gint64 start, elapsed;

  if (ca == NULL || store == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  paa_der = ds_ca_dup_paa (DS_CA (ca));
  paa = ds_cert_parse (paa_der, NULL);
  /* The boards' key generation is the boards' work, not the station's. */
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
      g_autofree char *cn = g_strdup_printf ("DAC %024X", i);

      g_ptr_array_add (csrs, bench_make_csr (key, cn));
    }

  start = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      GBytes *csr = g_ptr_array_index (csrs, i);
      g_autofree char *uid = g_strdup_printf ("%024X", i);
      g_autofree char *cn = g_strdup_printf ("DAC %s", uid);
      DsCsrSubject expected = { cn, 0xFFF1, 0x8000 };
      DsIssueRequest request = { csr, uid, 0xFFF1, 0x8000 };
      g_autoptr(X509_REQ) req = ds_csr_parse (csr, &error);
      g_autoptr(DsIssued) issued = NULL;
      g_autoptr(X509) dac = NULL;
      g_autoptr(X509) pai = NULL;
      g_autoptr(EVP_PKEY) key = NULL;
      DsCertRecord rec = { 0 };
      g_autofree char *serial = NULL, *fp = NULL, *kfp = NULL;

      if (req == NULL || !ds_csr_check (req, &expected, &error) ||
          (issued = ds_ca_issue (DS_CA (ca), &request, NULL, &error)) == NULL ||
          (dac = ds_cert_parse (issued->dac_der, &error)) == NULL ||
          (pai = ds_cert_parse (issued->pai_der, &error)) == NULL ||
          !ds_matter_verify_chain (dac, pai, paa, 0xFFF1, 0x8000, &error))
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
      key = X509_get_pubkey (dac);
      serial = ds_cert_serial_hex (dac);
      fp = ds_cert_fingerprint (dac);
      kfp = ds_pubkey_fingerprint (key);
      rec.board_uid = uid;
      rec.serial = serial;
      rec.fingerprint = fp;
      rec.pubkey_sha256 = kfp;
      rec.dac_der = issued->dac_der;
      rec.pai_der = issued->pai_der;
      if (!ds_store_add_certificate (store, &rec, &error))
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
    }
  elapsed = g_get_monotonic_time () - start;
  printf ("%u %.6f\n", n, elapsed / 1e6);

  g_clear_object (&store);
  g_clear_object (&ca);
  ds_util_remove_tree (tmp);
  return 0;
}
