/* Fixture files and board identity: a fixture that could confuse two
 * boards is refused whole, with the slot and the setting named; boards that
 * share a probe serial or a chip UID block each other. */
#include "config.h"

#include <glib/gstdio.h>

#include "ds-board-identity.h"
#include "ds-error.h"
#include "ds-fixture.h"

#define GOOD_FIXTURE \
  "[fixture]\n" \
  "name=Line 3, bed A\n" \
  "rows=2\n" \
  "columns=2\n" \
  "\n" \
  "[slot B2]\n" \
  "path=pci-0000:00:14.0-usb-0:1.4:1.0\n" \
  "row=2\n" \
  "column=2\n" \
  "\n" \
  "[slot A1]\n" \
  "path=/dev/serial/by-path/pci-0000:00:14.0-usb-0:1.1:1.0\n" \
  "row=1\n" \
  "column=1\n" \
  "\n" \
  "[slot A2]\n" \
  "path=pci-0000:00:14.0-usb-0:1.2:1.0\n" \
  "row=1\n" \
  "column=2\n"

static DsFixture *
parse (const char  *text,
       GError     **error)
{
  return ds_fixture_new_from_data (text, strlen (text), "bed-a.fixture", error);
}

static void
test_parse_good (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsFixture) fixture = parse (GOOD_FIXTURE, &error);
  const DsFixtureSlot *slot;

  g_assert_no_error (error);
  g_assert_nonnull (fixture);
  g_assert_cmpstr (ds_fixture_get_name (fixture), ==, "Line 3, bed A");
  g_assert_cmpuint (ds_fixture_get_n_rows (fixture), ==, 2);
  g_assert_cmpuint (ds_fixture_get_n_columns (fixture), ==, 2);
  g_assert_false (ds_fixture_get_allow_unknown (fixture));
  g_assert_cmpuint (ds_fixture_get_n_slots (fixture), ==, 3);

  /* Row, then column order, whatever the file's order. */
  g_assert_cmpstr (ds_fixture_get_slot (fixture, 0)->label, ==, "A1");
  g_assert_cmpstr (ds_fixture_get_slot (fixture, 1)->label, ==, "A2");
  g_assert_cmpstr (ds_fixture_get_slot (fixture, 2)->label, ==, "B2");

  /* A full by-path path and its bare name find the same slot. */
  slot = ds_fixture_lookup_path (fixture, "/dev/serial/by-path/pci-0000:00:14.0-usb-0:1.2:1.0");
  g_assert_nonnull (slot);
  g_assert_cmpstr (slot->label, ==, "A2");
  g_assert_true (ds_fixture_lookup_path (fixture, "pci-0000:00:14.0-usb-0:1.1:1.0") == ds_fixture_get_slot (fixture, 0));
  g_assert_null (ds_fixture_lookup_path (fixture, "pci-0000:00:14.0-usb-0:1.3:1.0"));

  g_assert_true (ds_fixture_lookup_label (fixture, "b2") == ds_fixture_get_slot (fixture, 2));
  g_assert_null (ds_fixture_lookup_label (fixture, "B1"));
  g_assert_true (ds_fixture_lookup_position (fixture, 2, 2) == ds_fixture_get_slot (fixture, 2));
  /* An empty position is an empty slot, not an error. */
  g_assert_null (ds_fixture_lookup_position (fixture, 2, 1));
}

static void
test_unknown_ports (void)
{
  const char *allow = "[fixture]\nname=x\nrows=1\ncolumns=1\nunknown-ports=allow\n"
                      "[slot A1]\npath=usb-1\nrow=1\ncolumn=1\n";
  const char *skip = "[fixture]\nname=x\nrows=1\ncolumns=1\nunknown-ports=skip\n"
                     "[slot A1]\npath=usb-1\nrow=1\ncolumn=1\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(DsFixture) a = parse (allow, &error);
  g_autoptr(DsFixture) s = NULL;

  g_assert_no_error (error);
  g_assert_true (ds_fixture_get_allow_unknown (a));
  s = parse (skip, &error);
  g_assert_no_error (error);
  g_assert_false (ds_fixture_get_allow_unknown (s));
}

static void
test_from_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ds-fixture-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autoptr(DsFixture) fixture = NULL;

  g_assert_no_error (error);
  path = g_build_filename (dir, "bed.fixture", NULL);
  g_assert_true (g_file_set_contents (path, GOOD_FIXTURE, -1, &error));
  fixture = ds_fixture_new_from_file (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ds_fixture_get_n_slots (fixture), ==, 3);
  g_clear_object (&fixture);

  /* A directory is refused, not read. */
  fixture = ds_fixture_new_from_file (dir, &error);
  g_assert_null (fixture);
  g_assert_nonnull (error);
  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

typedef struct {
  const char *name;
  const char *text;
  const char *says[3];   /* every one must appear in the message */
} BadCase;

#define HEAD "[fixture]\nname=Bed\nrows=2\ncolumns=2\n"

