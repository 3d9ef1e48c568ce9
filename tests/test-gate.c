/* Integration tests of the Matter gate: the station checks every DAC with
 * the validator before INSTALL, installs the product's Certification
 * Declaration with it, and refuses test material in production mode.
 * dac-station-cli against the board simulator on real pseudo-terminals. */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "ds-cd.h"
#include "ds-crypto.h"
#include "ds-store.h"
#include "ds-test-util.h"

typedef struct {
  DsTestTree tree;  /* the temporary tree and its simulator */
  char *cd_path;
  char *signer_path;
  GBytes *cd;
} Fixture;

/* A CD-signing authority made here: a self-signed P-256 certificate with a
 * SKID, and a CD for vendor FFF1 listing @pid, signed by it. */
static void
make_cd (Fixture *f,
         guint16  pid)
{
  g_autoptr(EVP_PKEY) key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  g_autoptr(X509) cert = X509_new ();
  X509_NAME *name = X509_get_subject_name (cert);
  g_autoptr(DsCd) cd = ds_cd_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *pem = NULL;
  const ASN1_OCTET_STRING *skid;

  X509_set_version (cert, X509_VERSION_3);
  ASN1_INTEGER_set (X509_get_serialNumber (cert), 7);
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const unsigned char *) "Test CD Signer", -1, -1, 0);
  X509_set_issuer_name (cert, name);
  X509_gmtime_adj (X509_getm_notBefore (cert), -3600);
  X509_gmtime_adj (X509_getm_notAfter (cert), 3600 * 24 * 365);
  X509_set_pubkey (cert, key);
  g_assert_true (ds_cert_add_ext (cert, NULL, NID_subject_key_identifier, "hash"));
  g_assert_cmpint (X509_sign (cert, key, EVP_sha256 ()), >, 0);
  skid = X509_get0_subject_key_id (cert);
  g_assert_nonnull (skid);

  cd->format_version = 1;
  cd->vendor_id = 0xFFF1;
  g_array_append_val (cd->product_ids, pid);
  cd->device_type_id = 0x0100;
  cd->certificate_id = g_strdup ("ZIG20141ZB330001-24");
  cd->certification_type = DS_CD_TYPE_DEVELOPMENT;
  f->cd = ds_cd_encode (cd, key, ASN1_STRING_get0_data (skid), &error);
  g_assert_no_error (error);

  g_assert_true (g_file_set_contents (f->cd_path, g_bytes_get_data (f->cd, NULL), g_bytes_get_size (f->cd), NULL));
  pem = ds_cert_to_pem (cert);
  g_assert_true (g_file_set_contents (f->signer_path, pem, -1, NULL));
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  ds_test_tree_setup (&f->tree, data);
  f->cd_path = g_build_filename (f->tree.tmp, "cd.der", NULL);
  f->signer_path = g_build_filename (f->tree.tmp, "cd-signer.pem", NULL);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  ds_test_tree_teardown (&f->tree, data);
  g_free (f->cd_path);
  g_free (f->signer_path);
  g_clear_pointer (&f->cd, g_bytes_unref);
}

static GBytes *
board_file (Fixture    *f,
            const char *board,
            const char *file)
{
  g_autofree char *path = g_build_filename (f->tree.state_dir, board, file, NULL);
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, NULL))
    return NULL;
  return g_bytes_new_take (g_steal_pointer (&contents), len);
}

/* The product's CD passes the gate and is installed with every DAC. */
static void
test_cd_installed (Fixture       *f,
                   gconstpointer  data)
{
  const char *args[] = { "provision", "--all", "--json", "--data-dir", f->tree.data_dir,
                         "--cd", f->cd_path, "--cd-signer", f->signer_path, NULL };
  g_autoptr(DsCliResult) r = NULL;
  JsonObject *sum;

  make_cd (f, 0x8000);
  ds_test_tree_start_sim (&f->tree, 2, NULL);
  r = ds_test_run_cli (f->tree.announce_dir, args);
  g_assert_cmpint (r->exit_status, ==, 0);
  sum = ds_test_summary (r);
  g_assert_cmpint (json_object_get_int_member (sum, "passed"), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *board = g_strdup_printf ("sim-%u", i);
      g_autoptr(GBytes) cd = board_file (f, board, "cd.der");

      g_assert_nonnull (cd);
      g_assert_true (g_bytes_equal (cd, f->cd));
    }
}

