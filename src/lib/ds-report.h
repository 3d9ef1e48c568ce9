/* Yield statistics from the record store: first-pass and final yield,
 * failures by step and cause, units per hour, cycle times, per group. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  gint64      since_us;     /* jobs started at or after; 0: no bound */
  gint64      until_us;     /* jobs started before; 0: no bound */
  const char *lot;
  const char *operator_id;
  const char *station;
} DsReportFilter;

/* One finished job, as the report needs it. */
typedef struct {
  gint64      id;
  const char *board_uid;    /* NULL when the board never identified itself */
  const char *station;
  const char *lot;
  const char *operator_id;
  gint64      started_us;
  gint64      finished_us;
  const char *outcome;      /* passed, failed, cancelled, interrupted, already-provisioned */
  const char *failed_step;
  const char *error_code;
  /* The job passed, or saw its board locked (its lock step passed, or it
   * found the board locked and proved it) while the records hold the
   * board's installed DAC: the board has passed, whatever the job's own
   * end record says (a crash, a full disk, a busy port after LOCK). */
  gboolean    board_passed;
} DsReportJob;

typedef struct {
  char   *key;
  gint64  count;
} DsReportCount;

typedef struct {
  char   *key;
  gint64  boards;
  gint64  passed;
  gint64  first_pass;
  double  first_pass_yield;
} DsReportGroup;

/* One time bucket of the units-per-hour trend: boards whose first passing
 * job finished in [start_us, end_us). */
typedef struct {
  gint64  start_us;
  gint64  end_us;
  gint64  passed;
  double  units_per_hour;          /* passed per hour of the bucket's width */
} DsReportBucket;

/* At most this many buckets in a trend: the width grows to fit. */
#define DS_REPORT_TREND_MAX_BUCKETS 24

typedef struct {
  gint64     jobs;                 /* attempts (already-provisioned boards are not attempts) */
  gint64     jobs_unidentified;    /* attempts that failed before the board said its UID: no board's */
  gint64     boards;               /* boards attempted, by UID */
  gint64     boards_passed;        /* boards attempted with a job that has board_passed */
  gint64     boards_failed;        /* boards attempted that never passed */
  gint64     first_pass;           /* boards whose first attempt has board_passed */
  gint64     already_provisioned;  /* jobs that found a provisioned board */
  double     first_pass_yield;     /* first_pass / boards, 0 when no boards */
  double     final_yield;          /* boards_passed / boards */
  double     units_per_hour;       /* boards_passed per hour from first start to last finish */
  double     cycle_median_s;       /* passed jobs, nearest rank */
  double     cycle_p95_s;
  GPtrArray *failures_by_step;     /* DsReportCount, most first */
  GPtrArray *failures_by_cause;    /* DsReportCount, by error code, most first */
  GPtrArray *by_station;           /* DsReportGroup, by key */
  GPtrArray *by_lot;
  GPtrArray *by_operator;
  GPtrArray *by_day;               /* local date of a board's first attempt */
  GPtrArray *by_shift;             /* A 06–14, B 14–22, C 22–06, local time */
  GArray    *trend;                /* DsReportBucket, oldest first, empty buckets included */
  gint64     trend_bucket_us;      /* width of a bucket: 1 min … 1 week, 0 when no board passed */
} DsReport;

void      ds_report_free          (DsReport             *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsReport, ds_report_free)

/* Pure: the report of @jobs (in any order). */
DsReport *ds_report_compute_jobs  (const DsReportJob    *jobs,
                                   gsize                 n_jobs);
/* Reads the finished jobs matching @filter from the store at @db_path
 * (read-only) and computes their report. */
DsReport *ds_report_compute       (const char           *db_path,
                                   const DsReportFilter *filter,
                                   GError              **error);
/* The bucket width a trend over @span_us uses: the smallest of 1, 2, 5, 10,
 * 15, 30 minutes, 1, 2, 3, 4, 6, 12 hours, 1, 2 days or whole weeks that
 * keeps it within DS_REPORT_TREND_MAX_BUCKETS. */
gint64    ds_report_trend_bucket_for (gint64          span_us);
/* Parses "2026-11-24", "2026-11-24T08:00:00" (local time) or a full
 * ISO 8601 time with zone, into unix microseconds. */
gboolean  ds_report_parse_time    (const char           *text,
                                   gint64               *out_us);
const char *ds_report_shift_for   (gint64                time_us);

G_END_DECLS
