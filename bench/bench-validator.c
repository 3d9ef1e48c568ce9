/* Benchmark: the Matter attestation validator.  Issues N DACs with the test
 * CA, writes the chain files to DIR (for the openssl baseline in bench/run),
 * then validates every chain R times with ds_matter_verify() on one thread.
 * Prints "chains seconds". */
#include <glib/gstdio.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench-util.h"
#include "ds-crypto.h"
#include "ds-matter-validator.h"
#include "ds-test-ca.h"
#include "ds-trust-store.h"

static void
write_pem (const char *dir,
           const char *name,
           GBytes     *der)
{
  g_autoptr(X509) cert = ds_cert_parse (der, NULL);
  g_autofree char *pem = ds_cert_to_pem (cert);
  g_autofree char *path = g_build_filename (dir, name, NULL);

  g_file_set_contents (path, pem, -1, NULL);
}

int
main (int    argc,
      char **argv)
{
  const char *dir;
  guint n, rounds;
  g_autoptr(GError) error = NULL;
  g_autofree char *pki = NULL;
  g_autoptr(DsTestCa) ca = NULL;
  g_autoptr(DsTrustStore) store = ds_trust_store_new ();
  g_autoptr(GPtrArray) dacs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GBytes) pai = NULL;
  g_autoptr(GBytes) paa = NULL;
  gint64 start;

  if (argc != 4)
    {
      g_printerr ("usage: bench-validator DIR N ROUNDS\n");
      return 2;
    }
  dir = argv[1];
  n = (guint) atoi (argv[2]);
  rounds = (guint) atoi (argv[3]);
  pki = g_build_filename (dir, "pki", NULL);
  ca = ds_test_ca_new (pki, &error);
  if (ca == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  paa = ds_ca_dup_paa (DS_CA (ca));
  if (!ds_trust_store_add_der (store, paa, "paa", &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  write_pem (dir, "paa.pem", paa);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
      g_autoptr(GBytes) csr = bench_make_csr (key, "DAC");
      g_autofree char *uid = g_strdup_printf ("%024X", i);
      DsIssueRequest request = { csr, uid, 0xFFF1, 0x8000 };
      g_autoptr(DsIssued) issued = ds_ca_issue (DS_CA (ca), &request, NULL, &error);
      g_autofree char *name = g_strdup_printf ("dac%04u.pem", i);

      if (issued == NULL)
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
      if (pai == NULL)
        {
          pai = g_bytes_ref (issued->pai_der);
          write_pem (dir, "pai.pem", pai);
        }
      write_pem (dir, name, issued->dac_der);
      g_ptr_array_add (dacs, g_bytes_ref (issued->dac_der));
    }

  start = g_get_monotonic_time ();
  for (guint r = 0; r < rounds; r++)
    for (guint i = 0; i < n; i++)
      {
        DsVerifyRequest request = { 0 };
        g_autoptr(DsVerdict) verdict = NULL;

        request.dac = dacs->pdata[i];
        request.pai = pai;
        request.trust_store = store;
        request.has_product = TRUE;
        request.product_vid = 0xFFF1;
        request.product_pid = 0x8000;
        verdict = ds_matter_verify (&request);
        if (!ds_verdict_is_valid (verdict))
          {
            g_autofree char *why = ds_verdict_to_string (verdict, "; ");
            g_printerr ("%s\n", why);
            return 1;
          }
      }
  printf ("%u %.6f\n", n * rounds, (g_get_monotonic_time () - start) / 1e6);
  return 0;
}
