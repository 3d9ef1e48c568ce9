/* Benchmark: the issuance pipeline of the built-in test CA, as a job runs
 * it — CSR check, DAC signing, the Matter gate, and a durable record per
 * DAC — on @threads threads at once, as a line's boards do.
 * Usage: bench-issuance [N [THREADS]]; prints "N seconds cpu-seconds threads
 * parse-seconds" (the last: parsing the N CSRs once more, OpenSSL alone),
 * and bench/run compares it with baselines. */
#include <glib/gstdio.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "bench-util.h"
#include "ds-crypto.h"
#include "ds-job.h"
#include "ds-matter-validator.h"
#include "ds-store.h"
#include "ds-test-ca.h"
#include "ds-util.h"

typedef struct {
  DsJobOptions *options;
  GPtrArray    *csrs;
  gint          next;
  gint          failed;
} Bench;

/* One board's way from CSR to recorded DAC, through the calls the job's
 * CSR, forward and check steps make. */
static gboolean
issue_one (Bench   *b,
           guint    i,
           GError **error)
{
  GBytes *csr = g_ptr_array_index (b->csrs, i);
  g_autofree char *uid = g_strdup_printf ("%024X", i);
  g_autofree char *cn = g_strdup_printf ("DAC %s", uid);
  DsCsrSubject expected = { cn, 0xFFF1, 0x8000 };
  g_autoptr(X509_REQ) req = NULL;
  g_autoptr(EVP_PKEY) key = NULL;
  g_autoptr(DsIssued) issued = NULL;
  g_autoptr(X509) dac = NULL;
  g_autoptr(DsVerdict) verdict = NULL;
  g_autoptr(DsCertRecord) rec = g_new0 (DsCertRecord, 1);

  req = ds_csr_parse (csr, error);
  if (req == NULL || !ds_csr_check (req, &expected, error))
    return FALSE;
  key = ds_csr_get_pubkey (req);
  {
    DsIssueRequest request = { csr, uid, 0xFFF1, 0x8000, req };

    issued = ds_ca_issue (b->options->ca, &request, NULL, error);
  }
  if (issued == NULL || (dac = ds_cert_parse (issued->dac_der, error)) == NULL)
    return FALSE;
  verdict = ds_job_options_verify (b->options, issued->dac_der, dac, issued->pai_der, key, NULL, error);
  if (verdict == NULL)
    return FALSE;
  if (!ds_verdict_is_valid (verdict))
    {
      g_autofree char *why = ds_verdict_to_string (verdict, "; ");
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", why);
      return FALSE;
    }
  rec->board_uid = g_strdup (uid);
  rec->serial = ds_cert_serial_hex (dac);
  rec->fingerprint = ds_cert_fingerprint (dac);
  rec->pubkey_sha256 = ds_spki_fingerprint (X509_get_X509_PUBKEY (dac));
  rec->subject = ds_cert_subject (dac);
  rec->dac_der = g_bytes_ref (issued->dac_der);
  rec->pai_der = g_bytes_ref (issued->pai_der);
  return ds_store_add_certificate (b->options->store, rec, error);
}

static gpointer
worker (gpointer data)
{
  Bench *b = data;
  guint i;

  while ((i = (guint) g_atomic_int_add (&b->next, 1)) < b->csrs->len)
    {
      g_autoptr(GError) error = NULL;

      if (!issue_one (b, i, &error))
        {
          g_printerr ("DAC %u: %s\n", i, error->message);
          g_atomic_int_set (&b->failed, 1);
          break;
        }
    }
  return NULL;
}

static double
cpu_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int
main (int    argc,
      char **argv)
{
  guint n = argc > 1 ? (guint) atoi (argv[1]) : 200;
  guint n_threads = argc > 2 ? (guint) atoi (argv[2]) : 1;
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("ds-bench-XXXXXX", &error);
  g_autofree char *pki = g_build_filename (tmp, "pki", NULL);
  g_autofree char *db = g_build_filename (tmp, "records.sqlite3", NULL);
  g_autoptr(DsTestCa) ca = ds_test_ca_new (pki, &error);
  g_autoptr(DsStore) store = ds_store_open (db, &error);
  g_autoptr(GPtrArray) threads = g_ptr_array_new ();
  DsJobOptions options = { 0 };
  Bench b = { &options, g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref), 0, 0 };
  gint64 start, elapsed;
  double cpu;

  if (ca == NULL || store == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  options.store = store;
  options.ca = DS_CA (ca);
  options.vid = 0xFFF1;
  options.pid = 0x8000;
  /* The boards' key generation is the boards' work, not the station's. */
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
      g_autofree char *cn = g_strdup_printf ("DAC %024X", i);

      g_ptr_array_add (b.csrs, bench_make_csr (key, cn));
    }

  start = g_get_monotonic_time ();
  cpu = cpu_seconds ();
  for (guint t = 0; t < MAX (n_threads, 1); t++)
    g_ptr_array_add (threads, g_thread_new ("issue", worker, &b));
  for (guint t = 0; t < threads->len; t++)
    g_thread_join (threads->pdata[t]);
  elapsed = g_get_monotonic_time () - start;
  cpu = cpu_seconds () - cpu;
  if (b.failed)
    return 1;

  /* For scale: what OpenSSL alone takes to parse each CSR once. */
  start = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(X509_REQ) req = ds_csr_parse (g_ptr_array_index (b.csrs, i), NULL);

      if (req == NULL)
        return 1;
    }
  printf ("%u %.6f %.6f %u %.6f\n", n, elapsed / 1e6, cpu, threads->len,
          (g_get_monotonic_time () - start) / 1e6);

  g_ptr_array_unref (b.csrs);
  g_clear_object (&store);
  g_clear_object (&ca);
  ds_util_remove_tree (tmp);
  return 0;
}
