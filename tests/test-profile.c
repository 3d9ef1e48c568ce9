/* Product profiles: the strict parser, load/save/SHA-256, and every
 * production refusal of DsStationSetup, in process. */
#include "config.h"

#include <glib/gstdio.h>
#include <openssl/x509v3.h>
#include <sqlite3.h>
#include <string.h>

#include "ds-cd.h"
#include "ds-crypto.h"
#include "ds-error.h"
#include "ds-station-setup.h"
#include "ds-test-util.h"

typedef struct {
  char *tmp;
  char *data_dir;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->tmp = g_dir_make_tmp ("ds-test-profile-XXXXXX", &error);
  g_assert_no_error (error);
  f->data_dir = g_build_filename (f->tmp, "data", NULL);
  g_assert_cmpint (g_mkdir_with_parents (f->data_dir, 0700), ==, 0);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  ds_test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->data_dir);
}

static char *
write_file (Fixture    *f,
            const char *name,
            const char *contents)
{
  char *path = g_build_filename (f->tmp, name, NULL);

  g_assert_true (g_file_set_contents (path, contents, -1, NULL));
  return path;
}

/* ---- parsing -------------------------------------------------------------- */

static const char full_profile[] =
  "# Acme Widget, production line 2\n"
  "[profile]\nname=Acme Widget\n"
  "[product]\nvid=1234\npid=0001\nvendor-name=Acme\nproduct-name=Widget\nhardware-version=3\n"
  "hardware-version-string=3.0-rev B\n"
  "[ca]\nca=est:https://ca.example.com\nca-bundle=bundle.pem\nclient-cert=client.pem\nclient-key=client-key.pem\nlegacy-cn=true\ntimeout=20\n"
  "[gate]\nproduction=true\ntrust-store=paa\ncd=cd.der\ncd-signers=a.pem;/abs/b.pem;\n"
  "[firmware]\nimage=fw.hex\nflasher=bootloader\n"
  "[store]\nlocation=postgresql://station@db.example.com/records\n"
  "[run]\njobs=4\ncommand-timeout-ms=2000\nretries=5\n"
  "[onboarding]\npasscode=20202021\ndiscriminator=100-200\niterations=2000\nsalt-length=16\n"
  "serial-pattern=ACME-{seq:05}\n"
  "[factory-data]\naddress=0x08070000\nsize=8192\npasscode-tag=false\n"
  "[label]\nformat=zpl\ndirectory=labels\nprinter=zebra-1\n";

/* Each of @p's onboarding, factory-data and label settings of full_profile. */
static void
assert_full_run_settings (DsProfile  *p,
                          const char *labels)
{
  g_autoptr(DsOnboardingConfig) c = ds_profile_get_onboarding (p);

  g_assert_cmpuint (c->passcode, ==, 20202021);
  g_assert_false (c->has_discriminator);
  g_assert_cmpuint (c->discriminator_lo, ==, 100);
  g_assert_cmpuint (c->discriminator_hi, ==, 200);
  g_assert_cmpuint (c->iterations, ==, 2000);
  g_assert_cmpuint (c->salt_len, ==, 16);
  g_assert_cmpstr (c->serial_pattern, ==, "ACME-{seq:05}");
  g_assert_cmpuint (c->fd_address, ==, 0x08070000);
  g_assert_cmpuint (c->fd_size, ==, 8192);
  g_assert_true (c->no_passcode_tag);
  /* [product]'s names and hardware version go into the factory data. */
  g_assert_cmpstr (c->vendor_name, ==, "Acme");
  g_assert_cmpstr (c->product_name, ==, "Widget");
  g_assert_cmpuint (c->hardware_version, ==, 3);
  g_assert_cmpstr (c->hardware_version_string, ==, "3.0-rev B");
  g_assert_cmpstr (p->label_format, ==, "zpl");
  g_assert_cmpstr (p->label_dir, ==, labels);
  g_assert_cmpstr (p->label_printer, ==, "zebra-1");
}