/* A CD for another product: every board fails at the check with the rule
 * and its cause; nothing is installed; the DACs are recorded superseded. */
static void
test_cd_wrong_product (Fixture       *f,
                       gconstpointer  data)
{
  const char *args[] = { "provision", "--all", "--json", "--data-dir", f->tree.data_dir,
                         "--cd", f->cd_path, "--cd-signer", f->signer_path, NULL };
  g_autoptr(DsCliResult) r = NULL;
  g_autofree char *db = g_build_filename (f->tree.data_dir, "records.sqlite3", NULL);
  g_autoptr(DsStore) store = NULL;
  g_autoptr(GError) error = NULL;
  DsStoreCounts counts = { 0 };
  JsonObject *sum;

  make_cd (f, 0x8005);
  ds_test_tree_start_sim (&f->tree, 2, NULL);
  r = ds_test_run_cli (f->tree.announce_dir, args);
  g_assert_cmpint (r->exit_status, ==, 1);
  sum = ds_test_summary (r);
  g_assert_cmpint (json_object_get_int_member (sum, "failed"), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *board = g_strdup_printf ("sim-%u", i);
      JsonObject *o = ds_test_find_event (r->events, "fail", board);
      g_autoptr(GBytes) dac = board_file (f, board, "dac.der");
      g_autoptr(GBytes) cd = board_file (f, board, "cd.der");

      g_assert_nonnull (o);
      g_assert_cmpstr (json_object_get_string_member (o, "step"), ==, "check");
      g_assert_nonnull (strstr (json_object_get_string_member (o, "cause"), "cd.product-id"));
      g_assert_nonnull (strstr (json_object_get_string_member (o, "cause"), "8000"));
      g_assert_null (dac);
      g_assert_null (cd);
    }
  store = ds_store_open (db, &error);
  g_assert_no_error (error);
  ds_store_get_counts (store, &counts, &error);
  g_assert_no_error (error);
  g_assert_cmpint (counts.certificates, ==, 2);
  g_assert_cmpint (counts.failed, ==, 2);
}

/* With a CD the attest step checks each board's attestation response as a
 * commissioner does: a board whose answer was changed after signing fails
 * at attest with the cause, the others pass; a locked board's answer is
 * checked the same way when it comes back. */
