/* Helpers shared by the integration tests: temporary trees, the simulator
 * and the CLI as child processes. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

void        ds_test_rm_rf        (const char        *path);
/* Starts @argv, a program that prints "ready" once it serves (the
 * simulator, a hostile board), waits for that line and returns its pid.
 * The child dies with the test process. */
GPid        ds_test_spawn_ready  (const char *const *argv);
/* Starts dac-station-sim ($DS_SIM) with @n_boards and @extra arguments,
 * waits for its "ready" line and returns its pid. */
GPid        ds_test_start_sim    (const char        *state_dir,
                                  const char        *announce_dir,
                                  int                n_boards,
                                  const char *const *extra);
/* SIGTERM (or @signal), then reap; sets *pid to 0. */
void        ds_test_stop         (GPid              *pid,
                                  int                signal);

typedef struct {
  int        exit_status;
  GPtrArray *events;      /* JsonObject, one per JSON output line */
  char      *out;
  char      *err;
} DsCliResult;

void         ds_cli_result_free  (DsCliResult       *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsCliResult, ds_cli_result_free)

/* Runs dac-station-cli ($DS_CLI) with @args, DAC_STATION_SIM_DIR set to
 * @announce_dir, and parses its JSON lines. */
DsCliResult *ds_test_run_cli     (const char        *announce_dir,
                                  const char *const *args);
/* Parses one line of JSON into @events when it is an object. */
void         ds_test_parse_json_line (const char    *line,
                                  GPtrArray         *events);
/* The first event named @event (of @board, when not NULL). */
JsonObject  *ds_test_find_event  (GPtrArray         *events,
                                  const char        *event,
                                  const char        *board);
/* The last outcome event (not "started") of @step of @board. */
JsonObject  *ds_test_find_step   (GPtrArray         *events,
                                  const char        *board,
                                  const char        *step);
/* The closing summary event. */
JsonObject  *ds_test_summary     (DsCliResult       *r);

/* A throwaway PostgreSQL server (tests/pg-server.sh), reachable on a Unix
 * socket in the folder it returns; it is stopped when the test process
 * ends, even by a failed assertion.  NULL with *skip_reason set when no
 * PostgreSQL server is installed. */
char        *ds_test_pg_start    (char             **skip_reason);
/* Stops the server and frees @server. */
void         ds_test_pg_stop     (char              *server);
char        *ds_test_pg_uri      (const char        *server,
                                  const char        *database);
/* Creates a new, empty database on @server and returns its URI. */
char        *ds_test_pg_new_database (const char    *server);

/* How ds_test_der_reencode() writes an element's length. */
enum {
  DS_TEST_DER_MINIMAL,      /* DER */
  DS_TEST_DER_LONG_LENGTH,  /* one byte more than needed: 81 05, 82 00 F0 */
  DS_TEST_DER_INDEFINITE,   /* BER's 80 … 00 00 */
};
/* @der with its outer element (@inner FALSE) or the first element inside
 * it (@inner TRUE) re-encoded with @form; every other byte as it was. */
GBytes      *ds_test_der_reencode (GBytes           *der,
                                   gboolean          inner,
                                   int               form);

G_END_DECLS
