/* dac-station-cli stats, export and audit: reading the records. */
#include "config.h"

#include <inttypes.h>

#include "ds-cli-records.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "ds-audit.h"
#include "ds-cli-common.h"
#include "ds-error.h"
#include "ds-export.h"
#include "ds-report.h"
#include "ds-store-location.h"
#include "ds-store.h"

static char *opt_since;
static char *opt_until;
static char *opt_lot;
static char *opt_operator;
static char *opt_station;

static GOptionEntry filter_entries[] = {
  { "since", 0, 0, G_OPTION_ARG_STRING, &opt_since, N_("Jobs started at or after (2026-11-24 or 2026-11-24T06:00)"), N_("TIME") },
  { "until", 0, 0, G_OPTION_ARG_STRING, &opt_until, N_("Jobs started before"), N_("TIME") },
  { "lot", 0, 0, G_OPTION_ARG_STRING, &opt_lot, N_("Only this lot or work order"), N_("LOT") },
  { "operator", 0, 0, G_OPTION_ARG_STRING, &opt_operator, N_("Only this operator"), N_("ID") },
  { "station", 0, 0, G_OPTION_ARG_STRING, &opt_station, N_("Only this station"), N_("NAME") },
  { NULL }
};

static gboolean
make_filter (GOptionContext *context,
             DsReportFilter *filter,
             int            *exit_code)
{
  memset (filter, 0, sizeof *filter);
  if (opt_since != NULL && !ds_report_parse_time (opt_since, &filter->since_us))
    {
      *exit_code = usage_error (context, _("--since takes a date like 2026-11-24 or 2026-11-24T06:00"));
      return FALSE;
    }
  if (opt_until != NULL && !ds_report_parse_time (opt_until, &filter->until_us))
    {
      *exit_code = usage_error (context, _("--until takes a date like 2026-11-24 or 2026-11-24T22:00"));
      return FALSE;
    }
  filter->lot = opt_lot;
  filter->operator_id = opt_operator;
  filter->station = opt_station;
  return TRUE;
}

/* The store's path or URI, refusing to create a file where there is none
 * (a database server says for itself whether it has the tables). */
static char *
existing_store (void)
{
  g_autofree char *dir = data_dir ();
  g_autofree char *db = store_location ();

  if (!ds_store_location_is_uri (db) && !g_file_test (db, G_FILE_TEST_IS_REGULAR))
    {
      /* --db names the file: say what is wrong with it, not with the data
       * directory. */
      if (opt_db != NULL)
        {
          print_store_problem (db);
          return NULL;
        }
      g_printerr (_("No records in %s yet: provision some boards first, or name the data directory with --data-dir\n"),
                  dir);
      return NULL;
    }
  return g_steal_pointer (&db);
}

