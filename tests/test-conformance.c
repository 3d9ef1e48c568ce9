/* The Matter commissioner conformance vectors (../shared/matter-vectors):
 * every case gets the verdict manifest.json gives.  Skipped with a message
 * when the vectors are not beside the checkout. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "ds-crypto.h"
#include "ds-matter-validator.h"
#include "ds-trust-store.h"

static const char *vectors;
static DsTrustStore *test_store;

typedef struct {
  char    *name;
  gboolean expect_valid;
  guint16  vid, pid;
} Row;

static GBytes *
read_bytes (const char *dir,
            const char *file)
{
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, NULL))
    return NULL;
  return g_bytes_new_take (g_steal_pointer (&contents), len);
}

static DsVerdict *
verify_row (const Row *row,
            gboolean   production)
{
  g_autofree char *dir = g_build_filename (vectors, "commissioner_dut", row->name, NULL);
  g_autoptr(GBytes) dac = read_bytes (dir, "dac-Cert.der");
  g_autoptr(GBytes) pai = read_bytes (dir, "pai-Cert.der");
  g_autoptr(GBytes) cd = read_bytes (dir, "cd.der");
  DsVerifyRequest request = { 0 };

  g_assert_nonnull (dac);
  g_assert_nonnull (pai);
  request.dac = dac;
  request.pai = pai;
  request.cd = cd;
  request.trust_store = test_store;
  request.has_product = TRUE;
  request.product_vid = row->vid;
  request.product_pid = row->pid;
  request.production = production;
  return ds_matter_verify (&request);
}

static void
test_row (gconstpointer data)
{
  const Row *row = data;
  g_autoptr(DsVerdict) verdict = verify_row (row, FALSE);
  g_autofree char *why = ds_verdict_to_string (verdict, "; ");

  g_test_message ("%s: %s", row->name, ds_verdict_is_valid (verdict) ? "valid" : why);
  g_assert_cmpint (ds_verdict_is_valid (verdict), ==, row->expect_valid);
  /* Every case is test material, and says so. */
  g_assert_true (verdict->test_material);
  if (!row->expect_valid)
    g_assert_cmpuint (verdict->violations->len, >, 0);
}

/* In production mode, even the valid cases are refused: test VIDs and the
 * test CD key. */
static void
test_production (gconstpointer data)
{
  const Row *row = data;
  g_autoptr(DsVerdict) verdict = verify_row (row, TRUE);

  g_assert_false (ds_verdict_is_valid (verdict));
  g_assert_true (ds_verdict_has_rule (verdict, "production.test-vid"));
  g_assert_true (ds_verdict_has_rule (verdict, "production.test-cd-key"));
  g_assert_true (ds_verdict_has_rule (verdict, "production.test-paa"));
}

/* The DCL's PAAs as distributed: a realistic trust store loads, and the
 * test PAAs in it are recognised. */
static void
test_dcl_store (void)
{
  g_autofree char *dir = g_build_filename (vectors, "paa-root-certs", NULL);
  g_autoptr(DsTrustStore) store = ds_trust_store_new ();
  g_autoptr(GError) error = NULL;
  GPtrArray *skipped;

  g_assert_true (ds_trust_store_add_path (store, dir, &error));
  g_assert_no_error (error);
  skipped = ds_trust_store_get_skipped (store);
  g_test_message ("%u PAAs loaded, %u skipped", ds_trust_store_get_count (store), skipped->len);
  for (guint i = 0; i < skipped->len; i++)
    g_test_message ("skipped: %s", (const char *) skipped->pdata[i]);
  g_assert_cmpuint (ds_trust_store_get_count (store), >=, 50);
  g_assert_true (ds_trust_store_has_test_paa (store));
}

static void
test_no_vectors (void)
{
  g_test_skip ("the Matter conformance vectors (../shared/matter-vectors) are not beside this checkout");
}

static void
row_free (Row *row)
{
  g_free (row->name);
  g_free (row);
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *manifest = NULL;
  g_autofree char *store_path = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) row_free);
  g_autoptr(GError) error = NULL;
  JsonArray *array;
  int status;

  g_test_init (&argc, &argv, NULL);
  vectors = g_getenv ("DS_MATTER_VECTORS");
  if (vectors != NULL)
    manifest = g_build_filename (vectors, "manifest.json", NULL);
  if (manifest == NULL || !g_file_test (manifest, G_FILE_TEST_EXISTS))
    {
      g_test_add_func ("/conformance/vectors-missing", test_no_vectors);
      return g_test_run ();
    }

  g_assert_true (json_parser_load_from_file (parser, manifest, &error));
  g_assert_no_error (error);
  store_path = g_build_filename (vectors, "test-paa-trust-store.pem", NULL);
  test_store = ds_trust_store_new ();
  g_assert_true (ds_trust_store_add_path (test_store, store_path, &error));
  g_assert_no_error (error);

  array = json_node_get_array (json_parser_get_root (parser));
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *o = json_array_get_object_element (array, i);
      Row *row = g_new0 (Row, 1);
      g_autofree char *path = NULL;

      row->name = g_strdup (json_object_get_string_member (o, "case"));
      row->expect_valid = json_object_get_boolean_member (o, "station_expect_valid");
      row->vid = (guint16) g_ascii_strtoull (json_object_get_string_member (o, "product_vid"), NULL, 16);
      row->pid = (guint16) g_ascii_strtoull (json_object_get_string_member (o, "product_pid"), NULL, 16);
      g_ptr_array_add (rows, row);
      path = g_strdup_printf ("/conformance/%s/%s", row->expect_valid ? "valid" : "invalid", row->name);
      g_test_add_data_func (path, row, test_row);
      if (row->expect_valid && g_str_has_prefix (row->name, "struct_cd_pid_array_count01_valid"))
        g_test_add_data_func ("/conformance/production-refuses-test-material", row, test_production);
    }
  g_test_add_func ("/conformance/dcl-trust-store", test_dcl_store);
  g_test_message ("%u conformance cases", rows->len);
  status = g_test_run ();
  g_clear_object (&test_store);
  return status;
}