static const BadCase bad_cases[] = {
  { "not-a-key-file", "rows=2\n", { "Cannot read the fixture", "bed-a.fixture" } },
  { "no-fixture-group", "[slot A1]\npath=usb-1\nrow=1\ncolumn=1\n", { "no [fixture] group" } },
  { "no-name", "[fixture]\nrows=1\ncolumns=1\n[slot A1]\npath=u\nrow=1\ncolumn=1\n", { "no name" } },
  { "no-rows", "[fixture]\nname=Bed\ncolumns=1\n[slot A1]\npath=u\nrow=1\ncolumn=1\n", { "[fixture] has no rows" } },
  { "rows-zero", "[fixture]\nname=Bed\nrows=0\ncolumns=1\n", { "rows is “0”", "from 1 to 32" } },
  { "rows-huge", "[fixture]\nname=Bed\nrows=1000\ncolumns=1\n", { "rows is “1000”" } },
  { "unknown-ports-bad", "[fixture]\nname=Bed\nrows=1\ncolumns=1\nunknown-ports=maybe\n", { "skip or allow" } },
  { "unknown-fixture-key", HEAD "colour=red\n", { "unknown setting “colour”", "[fixture]" } },
  { "no-slots", HEAD, { "has no slots" } },
  { "unknown-group", HEAD "[slots A1]\npath=u\n", { "unknown group [slots A1]" } },
  { "missing-path", HEAD "[slot A1]\nrow=1\ncolumn=1\n", { "slot A1 has no path" } },
  { "empty-path", HEAD "[slot A1]\npath=\nrow=1\ncolumn=1\n", { "slot A1 has no path" } },
  { "path-with-slash", HEAD "[slot A1]\npath=../../tty\nrow=1\ncolumn=1\n", { "slot A1", "not a name under /dev/serial/by-path" } },
  { "path-claimed-twice", HEAD "[slot A1]\npath=usb-1\nrow=1\ncolumn=1\n[slot A2]\npath=/dev/serial/by-path/usb-1\nrow=1\ncolumn=2\n",
    { "slots A1 and A2 both claim the port usb-1" } },
  { "missing-row", HEAD "[slot A1]\npath=u\ncolumn=1\n", { "[slot A1] has no row" } },
  { "row-not-number", HEAD "[slot A1]\npath=u\nrow=one\ncolumn=1\n", { "[slot A1] row is “one”", "from 1 to 2" } },
  { "row-outside", HEAD "[slot A1]\npath=u\nrow=3\ncolumn=1\n", { "[slot A1] row is “3”" } },
  { "column-negative", HEAD "[slot A1]\npath=u\nrow=1\ncolumn=-1\n", { "[slot A1] column is “-1”" } },
  { "same-position", HEAD "[slot A1]\npath=u1\nrow=1\ncolumn=1\n[slot X]\npath=u2\nrow=1\ncolumn=1\n",
    { "slots A1 and X are both at row 1, column 1" } },
  { "label-too-long", HEAD "[slot ABCDEFGHIJKLMNOPQ]\npath=u\nrow=1\ncolumn=1\n", { "slot label “ABCDEFGHIJKLMNOPQ”" } },
  { "label-empty", HEAD "[slot ]\npath=u\nrow=1\ncolumn=1\n", { "slot label “”" } },
  { "unknown-slot-key", HEAD "[slot A1]\npath=u\nrow=1\ncolumn=1\nserial=123\n", { "[slot A1] has an unknown setting “serial”" } },
  { "escape-in-label", HEAD "[slot A\x1b[31m]\npath=u\nrow=1\ncolumn=1\n", { "\\x1B" } },
};

static void
test_bad (gconstpointer data)
{
  const BadCase *c = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(DsFixture) fixture = parse (c->text, &error);

  g_assert_null (fixture);
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_test_message ("%s: %s", c->name, error->message);
  g_assert_true (g_str_has_prefix (error->message, "bed-a.fixture") || strstr (error->message, "bed-a.fixture") != NULL);
  /* Never the raw escape: a hostile file cannot drive the terminal. */
  g_assert_null (strchr (error->message, '\x1b'));
  for (guint i = 0; i < G_N_ELEMENTS (c->says) && c->says[i] != NULL; i++)
    if (strstr (error->message, c->says[i]) == NULL)
      g_error ("%s: “%s” does not say “%s”", c->name, error->message, c->says[i]);
}

/* ---- identity ------------------------------------------------------------ */

static const guint8 stlink_v2[] = { 0x55, 0xFF, 0x6B, 0x06, 0x49, 0x77, 0x53, 0x51, 0x11, 0x27, 0x06, 0x87 };
static const guint8 stlink_v2_other[] = { 0x55, 0xFF, 0x6B, 0x06, 0x49, 0x77, 0x53, 0x51, 0x11, 0x27, 0x06, 0x88 };