static void
json_add_counts (JsonBuilder *b,
                 const char  *name,
                 GPtrArray   *counts)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; i < counts->len; i++)
    {
      DsReportCount *c = g_ptr_array_index (counts, i);

      json_builder_begin_object (b);
      json_add_string (b, "key", c->key);
      json_add_int (b, "count", c->count);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

static void
json_add_groups (JsonBuilder *b,
                 const char  *name,
                 GPtrArray   *groups)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; i < groups->len; i++)
    {
      DsReportGroup *g = g_ptr_array_index (groups, i);

      json_builder_begin_object (b);
      json_add_string (b, "key", g->key);
      json_add_int (b, "boards", g->boards);
      json_add_int (b, "passed", g->passed);
      json_add_int (b, "first_pass", g->first_pass);
      json_builder_set_member_name (b, "first_pass_yield");
      json_builder_add_double_value (b, g->first_pass_yield);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

static void
print_counts (const char *title,
              GPtrArray  *counts)
{
  gint64 max = 1;

  g_print ("\n%s\n", title);
  if (counts->len == 0)
    g_print ("  %s\n", _("none"));
  for (guint i = 0; i < counts->len; i++)
    max = MAX (max, ((DsReportCount *) g_ptr_array_index (counts, i))->count);
  for (guint i = 0; i < counts->len; i++)
    {
      DsReportCount *c = g_ptr_array_index (counts, i);
      int bar = (int) (30 * c->count / max);
      g_autoptr(GString) s = g_string_new (NULL);

      for (int k = 0; k < MAX (bar, 1); k++)
        g_string_append (s, "█");
      g_print ("  %-16s %6" G_GINT64_FORMAT "  %s\n", c->key, c->count, s->str);
    }
}

static void
print_groups (const char *title,
              GPtrArray  *groups)
{
  if (groups->len <= 1)
    return;
  g_print ("\n%s\n", title);
  for (guint i = 0; i < groups->len; i++)
    {
      DsReportGroup *g = g_ptr_array_index (groups, i);

      g_print (_("  %-16s %6" PRId64 " boards  %6" PRId64 " passed  first-pass yield %5.1f %%\n"),
               g->key, g->boards, g->passed, 100 * g->first_pass_yield);
    }
}

int
ds_cli_stats (int    argc,
              char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("— yield statistics from the records"));
  g_autoptr(GError) error = NULL;
  g_autofree char *db = NULL;
  g_autoptr(DsReport) r = NULL;
  DsReportFilter filter;
  int code = EXIT_OK;

  g_option_context_add_main_entries (context, filter_entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, common_entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (!make_filter (context, &filter, &code))
    return code;
  db = existing_store ();
  if (db == NULL)
    return EXIT_USAGE;
  r = ds_report_compute (db, &filter, &error);
  if (r == NULL)
    {
      g_printerr ("%s\n", error->message);
      return EXIT_USAGE;
    }

  if (opt_json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_add_string (b, "event", "stats");
      json_add_int (b, "jobs", r->jobs);
      json_add_int (b, "jobs_unidentified", r->jobs_unidentified);
      json_add_int (b, "boards", r->boards);
      json_add_int (b, "passed", r->boards_passed);
      json_add_int (b, "failed", r->boards_failed);
      json_add_int (b, "first_pass", r->first_pass);
      json_add_int (b, "already_provisioned", r->already_provisioned);
#define DBL(name, v) json_builder_set_member_name (b, name); json_builder_add_double_value (b, v)
      DBL ("first_pass_yield", r->first_pass_yield);
      DBL ("final_yield", r->final_yield);
      DBL ("units_per_hour", r->units_per_hour);
      DBL ("cycle_median_s", r->cycle_median_s);
      DBL ("cycle_p95_s", r->cycle_p95_s);
#undef DBL
      json_add_counts (b, "failures_by_step", r->failures_by_step);
      json_add_counts (b, "failures_by_cause", r->failures_by_cause);
      json_add_groups (b, "by_station", r->by_station);
      json_add_groups (b, "by_lot", r->by_lot);
      json_add_groups (b, "by_operator", r->by_operator);
      json_add_groups (b, "by_day", r->by_day);
      json_add_groups (b, "by_shift", r->by_shift);
      json_builder_end_object (b);
      print_json (b);
      return EXIT_OK;
    }

  g_print (_("Boards attempted   %8" PRId64 "   (%" PRId64 " jobs; %" PRId64 " already provisioned not counted)\n"),
           r->boards, r->jobs, r->already_provisioned);
  g_print (_("Passed             %8" PRId64 "\n"), r->boards_passed);
  g_print (_("Never passed       %8" PRId64 "\n"), r->boards_failed);
  if (r->jobs_unidentified > 0)
    g_print (_("Jobs that never identified a board %" PRId64 "\n"), r->jobs_unidentified);
  g_print (_("First-pass yield   %8.1f %%\n"), 100 * r->first_pass_yield);
  g_print (_("Final yield        %8.1f %%\n"), 100 * r->final_yield);
  g_print (_("Units per hour     %8.1f\n"), r->units_per_hour);
  g_print (_("Cycle time         median %.1f s, p95 %.1f s\n"), r->cycle_median_s, r->cycle_p95_s);
  print_counts (_("Failures by step"), r->failures_by_step);
  print_counts (_("Failures by cause"), r->failures_by_cause);
  print_groups (_("By station"), r->by_station);
  print_groups (_("By lot"), r->by_lot);
  print_groups (_("By operator"), r->by_operator);
  print_groups (_("By day"), r->by_day);
  print_groups (_("By shift (A 06–14, B 14–22, C 22–06)"), r->by_shift);
  return EXIT_OK;
}

/* ---- export ------------------------------------------------------------ */

static char *key_dir_for (const char *db);

/* The audit checkpoint goes with a JSON export of the events: whoever holds
 * the export can later tell whether events were cut off after it. */
static void
export_checkpoint (const char *db)
{
  g_autofree char *keys = key_dir_for (db);
  g_autofree char *dir = keys != NULL ? g_strdup (keys) : ds_audit_default_key_dir (db);
  g_autofree char *path = ds_audit_checkpoint_path (dir, db);
  g_autoptr(GBytes) key = ds_audit_key_load (dir, FALSE, NULL);
  g_autoptr(JsonBuilder) b = NULL;
  g_autofree char *head = NULL;
  gint64 count = 0;

  if (key == NULL || !ds_audit_checkpoint_read (path, key, &count, &head, NULL))
    return;
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_add_string (b, "table", "audit-checkpoint");
  json_add_int (b, "events", count);
  json_add_string (b, "head", head);
  json_builder_end_object (b);
  print_json (b);
}

typedef struct {
  const char *table;
  gboolean    csv;
  gboolean    header_done;
} ExportState;

static gboolean
export_row (const char *const *columns,
            const char *const *values,
            guint               n,
            gpointer            user_data)
{
  ExportState *st = user_data;

  if (st->csv)
    {
      g_autoptr(GString) line = g_string_new (NULL);

      if (!st->header_done)
        {
          ds_export_csv_append_table_row (line, columns, NULL, n);
          st->header_done = TRUE;
        }
      ds_export_csv_append_table_row (line, columns, values, n);
      fputs (line->str, stdout);
    }
  else
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_add_string (b, "table", st->table);
      for (guint i = 0; i < n; i++)
        json_add_string (b, columns[i], values[i]);
      json_builder_end_object (b);
      print_json (b);
    }
  return TRUE;
}