static void
test_attestation_tampered (Fixture       *f,
                           gconstpointer  data)
{
  const char *args[] = { "provision", "--all", "--json", "--data-dir", f->tree.data_dir,
                         "--cd", f->cd_path, "--cd-signer", f->signer_path, NULL };
  const char *faults[] = { "1:tamper-attestation", NULL };
  const char *faults_locked[] = { "0:tamper-attestation", NULL };
  g_autoptr(DsCliResult) r = NULL;
  g_autoptr(DsCliResult) again = NULL;
  JsonObject *sum;
  JsonObject *o;

  make_cd (f, 0x8000);
  ds_test_tree_start_sim_with_faults (&f->tree, 2, 0, faults);
  r = ds_test_run_cli (f->tree.announce_dir, args);
  g_assert_cmpint (r->exit_status, ==, 1);
  sum = ds_test_summary (r);
  g_assert_cmpint (json_object_get_int_member (sum, "passed"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (sum, "failed"), ==, 1);
  g_assert_nonnull (ds_test_find_event (r->events, "pass", "sim-0"));
  o = ds_test_find_event (r->events, "fail", "sim-1");
  g_assert_nonnull (o);
  g_assert_cmpstr (json_object_get_string_member (o, "step"), ==, "attest");
  g_assert_nonnull (strstr (json_object_get_string_member (o, "cause"), "commissioner's check"));
  g_assert_nonnull (strstr (json_object_get_string_member (o, "cause"), "signature"));

  /* sim-0 is locked now; its attestation, tampered, fails it again. */
  ds_test_tree_stop_sim (&f->tree);
  ds_test_tree_start_sim_with_faults (&f->tree, 1, 0, faults_locked);
  again = ds_test_run_cli (f->tree.announce_dir, args);
  g_assert_cmpint (again->exit_status, ==, 1);
  o = ds_test_find_event (again->events, "fail", "sim-0");
  g_assert_nonnull (o);
  g_assert_cmpstr (json_object_get_string_member (o, "step"), ==, "attest");
  g_assert_nonnull (strstr (json_object_get_string_member (o, "cause"), "commissioner's check"));
}

/* A trust store that does not hold the CA's PAA fails every board at the
 * check; a test CA, or a missing trust store, is refused in production
 * mode before any board is touched. */
static void
test_trust_store_and_production (Fixture       *f,
                                 gconstpointer  data)
{
  const char *vectors = g_getenv ("DS_MATTER_VECTORS");
  g_autofree char *foreign = g_build_filename (f->tree.tmp, "foreign", NULL);
  const char *args[] = { "provision", "--all", "--json", "--data-dir", f->tree.data_dir,
                         "--trust-store", foreign, NULL };
  const char *production[] = { "provision", "--all", "--data-dir", f->tree.data_dir, "--production", NULL };
  g_autoptr(DsCliResult) r = NULL;
  g_autoptr(DsCliResult) p = NULL;

  ds_test_tree_start_sim (&f->tree, 2, NULL);

  /* Production mode with the test CA: refused, exit 2, no board touched. */
  p = ds_test_run_cli (f->tree.announce_dir, production);
  g_assert_cmpint (p->exit_status, ==, 2);
  g_assert_nonnull (strstr (p->err, "Production mode refuses the test CA"));
  g_assert_null (board_file (f, "sim-0", "dac.der"));

  /* Production mode with a remote CA but no client certificate or Basic
   * credentials: refused before the CA is contacted. */
  {
    const char *unauthenticated[] = { "provision", "--all", "--data-dir", f->tree.data_dir, "--production",
                                      "--ca", "est:https://127.0.0.1:9", "--trust-store", f->tree.tmp, NULL };
    g_autoptr(DsCliResult) u = ds_test_run_cli (f->tree.announce_dir, unauthenticated);

    g_assert_cmpint (u->exit_status, ==, 2);
    g_assert_nonnull (strstr (u->err, "authenticated connection to the CA"));
  }

  /* A trust store of other PAAs: the DCL's when the vectors are here, else
   * a directory holding only a foreign root made by the test CA of another
   * data directory. */
  if (vectors != NULL && g_file_test (vectors, G_FILE_TEST_IS_DIR))
    {
      g_free (foreign);
      foreign = g_build_filename (vectors, "paa-root-certs", NULL);
      args[6] = foreign;
    }
  else
    {
      g_autofree char *other = g_build_filename (f->tree.tmp, "other", NULL);
      const char *pki[] = { "pki", "--data-dir", other, NULL };
      g_autoptr(DsCliResult) k = ds_test_run_cli (f->tree.announce_dir, pki);
      g_autofree char *src = g_build_filename (other, "pki", "paa.pem", NULL);
      g_autofree char *dst = g_build_filename (foreign, "paa.pem", NULL);
      g_autofree char *pem = NULL;

      g_assert_cmpint (k->exit_status, ==, 0);
      g_assert_true (g_file_get_contents (src, &pem, NULL, NULL));
      g_assert_cmpint (g_mkdir_with_parents (foreign, 0700), ==, 0);
      g_assert_true (g_file_set_contents (dst, pem, -1, NULL));
    }
  r = ds_test_run_cli (f->tree.announce_dir, args);
  g_assert_cmpint (r->exit_status, ==, 1);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *board = g_strdup_printf ("sim-%u", i);
      JsonObject *o = ds_test_find_event (r->events, "fail", board);

      g_assert_nonnull (o);
      g_assert_cmpstr (json_object_get_string_member (o, "step"), ==, "check");
      g_assert_nonnull (strstr (json_object_get_string_member (o, "cause"), "chain.paa-not-found"));
      g_assert_null (board_file (f, board, "dac.der"));
    }
}