static void
test_load_save (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *path = write_file (f, "acme.profile", full_profile);
  g_autofree char *copy = g_build_filename (f->tmp, "copy.profile", NULL);
  g_autofree char *sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, full_profile, -1);
  g_autofree char *bundle = g_build_filename (f->tmp, "bundle.pem", NULL);
  g_autofree char *paa = g_build_filename (f->tmp, "paa", NULL);
  g_autofree char *signer = g_build_filename (f->tmp, "a.pem", NULL);
  g_autofree char *labels = g_build_filename (f->tmp, "labels", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(DsProfile) p = ds_profile_load (path, &error);
  g_autoptr(DsProfile) q = NULL;
  g_autofree char *saved = NULL;
  g_autofree char *value = NULL;
  GStatBuf st;

  g_assert_no_error (error);
  g_assert_cmpstr (p->sha256, ==, sha);
  g_assert_cmpstr (p->path, ==, path);
  g_assert_cmpstr (ds_profile_get_display_name (p), ==, "Acme Widget");
  g_assert_cmpstr (ds_profile_get_mode (p), ==, "production");
  g_assert_cmpuint (p->vid, ==, 0x1234);
  g_assert_cmpuint (p->pid, ==, 0x0001);
  g_assert_cmpstr (p->vendor_name, ==, "Acme");
  g_assert_cmpuint (p->hardware_version, ==, 3);
  g_assert_cmpstr (p->ca->ca, ==, "est:https://ca.example.com");
  /* Relative paths are the file's. */
  g_assert_cmpstr (p->ca->ca_bundle, ==, bundle);
  g_assert_true (p->ca->legacy_cn);
  g_assert_cmpint (p->ca->timeout_s, ==, 20);
  g_assert_true (p->production);
  g_assert_cmpstr (p->trust_store, ==, paa);
  g_assert_cmpuint (g_strv_length (p->cd_signers), ==, 2);
  g_assert_cmpstr (p->cd_signers[0], ==, signer);
  g_assert_cmpstr (p->cd_signers[1], ==, "/abs/b.pem");
  g_assert_cmpstr (p->store, ==, "postgresql://station@db.example.com/records");
  g_assert_cmpuint (p->jobs, ==, 4);
  g_assert_cmpuint (p->timeout_ms, ==, 2000);
  g_assert_cmpuint (p->retries, ==, 5);
  assert_full_run_settings (p, labels);

  /* Saved and read again: the same profile, its digest the new file's. */
  g_assert_true (ds_profile_save (p, copy, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (copy, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_true (g_file_get_contents (copy, &saved, NULL, NULL));
  q = ds_profile_load (copy, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (q->sha256, ==, p->sha256);
  g_assert_cmpstr (p->path, ==, copy);
  g_assert_cmpstr (q->ca->ca_bundle, ==, bundle);
  g_assert_cmpstr (q->trust_store, ==, paa);
  g_assert_cmpstr (q->store, ==, p->store);
  g_assert_cmpuint (q->pid, ==, 0x0001);
  g_assert_true (q->production);
  assert_full_run_settings (q, labels);
  /* The fixed passcode is a setting like any other here: the profile is
   * a reviewed file (docs/profiles.md says to prefer random ones). */
  g_assert_nonnull (strstr (saved, "\npasscode=20202021\n"));
  g_assert_null (strstr (saved, "#iterations"));
}

/* A new profile shows the defaults it runs with, as comments, and reads
 * back as the defaults. */
static void
test_save_new (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->tmp, "new.profile", NULL);
  g_autoptr(DsProfile) p = ds_profile_new ();
  g_autoptr(DsProfile) q = NULL;
  g_autoptr(DsOnboardingConfig) c = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *saved = NULL;

  p->production = FALSE;
  p->onboarding->iterations = 5000;
  g_assert_true (ds_profile_save_new (p, path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &saved, NULL, NULL));
  g_test_message ("%s", saved);
  g_assert_nonnull (strstr (saved, "\n[onboarding]\niterations=5000\n"));
  g_assert_null (strstr (saved, "#iterations"));
  g_assert_nonnull (strstr (saved, "\n#salt-length=32\n"));
  g_assert_nonnull (strstr (saved, "\n#serial-pattern=DS-{yyyy}{mm}{dd}-{seq:06}\n"));
  g_assert_nonnull (strstr (saved, "\n[factory-data]\n#address=0x901C0000\n#size=65536\n#passcode-tag=true\n"));
  g_assert_nonnull (strstr (saved, "\n[label]\n#format=png\n"));
  q = ds_profile_load (path, &error);
  g_assert_no_error (error);
  c = ds_profile_get_onboarding (q);
  g_assert_cmpuint (c->iterations, ==, 5000);
  g_assert_cmpuint (c->salt_len, ==, 0);
  g_assert_null (c->serial_pattern);
  g_assert_cmpuint (c->fd_address, ==, 0);
  g_assert_false (c->no_passcode_tag);
  g_assert_null (q->label_dir);
}

static void
test_strict (Fixture       *f,
             gconstpointer  data)
{
  const struct {
    const char *text;
    const char *needle;
  } cases[] = {
    { "[gate]\nproduction=false\n[prodcut]\nvid=1234\n", "unknown group [prodcut]" },
    { "[gate]\nproduction=false\n[product]\nvid=1234\ncolour=red\n", "unknown setting “colour” in [product]" },
    { "[gate]\nproduction=false\n[product]\nvid=12345\n", "[product] vid: takes four hex digits" },
    { "[gate]\nproduction=false\n[product]\npid=zz\n", "[product] pid: takes four hex digits" },
    { "[gate]\nproduction=perhaps\n", "[gate] production: takes true or false" },
    { "[product]\nvid=1234\n", "[gate] production is missing" },
    { "[gate]\nproduction=false\n[run]\njobs=0\n", "[run] jobs: takes a number from 1 to 256" },
    { "[gate]\nproduction=false\n[run]\nretries=-1\n", "[run] retries: takes a number from 1 to 100" },
    { "[gate]\nproduction=false\n[firmware]\nflasher=jtag\n", "[firmware] flasher: takes bootloader or cube" },
    { "[gate]\nproduction=false\n[ca]\nca=est:https://x\npassword=hunter2\n", "password does not go into the settings" },
    { "[gate]\nproduction=false\n[ca]\nclient-key-pin=1234\n", "token PIN does not go into the settings" },
    { "[gate]\nproduction=false\n[store]\nlocation=postgresql://u:hunter2@db/x\n", "[store] location: holds a password" },
    { "[gate]\nproduction=false\n[store]\nlocation=\n", "[store] location: takes a non-empty value" },
    { "not a key file\n", "Cannot read the profile" },
    /* [product]'s names go into the factory data: Matter's lengths. */
    { "[gate]\nproduction=false\n[product]\nvendor-name=" "0123456789012345678901234567890123\n",
      "[product] vendor-name: takes UTF-8 text of 1 to 32 bytes" },
    { "[gate]\nproduction=false\n[product]\nhardware-version-string=\n",
      "[product] hardware-version-string: takes a non-empty value" },
    /* [onboarding]: the rules of the onboarding settings, key by key. */
    { "[gate]\nproduction=false\n[onboarding]\npasscode=12345678\n", "[onboarding] passcode: The setup passcode 12345678 is one the Matter specification forbids" },
    { "[gate]\nproduction=false\n[onboarding]\npasscode=11111111\n", "[onboarding] passcode: The setup passcode 11111111 is one" },
    { "[gate]\nproduction=false\n[onboarding]\npasscode=0\n", "[onboarding] passcode: The setup passcode 00000000 is one the Matter specification forbids" },
    { "[gate]\nproduction=false\n[onboarding]\npasscode=99999999\n", "[onboarding] passcode:" },
    { "[gate]\nproduction=false\n[onboarding]\npasscode=100000000\n", "[onboarding] passcode: The setup passcode 100000000 is out of range" },
    { "[gate]\nproduction=false\n[onboarding]\ndiscriminator=4096\n", "[onboarding] discriminator: takes a number from 0 to 4095" },
    { "[gate]\nproduction=false\n[onboarding]\ndiscriminator=200-100\n", "[onboarding] discriminator: takes a number from 0 to 4095, or a range LO-HI within it, LO first" },
    { "[gate]\nproduction=false\n[onboarding]\ndiscriminator=0-5000\n", "[onboarding] discriminator:" },
    { "[gate]\nproduction=false\n[onboarding]\ndiscriminator=abc\n", "[onboarding] discriminator:" },
    { "[gate]\nproduction=false\n[onboarding]\niterations=999\n", "[onboarding] iterations: takes a number from 1000 to 100000" },
    { "[gate]\nproduction=false\n[onboarding]\niterations=100001\n", "[onboarding] iterations: takes a number from 1000 to 100000" },
    { "[gate]\nproduction=false\n[onboarding]\nsalt-length=15\n", "[onboarding] salt-length: takes a number from 16 to 32" },
    { "[gate]\nproduction=false\n[onboarding]\nsalt-length=33\n", "[onboarding] salt-length: takes a number from 16 to 32" },
    { "[gate]\nproduction=false\n[onboarding]\nserial-pattern=ACME-1\n", "[onboarding] serial-pattern: needs {seq}" },
    { "[gate]\nproduction=false\n[onboarding]\nserial-pattern=ACME-0123456789012345678901234567-{seq}\n", "[onboarding] serial-pattern:" },
    { "[gate]\nproduction=false\n[onboarding]\nverifier=abc\n", "unknown setting “verifier” in [onboarding]" },
    /* [factory-data] */
    { "[gate]\nproduction=false\n[factory-data]\naddress=somewhere\n", "[factory-data] address: takes a hex address" },
    { "[gate]\nproduction=false\n[factory-data]\naddress=0x0\n", "[factory-data] address: takes a hex address" },
    { "[gate]\nproduction=false\n[factory-data]\naddress=0x100000000\n", "[factory-data] address: takes a hex address" },
    { "[gate]\nproduction=false\n[factory-data]\nsize=63\n", "[factory-data] size: takes a number from 64 to" },
    { "[gate]\nproduction=false\n[factory-data]\npasscode-tag=maybe\n", "[factory-data] passcode-tag: takes true or false" },
    { "[gate]\nproduction=false\n[factory-data]\nkey=here\n", "unknown setting “key” in [factory-data]" },
    /* [label] */
    { "[gate]\nproduction=false\n[label]\nformat=jpeg\n", "[label] format: takes png, pdf or zpl" },
    { "[gate]\nproduction=false\n[label]\ndirectory=\n", "[label] directory: takes a non-empty value" },
    { "[gate]\nproduction=false\n[label]\ncopies=2\n", "unknown setting “copies” in [label]" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("bad-%zu.profile", i);
      g_autofree char *path = write_file (f, name, cases[i].text);
      g_autoptr(GError) error = NULL;
      g_autoptr(DsProfile) p = ds_profile_load (path, &error);

      g_test_message ("%s → %s", cases[i].text, error != NULL ? error->message : "accepted");
      g_assert_null (p);
      g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
      /* The file is named, and the group and key where there is one. */
      g_assert_nonnull (strstr (error->message, path));
      g_assert_nonnull (strstr (error->message, cases[i].needle));
      g_assert_null (strstr (error->message, "hunter2"));
    }
}

/* ---- production refusals -------------------------------------------------- */

/* The latest configuration record of the fixture's store. */
static char *
last_config_record (Fixture *f)
{
  g_autofree char *db = g_build_filename (f->data_dir, "records.sqlite3", NULL);
  sqlite3 *sql = NULL;
  sqlite3_stmt *stmt = NULL;
  char *message = NULL;

  g_assert_cmpint (sqlite3_open (db, &sql), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (sql, "SELECT message FROM events WHERE kind = 'config-change' ORDER BY id DESC",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  message = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (sql);
  return message;
}

/* Builds a station from @text (a profile, "@TMP@" the fixture's folder)
 * without asking a CA; returns the error. */
static GError *
build_error (Fixture    *f,
             const char *text)
{
  g_autoptr(GString) contents = g_string_new (text);
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(DsProfile) p = NULL;
  g_autoptr(DsStationSetup) setup = NULL;
  g_autoptr(DsStation) station = NULL;

  g_string_replace (contents, "@TMP@", f->tmp, 0);
  path = write_file (f, "run.profile", contents->str);
  p = ds_profile_load (path, &error);
  g_assert_no_error (error);
  setup = ds_station_setup_new (p);
  ds_station_setup_set_data_dir (setup, f->data_dir);
  ds_station_setup_set_contact_ca (setup, FALSE);
  station = ds_station_setup_build (setup, &error);
  if (station != NULL)
    g_assert_no_error (error);
  return g_steal_pointer (&error);
}

#define PRODUCTION_CA "[ca]\nca=est:https://127.0.0.1:9\nuser=station\nca-bundle=@TMP@/good-paa/paa.pem\n"

static void
test_refusals (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *good = g_build_filename (f->tmp, "good-paa", NULL);
  g_autofree char *good_paa = g_build_filename (good, "paa.pem", NULL);
  g_autofree char *test_paa = g_build_filename (f->tmp, "test-paa.pem", NULL);
  g_autofree char *test_cd = g_build_filename (f->tmp, "test-cd.der", NULL);
  g_autofree char *own_cd = g_build_filename (f->tmp, "own-cd.der", NULL);
  const guint8 own_kid[DS_CD_KID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
  const struct {
    const char *text;
    const char *needle;  /* NULL: builds */
  } cases[] = {
    { "[gate]\nproduction=true\n[product]\nvid=1234\npid=0001\n", "Production mode refuses the test CA" },
    { "[gate]\nproduction=true\ntrust-store=@TMP@/good-paa\n[product]\nvid=1234\npid=0001\n[ca]\nca=est:https://127.0.0.1:9\n",
      "authenticated connection to the CA" },
    { "[gate]\nproduction=true\ntrust-store=@TMP@/good-paa\n[product]\nvid=FFF2\npid=0001\n" PRODUCTION_CA, "test vendor ID 0xFFF2" },
    { "[gate]\nproduction=true\ntrust-store=@TMP@/good-paa\n[product]\nvid=1234\npid=8001\n" PRODUCTION_CA, "test product ID 0x8001" },
    { "[gate]\nproduction=true\n[product]\nvid=1234\npid=0001\n" PRODUCTION_CA, "needs a trust store" },
    { "[gate]\nproduction=true\ntrust-store=@TMP@/test-paa.pem\n[product]\nvid=1234\npid=0001\n" PRODUCTION_CA,
      "refuses a trust store that holds test PAAs" },
    { "[gate]\nproduction=true\ntrust-store=@TMP@/good-paa\ncd=@TMP@/test-cd.der\n[product]\nvid=1234\npid=0001\n" PRODUCTION_CA,
      "signed with the Matter test key" },
    /* The same material outside production, and production done right. */
    { "[gate]\nproduction=false\ntrust-store=@TMP@/test-paa.pem\ncd=@TMP@/test-cd.der\n", NULL },
    { "[gate]\nproduction=true\ntrust-store=@TMP@/good-paa\ncd=@TMP@/own-cd.der\n[product]\nvid=1234\npid=0001\n" PRODUCTION_CA, NULL },
  };

  g_assert_cmpint (g_mkdir_with_parents (good, 0700), ==, 0);
  ds_test_make_paa (good_paa, "Acme Production PAA");
  ds_test_make_paa (test_paa, "Matter Test PAA");
  ds_test_make_cd (test_cd, ds_cd_test_kid);
  ds_test_make_cd (own_cd, own_kid);
  g_setenv ("DS_CA_PASSWORD", "not-a-real-password", TRUE);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = build_error (f, cases[i].text);

      g_test_message ("case %zu → %s", i, error != NULL ? error->message : "built");
      if (cases[i].needle == NULL)
        {
          g_assert_no_error (error);
          continue;
        }
      g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
      g_assert_nonnull (strstr (error->message, cases[i].needle));
    }
  g_unsetenv ("DS_CA_PASSWORD");
}

/* A station in production refuses a simulated board before its job
 * starts; the same station takes a serial one. */
static void
test_simulated_board (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *good = g_build_filename (f->tmp, "good-paa", NULL);
  g_autofree char *good_paa = g_build_filename (good, "paa.pem", NULL);
  g_autoptr(GString) contents = g_string_new ("[gate]\nproduction=true\ntrust-store=@TMP@/good-paa\n"
                                              "[product]\nvid=1234\npid=0001\n" PRODUCTION_CA);
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(DsProfile) p = NULL;
  g_autoptr(DsStationSetup) setup = NULL;
  g_autoptr(DsStation) station = NULL;
  g_autoptr(DsBoard) sim = ds_board_new (DS_BOARD_KIND_SIMULATED, "/nonexistent/pts", "sim-0");

  g_assert_cmpint (g_mkdir_with_parents (good, 0700), ==, 0);
  ds_test_make_paa (good_paa, "Acme Production PAA");
  g_setenv ("DS_CA_PASSWORD", "not-a-real-password", TRUE);
  g_string_replace (contents, "@TMP@", f->tmp, 0);
  path = write_file (f, "prod.profile", contents->str);
  p = ds_profile_load (path, &error);
  g_assert_no_error (error);
  setup = ds_station_setup_new (p);
  ds_station_setup_set_data_dir (setup, f->data_dir);
  ds_station_setup_set_contact_ca (setup, FALSE);
  station = ds_station_setup_build (setup, &error);
  g_assert_no_error (error);
  g_assert_true (ds_station_get_options (station)->production);
  /* No CD configured: production installs none, never the built-in test CD. */
  g_assert_null (ds_station_get_options (station)->cd);
  g_assert_false (ds_station_get_options (station)->cd_builtin_test);
  g_assert_null (ds_station_provision (station, sim, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
  g_assert_nonnull (strstr (error->message, "refuses the simulated board sim-0"));
  g_assert_cmpuint (ds_station_get_jobs (station)->len, ==, 0);
  g_unsetenv ("DS_CA_PASSWORD");

  /* The configuration record names the CA's address and the CN form. */
  {
    g_autofree char *db = g_build_filename (f->data_dir, "records.sqlite3", NULL);
    sqlite3 *sql = NULL;
    sqlite3_stmt *stmt = NULL;
    g_autofree char *message = NULL;

    g_assert_cmpint (sqlite3_open (db, &sql), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_prepare_v2 (sql, "SELECT message FROM events WHERE kind = 'config-change' ORDER BY id DESC",
                                         -1, &stmt, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    message = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
    sqlite3_finalize (stmt);
    sqlite3_close (sql);
    g_test_message ("%s", message);
    g_assert_nonnull (strstr (message, "ca EST https://127.0.0.1:9"));
    g_assert_nonnull (strstr (message, "legacy-cn no"));
    g_assert_nonnull (strstr (message, "\ncd none\n"));
  }
}

/* The default profile is today's test run. */
static void
test_default (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(DsProfile) p = ds_profile_new ();
  g_autoptr(DsStationSetup) setup = ds_station_setup_new (p);
  g_autoptr(DsStation) station = NULL;
  g_autoptr(GError) error = NULL;
  const DsJobOptions *o;

  ds_station_setup_set_data_dir (setup, f->data_dir);
  ds_station_setup_set_operator (setup, "alice");
  station = ds_station_setup_build (setup, &error);
  g_assert_no_error (error);
  o = ds_station_get_options (station);
  g_assert_false (o->production);
  g_assert_true (ds_ca_is_test (o->ca));
  g_assert_cmpuint (o->vid, ==, 0xFFF1);
  g_assert_cmpuint (o->pid, ==, 0x8000);
  g_assert_cmpstr (o->operator_id, ==, "alice");
  g_assert_nonnull (o->store);

  /* With the test CA and no CD configured, every board gets the built-in
   * test CD for the product, and the configuration record says so. */
  g_assert_nonnull (o->cd);
  g_assert_true (o->cd_builtin_test);
  {
    g_autoptr(DsVerdict) verdict = ds_verdict_new ();
    g_autoptr(DsCd) cd = ds_cd_parse (o->cd, NULL, verdict);
    g_autofree char *message = last_config_record (f);

    g_assert_nonnull (cd);
    g_assert_true (ds_verdict_is_valid (verdict));
    g_assert_true (cd->signed_by_test_key);
    g_assert_cmpuint (cd->vendor_id, ==, 0xFFF1);
    g_assert_true (ds_cd_has_product (cd, 0x8000));
    g_assert_cmpuint (cd->certification_type, ==, DS_CD_TYPE_DEVELOPMENT);
    g_assert_nonnull (strstr (message, "\ncd built-in test CD sha256 "));
  }
}

/* The CD a test run installs: the built-in one for the profile's product,
 * a configured file instead of it, or none when told "none" (the profile's
 * word and --cd none). */
static void
test_cd_choice (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *own_cd = g_build_filename (f->tmp, "own-cd.der", NULL);
  const guint8 own_kid[DS_CD_KID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
  g_autofree char *own = NULL;
  gsize own_len = 0;
  const struct {
    const char *text;
    const char *cd;        /* "builtin", "own" or NULL */
    const char *record;
  } cases[] = {
    { "[gate]\nproduction=false\n[product]\nvid=FFF1\npid=8001\n", "builtin", "\ncd built-in test CD sha256 " },
    { "[gate]\nproduction=false\ncd=none\n", NULL, "\ncd none\n" },
    { "[gate]\nproduction=false\ncd=own-cd.der\n", "own", "\ncd sha256 " },
  };

  ds_test_make_cd (own_cd, own_kid);
  g_assert_true (g_file_get_contents (own_cd, &own, &own_len, NULL));
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = write_file (f, "run.profile", cases[i].text);
      g_autoptr(GError) error = NULL;
      g_autoptr(DsProfile) p = ds_profile_load (path, &error);
      g_autoptr(DsStationSetup) setup = NULL;
      g_autoptr(DsStation) station = NULL;
      g_autofree char *message = NULL;
      const DsJobOptions *o;

      g_assert_no_error (error);
      setup = ds_station_setup_new (p);
      ds_station_setup_set_data_dir (setup, f->data_dir);
      station = ds_station_setup_build (setup, &error);
      g_assert_no_error (error);
      o = ds_station_get_options (station);
      /* What the GUI says before a station is built is what it gets. */
      g_assert_cmpint (ds_profile_gives_test_cd (p), ==, o->cd_builtin_test);
      message = last_config_record (f);
      g_test_message ("case %zu: %s", i, message);
      g_assert_nonnull (strstr (message, cases[i].record));
      if (cases[i].cd == NULL)
        {
          g_assert_null (o->cd);
          g_assert_false (o->cd_builtin_test);
        }
      else if (g_str_equal (cases[i].cd, "own"))
        {
          g_assert_nonnull (o->cd);
          g_assert_cmpmem (g_bytes_get_data (o->cd, NULL), g_bytes_get_size (o->cd), own, own_len);
          g_assert_false (o->cd_builtin_test);
        }
      else
        {
          g_autoptr(DsVerdict) verdict = ds_verdict_new ();
          g_autoptr(DsCd) cd = ds_cd_parse (o->cd, NULL, verdict);

          g_assert_true (o->cd_builtin_test);
          g_assert_nonnull (cd);
          g_assert_true (ds_verdict_is_valid (verdict));
          g_assert_true (ds_cd_has_product (cd, 0x8001));
        }
    }
}

/* The profile's onboarding settings are what the station's jobs get;
 * a front end's own (the CLI's options) replace them. */
static void
test_onboarding_applied (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *path = write_file (f, "run.profile",
                                      "[gate]\nproduction=false\n[product]\nvendor-name=Acme\n"
                                      "[onboarding]\ndiscriminator=3840\nserial-pattern=ACME-{seq:04}\niterations=1000\n"
                                      "[factory-data]\naddress=0x08070000\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(DsProfile) p = ds_profile_load (path, &error);
  g_autoptr(DsStationSetup) setup = NULL;
  g_autoptr(DsStation) station = NULL;
  g_autoptr(DsOnboardingConfig) over = NULL;
  g_autofree char *message = NULL;
  const DsOnboardingConfig *c;

  g_assert_no_error (error);
  setup = ds_station_setup_new (p);
  ds_station_setup_set_data_dir (setup, f->data_dir);
  station = ds_station_setup_build (setup, &error);
  g_assert_no_error (error);
  c = ds_station_get_options (station)->onboarding;
  g_assert_nonnull (c);
  g_assert_true (c->has_discriminator);
  g_assert_cmpuint (c->discriminator, ==, 3840);
  g_assert_cmpstr (c->serial_pattern, ==, "ACME-{seq:04}");
  g_assert_cmpuint (c->iterations, ==, 1000);
  g_assert_cmpuint (c->fd_address, ==, 0x08070000);
  g_assert_cmpstr (c->vendor_name, ==, "Acme");
  /* The configuration record says what the boards get. */
  message = last_config_record (f);
  g_test_message ("%s", message);
  g_assert_nonnull (strstr (message, "\nonboarding discriminator 3840\n"));
  g_assert_nonnull (strstr (message, "\nonboarding serial-pattern ACME-{seq:04}\n"));
  g_assert_nonnull (strstr (message, "\nfactory-data 0x08070000 "));

  /* Laid over by a front end: its settings, not the profile's. */
  g_clear_object (&station);
  g_clear_object (&setup);
  setup = ds_station_setup_new (p);
  ds_station_setup_set_data_dir (setup, f->data_dir);
  over = ds_onboarding_config_copy (ds_station_setup_get_onboarding (setup));
  over->has_discriminator = FALSE;
  over->discriminator_lo = 10;
  over->discriminator_hi = 20;
  ds_station_setup_set_onboarding (setup, over);
  station = ds_station_setup_build (setup, &error);
  g_assert_no_error (error);
  c = ds_station_get_options (station)->onboarding;
  g_assert_false (c->has_discriminator);
  g_assert_cmpuint (c->discriminator_hi, ==, 20);
  g_assert_cmpstr (c->serial_pattern, ==, "ACME-{seq:04}");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/profile/load-save", Fixture, NULL, fixture_setup, test_load_save, fixture_teardown);
  g_test_add ("/profile/save-new", Fixture, NULL, fixture_setup, test_save_new, fixture_teardown);
  g_test_add ("/profile/onboarding-applied", Fixture, NULL, fixture_setup, test_onboarding_applied, fixture_teardown);
  g_test_add ("/profile/strict", Fixture, NULL, fixture_setup, test_strict, fixture_teardown);
  g_test_add ("/profile/default", Fixture, NULL, fixture_setup, test_default, fixture_teardown);
  g_test_add ("/profile/cd-choice", Fixture, NULL, fixture_setup, test_cd_choice, fixture_teardown);
  g_test_add ("/profile/production-refusals", Fixture, NULL, fixture_setup, test_refusals, fixture_teardown);
  g_test_add ("/profile/simulated-board", Fixture, NULL, fixture_setup, test_simulated_board, fixture_teardown);
  return g_test_run ();
}
