/* Yield figures read from the record store: passed, failed, first-pass
 * yield, final yield and units per hour, over a time window and optional
 * station / lot / operator filters.  Read-only, on its own connection. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* Which jobs count.  Strings may be NULL (no filter); times are unix
 * microseconds of the job's start, 0 for no bound. */
typedef struct {
  gint64      since_us;
  gint64      until_us;
  const char *station;
  const char *lot;
  const char *operator_id;
} DsStatsFilter;

/* Jobs count by their recorded outcome.  Boards count by UID: a board is
 * "attempted" when it has at least one passed, failed or interrupted job in
 * the window; cancelled jobs and boards found already provisioned are not
 * attempts.  A board has passed when a job of it passed, or when the records
 * hold its installed DAC and a job saw it locked (its lock step passed, or
 * it was found locked and proven so), however that job ended.  A job that
 * failed before the board said its UID is no board's: it is counted in
 * jobs_unidentified. */
typedef struct {
  gint64 passed;               /* jobs that passed */
  gint64 failed;               /* jobs that failed */
  gint64 already_provisioned;  /* jobs that found the board locked */
  gint64 cancelled;
  gint64 interrupted;
  gint64 boards;               /* boards attempted */
  gint64 boards_first_pass;    /* boards whose first attempt passed */
  gint64 boards_passed;        /* boards with a passed job */
  gint64 first_started_us;     /* earliest start among the jobs, 0 if none */
  gint64 last_finished_us;     /* latest end among the jobs, 0 if none */
  gint64 jobs_unidentified;    /* failed or interrupted jobs that never identified a board */
} DsStatsSummary;

/* boards_first_pass / boards, from 0 to 1; a negative value when no board
 * was attempted. */
double   ds_stats_summary_first_pass_yield (const DsStatsSummary *summary);
/* boards_passed / boards; negative when no board was attempted. */
double   ds_stats_summary_final_yield      (const DsStatsSummary *summary);
/* Passed units per hour from @start_us (the shift's start, or when 0 the
 * first job's start) to @now_us; 0 when that span is empty. */
double   ds_stats_summary_units_per_hour   (const DsStatsSummary *summary,
                                            gint64                start_us,
                                            gint64                now_us);

#define DS_TYPE_STATS (ds_stats_get_type ())
G_DECLARE_FINAL_TYPE (DsStats, ds_stats, DS, STATS, GObject)

/* Opens the record store at @path read-only.  The queries are safe to run
 * from any one thread at a time. */
DsStats  *ds_stats_open          (const char          *path,
                                  GError             **error);
gboolean  ds_stats_query_summary (DsStats             *self,
                                  const DsStatsFilter *filter,
                                  DsStatsSummary      *summary,
                                  GError             **error);

G_END_DECLS
