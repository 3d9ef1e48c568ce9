/* Benchmark: enrolments per second through the EST client (DsEstCa) with
 * its pooled, kept-alive connections, against an EST server.  Writes the
 * same CSRs as base64 files to DIR so that bench/run can send them with
 * curl, one process per request, as the baseline.
 *
 *   bench-ca URL CA_BUNDLE DIR N   prints "enrolments seconds" */
#include <glib/gstdio.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench-util.h"
#include "ds-crypto.h"
#include "ds-est-ca.h"

int
main (int    argc,
      char **argv)
{
  DsRemoteCaOptions options = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(DsEstCa) ca = NULL;
  g_autoptr(GPtrArray) csrs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  guint n;
  gint64 start;

  if (argc != 5)
    {
      g_printerr ("usage: bench-ca URL CA_BUNDLE DIR N\n");
      return 2;
    }
  n = (guint) atoi (argv[4]);
  options.ca_bundle = argv[2];
  ca = ds_est_ca_new (argv[1], &options, &error);
  if (ca == NULL || !ds_est_ca_load_ca_certs (ca, NULL, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  /* Twice as many keys: the first half for us, the second for curl, so
   * that no key is certified twice. */
  for (guint i = 0; i < 2 * n; i++)
    {
      g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
      GBytes *csr = bench_make_csr (key, "DAC");

      g_ptr_array_add (csrs, csr);
      if (i >= n)
        {
          g_autofree char *b64 = g_base64_encode (g_bytes_get_data (csr, NULL), g_bytes_get_size (csr));
          g_autofree char *path = g_strdup_printf ("%s/csr%04u.b64", argv[3], i - n);

          g_file_set_contents (path, b64, -1, NULL);
        }
    }

  start = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *uid = g_strdup_printf ("%024X", i);
      DsIssueRequest request = { csrs->pdata[i], uid, 0xFFF1, 0x8000 };
      g_autoptr(DsIssued) issued = ds_ca_issue (DS_CA (ca), &request, NULL, &error);

      if (issued == NULL)
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
    }
  printf ("%u %.6f\n", n, (g_get_monotonic_time () - start) / 1e6);
  return 0;
}