int
ds_cli_export (int    argc,
               char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("— export the records as CSV or JSON lines"));
  gboolean csv = FALSE;
  char *table = NULL;
  GOptionEntry entries[] = {
    { "csv", 0, 0, G_OPTION_ARG_NONE, &csv, N_("CSV (RFC 4180) of one table"), NULL },
    { "table", 't', 0, G_OPTION_ARG_STRING, &table,
      N_("boards, jobs (default), steps, certificates or events; with --json, every table when not given"), N_("TABLE") },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *db = NULL;
  DsReportFilter filter;
  int code = EXIT_OK;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, filter_entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, common_entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (csv == opt_json)
    return usage_error (context, _("Say which format: --csv or --json"));
  if (!make_filter (context, &filter, &code))
    return code;
  if (table != NULL && !g_strv_contains (ds_export_tables, table))
    return usage_error (context, _("--table takes boards, jobs, steps, certificates or events"));
  db = existing_store ();
  if (db == NULL)
    return EXIT_USAGE;

  for (guint i = 0; ds_export_tables[i] != NULL; i++)
    {
      const char *t = ds_export_tables[i];
      ExportState st = { t, csv, FALSE };

      if (table != NULL ? !g_str_equal (t, table) : (csv && !g_str_equal (t, "jobs")))
        continue;
      if (!ds_export_table (db, t, &filter, export_row, &st, &error))
        {
          g_printerr ("%s\n", error->message);
          return EXIT_USAGE;
        }
    }
  if (!csv && (table == NULL || g_str_equal (table, "events")))
    export_checkpoint (db);
  g_free (table);
  return EXIT_OK;
}

/* ---- audit ------------------------------------------------------------- */

/* The folder of the station key: beside a SQLite file; for PostgreSQL,
 * the station's data folder. */
static char *
key_dir_for (const char *db)
{
  return ds_store_location_is_uri (db) ? data_dir () : NULL;
}

static void
print_mark (JsonBuilder       *b,
            const DsAuditMark *m)
{
  g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc (m->time_us / G_USEC_PER_SEC);
  g_autofree char *when = g_date_time_format_iso8601 (t);
  g_auto(GStrv) lines = g_strsplit (m->message != NULL ? m->message : "", "\n", -1);

  if (b != NULL)
    {
      json_builder_begin_object (b);
      json_add_int (b, "event_id", m->event_id);
      json_add_string (b, "kind", m->kind);
      json_add_string (b, "time", when);
      for (guint i = 0; lines[i] != NULL; i++)
        {
          g_auto(GStrv) kv = g_strsplit (lines[i], " ", 2);

          if (g_strv_length (kv) == 2 && g_strv_contains ((const char *const[]) { "operator", "reason", NULL }, kv[0]))
            json_add_string (b, kv[0], kv[1]);
          else if (g_str_has_prefix (lines[i], "broken at "))
            json_add_string (b, "acknowledged", lines[i]);
        }
      if (g_str_equal (m->kind, DS_AUDIT_ANCHOR))
        json_add_string (b, "message", m->message);
      json_builder_end_object (b);
      return;
    }
  if (g_str_equal (m->kind, DS_AUDIT_ANCHOR))
    {
      g_print (_("  event %" PRId64 ", %s: the keyed chain begins (%s)\n"), m->event_id, when, m->message);
      return;
    }
  g_print (_("  event %" PRId64 ", %s: a break acknowledged\n"), m->event_id, when);
  for (guint i = 1; lines[i] != NULL; i++)
    g_print ("    %s\n", lines[i]);
}