/* dac-station-cli verify on files: exit 0 valid, 1 with every violated
 * rule, 2 when an input cannot be read. */
static void
test_verify_command (Fixture       *f,
                     gconstpointer  data)
{
  const char *demo[] = { "demo", "--boards", "1", "--json", "--data-dir", f->tree.data_dir,
                         "--sim-state-dir", f->tree.state_dir, NULL };
  g_autoptr(DsCliResult) d = ds_test_run_cli (f->tree.announce_dir, demo);
  JsonObject *pass = ds_test_find_event (d->events, "pass", "sim-0");
  g_autofree char *paa = g_build_filename (f->tree.data_dir, "pki", "paa.pem", NULL);
  g_autofree char *garbage = g_build_filename (f->tree.tmp, "garbage.der", NULL);
  const char *dac, *pai;

  g_assert_nonnull (pass);
  dac = json_object_get_string_member (pass, "dac_file");
  pai = json_object_get_string_member (pass, "pai_file");
  g_assert_true (g_file_set_contents (garbage, "\x30\x03garbage", -1, NULL));

  {
    const char *args[] = { "verify", "--dac", dac, "--pai", pai, "--paa", paa, "--product", "FFF1:8000", NULL };
    g_autoptr(DsCliResult) r = ds_test_run_cli (f->tree.announce_dir, args);

    g_assert_cmpint (r->exit_status, ==, 0);
    g_assert_nonnull (strstr (r->out, "VALID"));
    g_assert_nonnull (strstr (r->err, "TEST MATERIAL"));
  }
  {
    /* Another product, in production mode, as JSON: every rule listed. */
    const char *args[] = { "verify", "--dac", dac, "--pai", pai, "--paa", paa, "--product", "FFF1:8001",
                           "--production", "--json", NULL };
    g_autoptr(DsCliResult) r = ds_test_run_cli (f->tree.announce_dir, args);
    JsonObject *o;
    JsonArray *violations;
    g_autoptr(GString) rules = g_string_new (NULL);

    g_assert_cmpint (r->exit_status, ==, 1);
    g_assert_cmpuint (r->events->len, ==, 1);
    o = g_ptr_array_index (r->events, 0);
    g_assert_false (json_object_get_boolean_member (o, "valid"));
    violations = json_object_get_array_member (o, "violations");
    for (guint i = 0; i < json_array_get_length (violations); i++)
      g_string_append_printf (rules, "%s ", json_object_get_string_member (json_array_get_object_element (violations, i), "rule"));
    g_assert_cmpstr (rules->str, ==, "product.pid production.test-vid production.test-paa ");
  }
  {
    const char *args[] = { "verify", "--dac", garbage, "--pai", pai, "--paa", paa, NULL };
    g_autoptr(DsCliResult) r = ds_test_run_cli (f->tree.announce_dir, args);

    g_assert_cmpint (r->exit_status, ==, 2);
    g_assert_nonnull (strstr (r->err, "Cannot read the DAC"));
  }
  {
    /* The PAI passed as the DAC: a CA is never a DAC. */
    const char *args[] = { "verify", "--dac", pai, "--pai", pai, "--paa", paa, NULL };
    g_autoptr(DsCliResult) r = ds_test_run_cli (f->tree.announce_dir, args);

    g_assert_cmpint (r->exit_status, ==, 1);
    g_assert_nonnull (strstr (r->out, "dac.basic-constraints.ca"));
    g_assert_nonnull (strstr (r->out, "dac.key-usage.cert-sign"));
  }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/gate/cd-installed", Fixture, NULL, fixture_setup, test_cd_installed, fixture_teardown);
  g_test_add ("/gate/cd-wrong-product", Fixture, NULL, fixture_setup, test_cd_wrong_product, fixture_teardown);
  g_test_add ("/gate/attestation-tampered", Fixture, NULL, fixture_setup, test_attestation_tampered, fixture_teardown);
  g_test_add ("/gate/verify-command", Fixture, NULL, fixture_setup, test_verify_command, fixture_teardown);
  g_test_add ("/gate/trust-store-and-production", Fixture, NULL, fixture_setup, test_trust_store_and_production, fixture_teardown);
  return g_test_run ();
}