static void
test_identity_distinct (void)
{
  const DsBoardIdentity ids[] = {
    { "A1", (const guint8 *) "0670FF383031", 12, "0028003C3235510F20353836" },
    { "A2", stlink_v2, sizeof stlink_v2, "0028003C3235510F20353837" },
    { "A3", stlink_v2_other, sizeof stlink_v2_other, NULL },
    { "A4", NULL, 0, NULL },
    { "A5", NULL, 0, NULL },
  };
  g_autoptr(GPtrArray) conflicts = ds_board_identity_find_conflicts (ids, G_N_ELEMENTS (ids));

  /* Serials differing only in their last unprintable byte are told apart;
   * boards with no serial and no UID yet are not duplicates of each other. */
  g_assert_cmpuint (conflicts->len, ==, 0);
  g_assert_false (ds_board_identity_is_blocked (conflicts, "A1"));
}

static void
test_identity_duplicate_serial (void)
{
  const DsBoardIdentity ids[] = {
    { "A1", stlink_v2, sizeof stlink_v2, NULL },
    { "A2", (const guint8 *) "066DFF555", 9, NULL },
    { "B3", stlink_v2, sizeof stlink_v2, NULL },
  };
  g_autoptr(GPtrArray) conflicts = ds_board_identity_find_conflicts (ids, G_N_ELEMENTS (ids));
  const DsIdentityConflict *c;
  g_autofree char *text = NULL;

  g_assert_cmpuint (conflicts->len, ==, 1);
  c = g_ptr_array_index (conflicts, 0);
  g_assert_cmpint (c->kind, ==, DS_IDENTITY_CONFLICT_PROBE_SERIAL);
  g_assert_cmpstr (c->slot_a, ==, "A1");
  g_assert_cmpstr (c->slot_b, ==, "B3");
  /* Unprintable bytes are shown as hex, all of them. */
  g_assert_cmpstr (c->value, ==, "55FF6B064977535111270687");
  text = ds_identity_conflict_describe (c);
  g_assert_nonnull (strstr (text, "A1"));
  g_assert_nonnull (strstr (text, "B3"));
  g_assert_nonnull (strstr (text, "55FF6B064977535111270687"));
  /* Both boards wait; the third does not. */
  g_assert_true (ds_board_identity_is_blocked (conflicts, "A1"));
  g_assert_true (ds_board_identity_is_blocked (conflicts, "B3"));
  g_assert_false (ds_board_identity_is_blocked (conflicts, "A2"));
}

static void
test_identity_duplicate_uid (void)
{
  const DsBoardIdentity ids[] = {
    { "A1", (const guint8 *) "S1", 2, "0028003C3235510F20353836" },
    { "A2", (const guint8 *) "S2", 2, "0028003c3235510f20353836" },
    { "A3", (const guint8 *) "S3", 2, "0028003C3235510F20353836" },
  };
  g_autoptr(GPtrArray) conflicts = ds_board_identity_find_conflicts (ids, G_N_ELEMENTS (ids));
  const DsIdentityConflict *c;
  g_autofree char *text = NULL;

  /* One alarm per later board, each naming the first; case does not hide it. */
  g_assert_cmpuint (conflicts->len, ==, 2);
  c = g_ptr_array_index (conflicts, 0);
  g_assert_cmpint (c->kind, ==, DS_IDENTITY_CONFLICT_UID);
  g_assert_cmpstr (c->slot_a, ==, "A1");
  g_assert_cmpstr (c->slot_b, ==, "A2");
  c = g_ptr_array_index (conflicts, 1);
  g_assert_cmpstr (c->slot_a, ==, "A1");
  g_assert_cmpstr (c->slot_b, ==, "A3");
  text = ds_identity_conflict_describe (c);
  g_assert_nonnull (strstr (text, "same chip UID"));
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    g_assert_true (ds_board_identity_is_blocked (conflicts, ids[i].slot));
}

static void
test_identity_format_serial (void)
{
  g_autofree char *ascii = ds_board_identity_format_serial ((const guint8 *) "0670FF383031", 12);
  g_autofree char *raw = ds_board_identity_format_serial (stlink_v2, sizeof stlink_v2);
  g_autofree char *escape = ds_board_identity_format_serial ((const guint8 *) "\x1b[2J", 4);

  g_assert_cmpstr (ascii, ==, "0670FF383031");
  g_assert_cmpstr (raw, ==, "55FF6B064977535111270687");
  g_assert_cmpstr (escape, ==, "1B5B324A");
  g_assert_null (ds_board_identity_format_serial (NULL, 0));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/fixture/parse", test_parse_good);
  g_test_add_func ("/fixture/unknown-ports", test_unknown_ports);
  g_test_add_func ("/fixture/from-file", test_from_file);
  for (gsize i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/fixture/bad/%s", bad_cases[i].name);

      g_test_add_data_func (path, &bad_cases[i], test_bad);
    }
  g_test_add_func ("/fixture/identity/distinct", test_identity_distinct);
  g_test_add_func ("/fixture/identity/duplicate-serial", test_identity_duplicate_serial);
  g_test_add_func ("/fixture/identity/duplicate-uid", test_identity_duplicate_uid);
  g_test_add_func ("/fixture/identity/format-serial", test_identity_format_serial);
  return g_test_run ();
}
