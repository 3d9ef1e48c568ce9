/* Install's onboarding data and factory data (docs/onboarding.md): a job
 * against boards served in this process writes, reads back and records
 * them; an independent reader (read-factory-data.py) checks the blob the
 * board's flash holds; bad settings, a blob too large for its region and
 * a board whose read-back differs fail the board at the right step with
 * nothing recorded as passed; and the CLI prints, labels and exports. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>

#include "ds-device.h"
#include "ds-error.h"
#include "ds-factory-data.h"
#include "ds-job.h"
#include "ds-onboarding.h"
#include "ds-pty-transport.h"
#include "ds-store-onboarding.h"
#include "ds-test-board.h"
#include "ds-test-util.h"

typedef struct {
  DsTestBoards  boards;
  DsJob        *job;
  GError       *error;
  gboolean      done;
} Fixture;

static void
setup (Fixture       *f,
       gconstpointer  data)
{
  const char *fault_spec = data;
  DsSimFault fault = { 0 };
  g_autoptr(GError) error = NULL;

  if (fault_spec != NULL)
    {
      g_assert_true (ds_sim_fault_parse (fault_spec, &fault, &error));
      g_assert_no_error (error);
    }
  ds_test_boards_setup (&f->boards, 2, fault_spec != NULL ? &fault : NULL);
  f->boards.options.onboarding = ds_onboarding_config_new ();
}

static void
teardown (Fixture       *f,
          gconstpointer  data)
{
  g_clear_object (&f->job);
  g_clear_error (&f->error);
  g_clear_pointer (&f->boards.options.onboarding, ds_onboarding_config_free);
  ds_test_boards_teardown (&f->boards);
}

static void
done_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Fixture *f = user_data;

  ds_job_run_finish (DS_JOB (object), result, &f->error);
  f->done = TRUE;
}

static void
run_job (Fixture *f,
         guint    board)
{
  g_clear_object (&f->job);
  g_clear_error (&f->error);
  f->done = FALSE;
  f->job = ds_job_new (g_ptr_array_index (f->boards.boards, board), &f->boards.options);
  ds_job_run_async (f->job, NULL, done_cb, f);
  while (!f->done)
    g_main_context_iteration (NULL, TRUE);
}

static void
assert_nothing_passed (Fixture *f)
{
  DsStoreCounts counts = { 0 };
  g_autoptr(GError) error = NULL;

  g_assert_true (ds_store_get_counts (f->boards.store, &counts, &error));
  g_assert_no_error (error);
  g_assert_cmpint (counts.passed, ==, 0);
  g_assert_cmpint (counts.failed, >=, 1);
  g_assert_null (ds_job_get_label_info (f->job));
}

/* The independent reader's view of a blob file: every record, as JSON. */
static JsonObject *
read_blob_file (const char *path)
{
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "read-factory-data.py", NULL);
  g_autofree char *region_arg = g_strdup_printf ("--region-size=%u", DS_FACTORY_DATA_SIZE_DEFAULT);
  const char *argv[] = { "python3", script, path, region_arg, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  int status = -1;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                               &status, &error));
  g_assert_no_error (error);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    g_test_message ("read-factory-data.py: %s", err);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static JsonObject *
record_of (JsonObject *o,
           guint       tag)
{
  g_autofree char *key = g_strdup_printf ("%u", tag);

  return json_object_has_member (o, key) ? json_object_get_object_member (o, key) : NULL;
}

static const char *
tag_string (JsonObject *o,
            guint       tag)
{
  JsonObject *r = record_of (o, tag);

  g_assert_nonnull (r);
  return json_object_get_string_member (r, "value");
}

static gint64
tag_int (JsonObject *o,
         guint       tag)
{
  JsonObject *r = record_of (o, tag);

  g_assert_nonnull (r);
  return json_object_get_int_member (r, "value");
}

static char *
lower_hex (GBytes *b)
{
  gsize n;
  const guint8 *p = g_bytes_get_data (b, &n);
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < n; i++)
    g_string_append_printf (s, "%02x", p[i]);
  return g_string_free (s, FALSE);
}

/* A board that passes: its flash holds every tag, its key pair among
 * them; the read-back over the protocol leaves the private key out; the
 * records and the label hold the same codes. */