static int
audit_verify (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *db = NULL;
  g_autofree char *keys = NULL;
  DsAuditResult r;
  gboolean intact;

  db = existing_store ();
  if (db == NULL)
    return EXIT_USAGE;
  keys = key_dir_for (db);
  /* Read-only: verification never writes, nor creates a table. */
  if (!ds_audit_verify_path (db, keys, &r, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_USAGE;
    }
  intact = r.broken_id == 0;
  if (opt_json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_add_string (b, "event", "audit");
      json_builder_set_member_name (b, "intact");
      json_builder_add_boolean_value (b, intact);
      json_add_int (b, "events", r.n_events);
      json_builder_set_member_name (b, "keyed");
      json_builder_add_boolean_value (b, r.keyed);
      json_add_int (b, "unkeyed_events", r.keyed ? r.n_unkeyed : r.n_events);
      if (r.head_hash != NULL)
        json_add_string (b, "head", r.head_hash);
      if (r.has_checkpoint)
        {
          json_builder_set_member_name (b, "checkpoint");
          json_builder_begin_object (b);
          json_add_int (b, "events", r.checkpoint_count);
          json_add_string (b, "head", r.checkpoint_head);
          json_builder_end_object (b);
        }
      if (!intact)
        {
          json_add_int (b, "broken_at", r.broken_id);
          json_add_string (b, "reason", r.reason);
        }
      json_builder_set_member_name (b, "marks");
      json_builder_begin_array (b);
      for (guint i = 0; r.marks != NULL && i < r.marks->len; i++)
        print_mark (b, g_ptr_array_index (r.marks, i));
      json_builder_end_array (b);
      json_builder_end_object (b);
      print_json (b);
    }
  else
    {
      if (intact)
        g_print (_("The audit chain is intact: %" PRId64 " events.\n"), r.n_events);
      else
        g_print (_("The audit chain is broken at event %" PRId64 ": %s.\n"), r.broken_id, r.reason);
      if (!r.keyed)
        g_print (_("It is not keyed yet: it was written before this station version, which keys it when it "
                   "next writes to it.\n"));
      else if (r.n_unkeyed > 0)
        g_print (_("The first %" PRId64 " events were written before the chain was keyed.\n"), r.n_unkeyed);
      if (r.has_checkpoint)
        g_print (_("Checkpoint beside the station key: %" PRId64 " events.\n"), r.checkpoint_count);
      for (guint i = 0; r.marks != NULL && i < r.marks->len; i++)
        print_mark (NULL, g_ptr_array_index (r.marks, i));
    }
  ds_audit_result_clear (&r);
  return intact ? EXIT_OK : EXIT_FAILED;
}

static int
audit_acknowledge (GOptionContext *context,
                   const char     *reason,
                   const char     *operator_id)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *db = NULL;
  g_autofree char *keys = NULL;
  g_autoptr(DsStore) store = NULL;
  gint64 id;

  if (reason == NULL || *reason == '\0' || operator_id == NULL || *operator_id == '\0')
    return usage_error (context, _("audit acknowledge needs --reason TEXT and --operator NAME"));
  db = existing_store ();
  if (db == NULL)
    return EXIT_USAGE;
  keys = key_dir_for (db);
  store = ds_store_open_full (db, keys, DS_STORE_OPEN_ACKNOWLEDGE, &error);
  if (store == NULL)
    {
      g_printerr ("%s\n", error->message);
      return EXIT_USAGE;
    }
  id = ds_store_acknowledge_audit (store, operator_id, reason, &error);
  if (id < 0)
    {
      g_printerr ("%s\n", error->message);
      return g_error_matches (error, DS_ERROR, DS_ERROR_REJECTED) ? EXIT_FAILED : EXIT_USAGE;
    }
  if (opt_json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_add_string (b, "event", "audit-acknowledged");
      json_add_int (b, "event_id", id);
      json_builder_end_object (b);
      print_json (b);
    }
  else
    g_print (_("Acknowledged as event %" PRId64 ": the station records again, and audit verify shows it.\n"), id);
  return EXIT_OK;
}

int
ds_cli_audit (int    argc,
              char **argv)
{
  g_autoptr(GOptionContext) context =
    g_option_context_new (_("verify|acknowledge — check the audit chain, or acknowledge a break"));
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *operator_id = NULL;
  GOptionEntry entries[] = {
    { "reason", 0, 0, G_OPTION_ARG_STRING, &reason, N_("acknowledge: what was found and done"), N_("TEXT") },
    { "operator", 0, 0, G_OPTION_ARG_STRING, &operator_id, N_("acknowledge: the engineer who checked"), N_("NAME") },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, common_entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (argc == 2 && g_str_equal (argv[1], "verify"))
    {
      if (reason != NULL || operator_id != NULL)
        return usage_error (context, _("--reason and --operator go with audit acknowledge"));
      return audit_verify ();
    }
  if (argc == 2 && g_str_equal (argv[1], "acknowledge"))
    return audit_acknowledge (context, reason, operator_id);
  return usage_error (context, _("Usage: dac-station-cli audit verify, or dac-station-cli audit acknowledge "
                                 "--reason TEXT --operator NAME"));
}