static void
test_pass (Fixture       *f,
           gconstpointer  data)
{
  DsSimBoard *sim = g_ptr_array_index (f->boards.sims, 0);
  g_autofree char *flash = g_build_filename (f->boards.state, ds_sim_board_get_name (sim),
                                             "factory-data-flash.bin", NULL);
  g_autoptr(DsOnboardingRecord) rec = NULL;
  g_autoptr(DsCertRecord) cert = NULL;
  g_autoptr(JsonObject) fd = NULL;
  g_autoptr(GBytes) pub = NULL;
  g_autofree char *pub_hex = NULL;
  g_autofree char *dac_hex = NULL;
  g_autoptr(GError) error = NULL;
  DsSetupPayload payload;
  const DsLabelInfo *label;

  run_job (f, 0);
  g_assert_no_error (f->error);
  g_assert_cmpint (ds_job_get_state (f->job), ==, DS_JOB_STATE_PASSED);

  rec = ds_store_find_onboarding (f->boards.store, ds_job_get_id (f->job), &error);
  g_assert_no_error (error);
  g_assert_nonnull (rec);
  g_assert_cmpstr (rec->board_uid, ==, ds_job_get_uid (f->job));
  g_assert_true (g_str_has_prefix (rec->serial_number, "DS-"));
  g_assert_true (g_str_has_suffix (rec->serial_number, "-000001"));
  g_assert_cmpuint (rec->iterations, ==, DS_SPAKE2P_DEFAULT_ITERATIONS);
  g_assert_cmpuint (strlen (rec->salt_hex), ==, 2 * DS_SPAKE2P_DEFAULT_SALT_LEN);

  /* The codes parse back to the recorded passcode and discriminator. */
  g_assert_true (ds_setup_payload_parse (rec->qr, &payload, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (payload.passcode, ==, rec->passcode);
  g_assert_cmpuint (payload.discriminator, ==, rec->discriminator);
  g_assert_cmphex (payload.vid, ==, 0xFFF1);
  g_assert_cmphex (payload.pid, ==, 0x8000);
  g_assert_true (ds_setup_payload_parse (rec->manual_code, &payload, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (payload.passcode, ==, rec->passcode);
  g_assert_cmpuint (payload.discriminator, ==, rec->discriminator >> 8);

  /* The label the GUI and the CLI show. */
  label = ds_job_get_label_info (f->job);
  g_assert_nonnull (label);
  g_assert_cmpstr (label->qr, ==, rec->qr);
  g_assert_cmpstr (label->manual_code, ==, rec->manual_code);
  g_assert_cmpstr (label->serial_number, ==, rec->serial_number);
  g_assert_cmpstr (label->product_name, ==, "Product 8000");
  g_assert_cmphex (label->vid, ==, 0xFFF1);

  /* What the board's flash holds, read by a reader that shares no code
   * with the station (it recomputes the verifier from the passcode). */
  fd = read_blob_file (flash);
  cert = ds_store_find_board_certificate (f->boards.store, ds_job_get_uid (f->job), &error);
  g_assert_no_error (error);
  g_assert_nonnull (cert);
  dac_hex = lower_hex (cert->dac_der);
  pub = ds_factory_dac_public_key (cert->dac_der, &error);
  g_assert_no_error (error);
  pub_hex = lower_hex (pub);
  g_assert_cmpstr (tag_string (fd, DS_FACTORY_TAG_DAC), ==, dac_hex);
  g_assert_nonnull (record_of (fd, DS_FACTORY_TAG_PAI));
  g_assert_null (record_of (fd, DS_FACTORY_TAG_CD));   /* none configured */
  g_assert_cmpint (json_object_get_int_member (record_of (fd, DS_FACTORY_TAG_DAC_PRIVATE_KEY), "length"), ==, 32);
  g_assert_cmpstr (tag_string (fd, DS_FACTORY_TAG_DAC_PUBLIC_KEY), ==, pub_hex);
  g_assert_cmpint (tag_int (fd, DS_FACTORY_TAG_DISCRIMINATOR), ==, rec->discriminator);
  g_assert_cmpint (tag_int (fd, DS_FACTORY_TAG_ITERATIONS), ==, rec->iterations);
  g_assert_cmpint (g_ascii_strcasecmp (tag_string (fd, DS_FACTORY_TAG_SALT), rec->salt_hex), ==, 0);
  g_assert_cmpint (g_ascii_strcasecmp (tag_string (fd, DS_FACTORY_TAG_VERIFIER), rec->verifier_hex), ==, 0);
  g_assert_cmpint (tag_int (fd, DS_FACTORY_TAG_PASSCODE), ==, rec->passcode);
  g_assert_cmpstr (tag_string (fd, DS_FACTORY_TAG_VENDOR_NAME), ==, "Vendor FFF1");
  g_assert_cmpint (tag_int (fd, DS_FACTORY_TAG_VID), ==, 0xFFF1);
  g_assert_cmpstr (tag_string (fd, DS_FACTORY_TAG_PRODUCT_NAME), ==, "Product 8000");
  g_assert_cmpint (tag_int (fd, DS_FACTORY_TAG_PID), ==, 0x8000);
  g_assert_cmpstr (tag_string (fd, DS_FACTORY_TAG_SERIAL_NUMBER), ==, rec->serial_number);
  g_assert_cmpstr (tag_string (fd, DS_FACTORY_TAG_MANUFACTURING_DATE), ==, rec->manufacturing_date);
  g_assert_cmpint (tag_int (fd, DS_FACTORY_TAG_HARDWARE_VERSION), ==, 0);
  g_assert_cmpstr (tag_string (fd, DS_FACTORY_TAG_HARDWARE_VERSION_STRING), ==, "1.0");
  g_assert_cmpint (json_object_get_int_member (record_of (fd, DS_FACTORY_TAG_ROTATING_ID), "length"), ==, 16);
  g_assert_cmpuint (json_object_get_size (fd), ==, 18);

  /* Over the protocol the private key stays on the board. */
  {
    g_autoptr(DsTransport) transport = DS_TRANSPORT (ds_pty_transport_new (ds_sim_board_get_port (sim)));
    g_autoptr(DsDevice) device = NULL;
    g_autoptr(GBytes) read_back = NULL;
    g_autoptr(GPtrArray) records = NULL;

    g_assert_true (ds_transport_open (transport, &error));
    g_assert_no_error (error);
    device = ds_device_new (transport);
    read_back = ds_device_read_factory_data (device, DS_FACTORY_DATA_ADDRESS_DEFAULT, NULL, &error);
    g_assert_no_error (error);
    records = ds_factory_data_parse (read_back, DS_FACTORY_DATA_SIZE_DEFAULT, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (records->len, ==, 17);
    for (guint i = 0; i < records->len; i++)
      g_assert_cmpuint (((DsFactoryRecord *) records->pdata[i])->tag, !=, DS_FACTORY_TAG_DAC_PRIVATE_KEY);
    ds_transport_close (transport);
  }
}

/* Serial numbers are unique across the store: a sequence that was set
 * back (another pattern, a restored counter) skips the taken ones. */
static void
test_serials_unique (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(DsOnboardingRecord) first = NULL;
  g_autoptr(DsOnboardingRecord) second = NULL;
  g_autoptr(GError) error = NULL;
  sqlite3 *db = NULL;

  f->boards.options.onboarding->serial_pattern = g_strdup ("SN{seq:04}");
  run_job (f, 0);
  g_assert_no_error (f->error);
  first = ds_store_find_onboarding (f->boards.store, ds_job_get_id (f->job), &error);
  g_assert_nonnull (first);
  g_assert_cmpstr (first->serial_number, ==, "SN0001");

  g_assert_cmpint (sqlite3_open (f->boards.db, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "UPDATE serial_sequence SET last_value = 0", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  run_job (f, 1);
  g_assert_no_error (f->error);
  second = ds_store_find_onboarding (f->boards.store, ds_job_get_id (f->job), &error);
  g_assert_nonnull (second);
  g_assert_cmpstr (second->serial_number, ==, "SN0002");
  g_assert_cmpstr (ds_job_get_label_info (f->job)->serial_number, ==, "SN0002");
}

/* Settings that break a rule are refused before any board or CA is
 * asked; a job run with them anyway fails before the CA, with nothing
 * recorded as passed. */
static void
test_bad_config (Fixture       *f,
                 gconstpointer  data)
{
  DsOnboardingConfig *c = f->boards.options.onboarding;
  static const guint32 bad_passcodes[] = { 11111111, 12345678, 87654321, 99999999, 100000000 };
  DsStoreCounts counts = { 0 };
  g_autoptr(GError) error = NULL;

  g_assert_true (ds_job_options_validate (&f->boards.options, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (bad_passcodes); i++)
    {
      c->passcode = bad_passcodes[i];
      g_assert_false (ds_job_options_validate (&f->boards.options, &error));
      g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
      g_clear_error (&error);
    }
  c->passcode = 20202021;
  g_assert_true (ds_job_options_validate (&f->boards.options, &error));

  g_assert_false (ds_onboarding_config_set_discriminator (c, "4096", &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_clear_error (&error);
  g_assert_false (ds_onboarding_config_set_discriminator (c, "100-4096", &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_clear_error (&error);
  g_assert_false (ds_onboarding_config_set_discriminator (c, "200-100", &error));
  g_clear_error (&error);
  c->has_discriminator = FALSE;
  c->discriminator_lo = c->discriminator_hi = 0;

  c->iterations = 999;
  g_assert_false (ds_job_options_validate (&f->boards.options, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_clear_error (&error);
  c->iterations = 100001;
  g_assert_false (ds_job_options_validate (&f->boards.options, &error));
  g_clear_error (&error);
  c->iterations = 1000;
  c->salt_len = 15;
  g_assert_false (ds_job_options_validate (&f->boards.options, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_clear_error (&error);
  c->salt_len = 33;
  g_assert_false (ds_job_options_validate (&f->boards.options, &error));
  g_clear_error (&error);
  c->salt_len = 16;
  c->serial_pattern = g_strdup ("SN-FIXED");
  g_assert_false (ds_job_options_validate (&f->boards.options, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_clear_error (&error);
  g_clear_pointer (&c->serial_pattern, g_free);
  g_assert_true (ds_job_options_validate (&f->boards.options, &error));

  /* Run anyway: the job refuses it before it asks the CA. */
  c->passcode = 11111111;
  run_job (f, 0);
  g_assert_error (f->error, DS_ERROR, DS_ERROR_CONFIG);
  g_assert_cmpint (ds_job_get_state (f->job), ==, DS_JOB_STATE_FAILED);
  g_assert_cmpint (ds_job_get_failed_step (f->job), ==, DS_STEP_FORWARD);
  assert_nothing_passed (f);
  g_assert_true (ds_store_get_counts (f->boards.store, &counts, &error));
  g_assert_cmpint (counts.certificates, ==, 0);
}

/* A blob larger than the product's factory-data region fails Install
 * before the DAC goes in. */
static void
test_region_too_small (Fixture       *f,
                       gconstpointer  data)
{
  f->boards.options.onboarding->fd_size = 512;
  run_job (f, 0);
  g_assert_error (f->error, DS_ERROR, DS_ERROR_CONFIG);
  g_assert_cmpint (ds_job_get_failed_step (f->job), ==, DS_STEP_INSTALL);
  g_assert_nonnull (strstr (f->error->message, "factory data"));
  assert_nothing_passed (f);
}

/* A board that answers a read-back other than its flash holds. */
static void
test_readback_differs (Fixture       *f,
                       gconstpointer  data)
{
  run_job (f, 0);
  g_assert_error (f->error, DS_ERROR, DS_ERROR_INVALID_DATA);
  g_assert_cmpint (ds_job_get_failed_step (f->job), ==, DS_STEP_INSTALL);
  g_assert_nonnull (strstr (f->error->message, "read back is not what was sent"));
  assert_nothing_passed (f);
}

/* A board of protocol 1 is told what it lacks. */
static void
test_protocol_v1 (Fixture       *f,
                  gconstpointer  data)
{
  run_job (f, 0);
  g_assert_error (f->error, DS_ERROR, DS_ERROR_PROTOCOL);
  g_assert_cmpint (ds_job_get_failed_step (f->job), ==, DS_STEP_CONNECT);
  g_assert_nonnull (strstr (f->error->message, "protocol version 1 and cannot store factory data"));
  assert_nothing_passed (f);
}

/* The CLI: the demo prints the codes (test data), JSON holds them only
 * with --show-codes, --label-dir gets SERIAL.png and the lot's CSV, and
 * export-onboarding writes the same CSV. */
static void
test_cli (Fixture       *f,
          gconstpointer  data)
{
  g_autofree char *dir = g_build_filename (f->boards.tmp, "cli", NULL);
  g_autofree char *labels = g_build_filename (dir, "labels", NULL);
  g_autofree char *csv_path = g_build_filename (labels, "onboarding-LOT9.csv", NULL);
  g_autofree char *out_csv = g_build_filename (dir, "export.csv", NULL);
  g_autofree char *csv = NULL;
  g_autofree char *exported = NULL;
  g_autoptr(GError) error = NULL;
  const char *demo_json[] = { "demo", "-n", "1", "--json", "--data-dir", dir, "--lot", "LOT9", "--label-dir", labels,
                              NULL };
  const char *demo_codes[] = { "demo", "-n", "1", "--json", "--data-dir", dir, "--lot", "LOT9", "--show-codes",
                               "--serial-pattern", "T-{seq:03}", NULL };
  const char *demo_text[] = { "demo", "-n", "1", "--data-dir", dir, "--lot", "OTHER", NULL };
  const char *export[] = { "export-onboarding", "--data-dir", dir, "--lot", "LOT9", "--output", out_csv, NULL };
  const char *bad[] = { "demo", "-n", "1", "--data-dir", dir, "--passcode", "12345678", NULL };
  g_autoptr(DsCliResult) r1 = ds_test_run_cli (f->boards.announce, demo_json);
  g_autoptr(DsCliResult) r2 = NULL;
  g_autoptr(DsCliResult) r3 = NULL;
  g_autoptr(DsCliResult) r4 = NULL;
  g_autoptr(DsCliResult) r5 = NULL;
  g_auto(GStrv) lines = NULL;
  JsonObject *pass;
  const char *serial;
  g_autofree char *png = NULL;

  g_assert_cmpint (r1->exit_status, ==, 0);
  pass = ds_test_find_event (r1->events, "pass", NULL);
  g_assert_nonnull (pass);
  serial = json_object_get_string_member (pass, "serial_number");
  g_assert_nonnull (serial);
  g_assert_false (json_object_has_member (pass, "qr_code"));
  g_assert_false (json_object_has_member (pass, "manual_code"));
  g_assert_null (strstr (r1->out, "MT:"));
  png = g_strdup_printf ("%s/%s.png", labels, serial);
  g_assert_true (g_file_test (png, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpstr (json_object_get_string_member (pass, "label_file"), ==, png);

  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, &error));
  g_assert_no_error (error);
  lines = g_strsplit (csv, "\r\n", -1);
  g_assert_cmpstr (lines[0], ==, "lot,job,board_uid,serial_number,vid,pid,discriminator,passcode,qr_code,"
                                 "manual_code,manufacturing_date");
  g_assert_true (g_str_has_prefix (lines[1], "LOT9,"));
  g_assert_nonnull (strstr (lines[1], serial));
  g_assert_nonnull (strstr (lines[1], ",MT:"));
  g_assert_cmpstr (lines[2], ==, "");

  r2 = ds_test_run_cli (f->boards.announce, demo_codes);
  g_assert_cmpint (r2->exit_status, ==, 0);
  pass = ds_test_find_event (r2->events, "pass", NULL);
  g_assert_cmpstr (json_object_get_string_member (pass, "serial_number"), ==, "T-002");
  g_assert_true (g_str_has_prefix (json_object_get_string_member (pass, "qr_code"), "MT:"));
  g_assert_cmpuint (strlen (json_object_get_string_member (pass, "manual_code")), ==, 11);

  r3 = ds_test_run_cli (f->boards.announce, demo_text);
  g_assert_cmpint (r3->exit_status, ==, 0);
  g_assert_nonnull (strstr (r3->out, "QR MT:"));
  g_assert_nonnull (strstr (r3->out, "manual code "));

  /* Both boards of LOT9, in the order of their serial numbers. */
  r4 = ds_test_run_cli (f->boards.announce, export);
  g_assert_cmpint (r4->exit_status, ==, 0);
  g_assert_true (g_file_get_contents (out_csv, &exported, NULL, &error));
  g_strfreev (lines);
  lines = g_strsplit (exported, "\r\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 4);
  g_assert_nonnull (strstr (lines[1], serial));
  g_assert_nonnull (strstr (lines[2], ",T-002,"));

  r5 = ds_test_run_cli (f->boards.announce, bad);
  g_assert_cmpint (r5->exit_status, ==, 2);
  g_assert_nonnull (strstr (r5->err, "passcode"));
}

/* The column @col of the CSV line @line. */
static char *
csv_field (const char *line,
           guint       col)
{
  g_auto(GStrv) fields = g_strsplit (line, ",", -1);

  g_assert_cmpuint (g_strv_length (fields), >, col);
  return g_strdup (fields[col]);
}

/* A product profile's onboarding and label settings reach the boards of
 * a CLI run, and the options given still win over them; profile new and
 * profile show say what those settings are. */
static void
test_cli_profile (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *dir = g_build_filename (f->boards.tmp, "cli", NULL);
  g_autofree char *profile = g_build_filename (f->boards.tmp, "acme.profile", NULL);
  g_autofree char *made = g_build_filename (f->boards.tmp, "made.profile", NULL);
  g_autofree char *labels = g_build_filename (f->boards.tmp, "acme-labels", NULL);
  g_autofree char *csv_path = g_build_filename (labels, "onboarding-P1.csv", NULL);
  g_autofree char *csv = NULL;
  g_autofree char *made_text = NULL;
  g_autofree char *discriminator = NULL;
  g_autofree char *zpl = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;
  const char *run[] = { "demo", "-n", "1", "--json", "--data-dir", dir, "--lot", "P1", "--profile", profile, NULL };
  const char *over[] = { "demo", "-n", "1", "--json", "--data-dir", dir, "--lot", "P2", "--profile", profile,
                         "--discriminator", "100", "--label-format", "png", NULL };
  const char *show[] = { "profile", "show", profile, NULL };
  const char *make[] = { "profile", "new", made, "--name", "Made", NULL };
  g_autoptr(DsCliResult) r1 = NULL;
  g_autoptr(DsCliResult) r2 = NULL;
  g_autoptr(DsCliResult) r3 = NULL;
  g_autoptr(DsCliResult) r4 = NULL;
  JsonObject *pass;
  const char *serial;

  g_assert_true (g_file_set_contents (profile,
                                      "[gate]\nproduction=false\n"
                                      "[onboarding]\nserial-pattern=ACME-{seq:04}\ndiscriminator=3840\n"
                                      "[label]\nformat=zpl\ndirectory=acme-labels\n",
                                      -1, NULL));
  r1 = ds_test_run_cli (f->boards.announce, run);
  g_assert_cmpint (r1->exit_status, ==, 0);
  pass = ds_test_find_event (r1->events, "pass", NULL);
  g_assert_nonnull (pass);
  serial = json_object_get_string_member (pass, "serial_number");
  g_assert_cmpstr (serial, ==, "ACME-0001");
  /* The profile's label format and folder, relative to the profile. */
  zpl = g_build_filename (labels, "ACME-0001.zpl", NULL);
  g_assert_cmpstr (json_object_get_string_member (pass, "label_file"), ==, zpl);
  g_assert_true (g_file_test (zpl, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpstr (json_object_get_string_member (ds_test_find_event (r1->events, "summary", NULL), "label_dir"), ==,
                   labels);
  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, &error));
  g_assert_no_error (error);
  lines = g_strsplit (csv, "\r\n", -1);
  g_assert_nonnull (strstr (lines[1], ",ACME-0001,"));
  discriminator = csv_field (lines[1], 6);
  g_assert_cmpstr (discriminator, ==, "3840");

  /* An option given wins over the profile; what it leaves alone is the
   * profile's. */
  r2 = ds_test_run_cli (f->boards.announce, over);
  g_assert_cmpint (r2->exit_status, ==, 0);
  pass = ds_test_find_event (r2->events, "pass", NULL);
  g_assert_cmpstr (json_object_get_string_member (pass, "serial_number"), ==, "ACME-0002");
  g_assert_true (g_str_has_suffix (json_object_get_string_member (pass, "label_file"), "/acme-labels/ACME-0002.png"));
  g_clear_pointer (&csv, g_free);
  g_clear_pointer (&lines, g_strfreev);
  g_clear_pointer (&discriminator, g_free);
  g_clear_pointer (&csv_path, g_free);
  csv_path = g_build_filename (labels, "onboarding-P2.csv", NULL);
  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, &error));
  lines = g_strsplit (csv, "\r\n", -1);
  discriminator = csv_field (lines[1], 6);
  g_assert_cmpstr (discriminator, ==, "100");

  r3 = ds_test_run_cli (f->boards.announce, show);
  g_assert_cmpint (r3->exit_status, ==, 0);
  g_assert_nonnull (strstr (r3->out, "discriminator 3840"));
  g_assert_nonnull (strstr (r3->out, "ACME-{seq:04}"));
  g_assert_nonnull (strstr (r3->out, "zpl, "));
  g_assert_nonnull (strstr (r3->out, labels));

  r4 = ds_test_run_cli (f->boards.announce, make);
  g_assert_cmpint (r4->exit_status, ==, 0);
  g_assert_true (g_file_get_contents (made, &made_text, NULL, &error));
  g_assert_nonnull (strstr (made_text, "\n[onboarding]\n"));
  g_assert_nonnull (strstr (made_text, "\n#iterations=10000\n"));
  g_assert_nonnull (strstr (made_text, "\n#address=0x901C0000\n"));
  g_assert_nonnull (strstr (made_text, "\n[label]\n"));
}

/* What zbarimg reads from the image @path; NULL when it reads nothing. */
static char *
zbar_read (const char *path)
{
  const char *argv[] = { "zbarimg", "--quiet", "--raw", path, NULL };
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  int status = -1;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL, &status,
                               &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    return NULL;
  g_strchomp (out);
  return g_steal_pointer (&out);
}

/* The demo writes each passed board's label and the lot's CSV without
 * being asked, beside its records, and says where. */
static void
test_cli_demo_labels (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *dir = g_build_filename (f->boards.tmp, "cli", NULL);
  g_autofree char *labels = g_build_filename (dir, "labels", NULL);
  g_autofree char *csv_path = g_build_filename (labels, "onboarding.csv", NULL);
  g_autofree char *where = g_strdup_printf ("(CSV): %s\n", labels);
  const char *demo[] = { "demo", "-n", "1", "--data-dir", dir, "--serial-pattern", "DEMO-{seq:03}", NULL };
  g_autoptr(DsCliResult) r = ds_test_run_cli (f->boards.announce, demo);
  g_autofree char *png = g_build_filename (labels, "DEMO-001.png", NULL);
  g_autofree char *csv = NULL;
  g_autofree char *read = NULL;
  g_autoptr(GMatchInfo) match = NULL;
  g_autoptr(GRegex) qr = g_regex_new ("DEMO-001  QR (MT:[^ ]+)  manual code", 0, 0, NULL);
  g_autofree char *qr_text = NULL;
  g_autofree char *zbarimg = g_find_program_in_path ("zbarimg");

  g_assert_cmpint (r->exit_status, ==, 0);
  g_assert_nonnull (strstr (r->out, where));
  g_assert_true (g_file_test (png, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, NULL));
  g_assert_nonnull (strstr (csv, ",DEMO-001,"));
  g_assert_true (g_regex_match (qr, r->out, 0, &match));
  qr_text = g_match_info_fetch (match, 1);
  g_assert_nonnull (strstr (csv, qr_text));
  if (zbarimg == NULL)
    {
      g_test_skip ("zbarimg is not installed (zbar-tools)");
      return;
    }
  /* The label holds the code the demo printed. */
  read = zbar_read (png);
  g_assert_cmpstr (read, ==, qr_text);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fault, func) \
  g_test_add (path, Fixture, fault, setup, func, teardown)
  ADD ("/job-onboarding/pass", NULL, test_pass);
  ADD ("/job-onboarding/serials-unique", NULL, test_serials_unique);
  ADD ("/job-onboarding/bad-config", NULL, test_bad_config);
  ADD ("/job-onboarding/region-too-small", NULL, test_region_too_small);
  ADD ("/job-onboarding/readback-differs", "fd-readback", test_readback_differs);
  ADD ("/job-onboarding/protocol-v1", "protocol-v1", test_protocol_v1);
  ADD ("/job-onboarding/cli", NULL, test_cli);
  ADD ("/job-onboarding/cli-profile", NULL, test_cli_profile);
  ADD ("/job-onboarding/cli-demo-labels", NULL, test_cli_demo_labels);
#undef ADD
  return g_test_run ();
}
