/* Helpers shared by the integration tests: temporary trees, the simulator
 * and the CLI as child processes. */
#pragma once

#include <json-glib/json-glib.h>
#include <openssl/evp.h>

#include "ds-simulator.h"
#include "ds-store.h"

G_BEGIN_DECLS

/* Removes @path and everything under it (ds_util_remove_tree()). */
void        ds_test_rm_rf        (const char        *path);

/* The temporary tree every integration test works in: one fresh folder
 * holding the station's data, the simulated boards' state and the folder
 * where the simulator announces its boards.  Embed it in a test's fixture
 * (or use it as the fixture) and call setup and teardown from the
 * fixture's. */
typedef struct {
  char  *tmp;           /* the tree, removed at teardown */
  char  *data_dir;      /* tmp/data: the station's data folder */
  char  *state_dir;     /* tmp/boards: the simulated boards' state */
  char  *announce_dir;  /* tmp/announce: where the simulator announces them */
  GPid   sim_pid;       /* the running simulator, or 0 */
} DsTestTree;

/* Makes the tree (announce_dir exists); @data is ignored, so both fit
 * g_test_add() directly when the tree is the whole fixture. */
void        ds_test_tree_setup     (DsTestTree        *tree,
                                    gconstpointer      data);
/* Stops the simulator, removes the tree and frees the paths. */
void        ds_test_tree_teardown  (DsTestTree        *tree,
                                    gconstpointer      data);
/* A file name in the tree. */
char       *ds_test_tree_path      (DsTestTree        *tree,
                                    const char        *name);
/* Starts dac-station-sim with @n_boards and @extra arguments on the tree's
 * folders (ds_test_start_sim()); the tree must have none running. */
void        ds_test_tree_start_sim (DsTestTree        *tree,
                                    int                n_boards,
                                    const char *const *extra);
/* The same at @baud (0: no limit) with the NULL-terminated @faults
 * ("INDEX:KIND[:ARG]", each given as --fault). */
void        ds_test_tree_start_sim_with_faults (DsTestTree         *tree,
                                                int                 n_boards,
                                                guint               baud,
                                                const char * const *faults);
/* Stops the tree's simulator, if one runs; its boards' state stays. */
void        ds_test_tree_stop_sim  (DsTestTree        *tree);

/* Starts @argv, a program that prints "ready" once it serves (the
 * simulator, a hostile board), waits for that line and returns its pid.
 * The child dies with the test process (ds_simulator_spawn()). */
GPid        ds_test_spawn_ready  (const char *const *argv);
/* Starts dac-station-sim ($DS_SIM) with @n_boards, "--seed 7" and @extra
 * arguments through a DsSimulator, waits for its "ready" line and returns
 * its pid. */
GPid        ds_test_start_sim    (const char        *state_dir,
                                  const char        *announce_dir,
                                  int                n_boards,
                                  const char *const *extra);
/* SIGTERM (or @signal), then reap; sets *pid to 0.  Works on the pids
 * the functions above return and on any other child not yet reaped. */
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

/* Iterates the default main context until @cond returns TRUE; fails the
 * test after @timeout_s seconds.  Wakes up now and then without an event,
 * for conditions other threads or processes make true. */
void         ds_test_wait_until  (gboolean         (*cond) (gpointer data),
                                  gpointer          data,
                                  guint             timeout_s,
                                  const char       *what);
/* The same, returning the last value of @cond instead of failing. */
gboolean     ds_test_try_wait_until (gboolean      (*cond) (gpointer data),
                                  gpointer          data,
                                  guint             timeout_s);

/* ---- the record store on either backend ----------------------------- */

/* 1 in the test programs built for PostgreSQL (meson passes -DDS_TEST_PG=1),
 * 0 in the others. */
#ifndef DS_TEST_PG
#define DS_TEST_PG 0
#endif

/* Chooses this program's record store backend: PostgreSQL when @postgres
 * (the programs built with DS_TEST_PG), else SQLite, and names its tests
 * @prefix ("/store") or @prefix-pg ("/store-pg").  For PostgreSQL it starts
 * a throwaway server; when none is installed it adds one skipped test and
 * returns FALSE: then add no other test, just ds_test_backend_run(). */
gboolean     ds_test_backend_init (gboolean         postgres,
                                   const char      *prefix);
gboolean     ds_test_backend_is_postgres (void);
/* The test path @path under this backend's prefix ("/schema" →
 * "/store-pg/schema"); an interned string. */
const char  *ds_test_backend_path (const char      *path);
/* Where a new, empty store goes: @sqlite_path itself on SQLite, a new
 * database's URI on PostgreSQL. */
char        *ds_test_backend_new_store (const char *sqlite_path);
/* g_test_run(), then stops the server; returns g_test_run()'s status. */
int          ds_test_backend_run  (void);

/* A fixture with a fresh, open record store on this program's backend: a
 * SQLite file in a folder that does not exist yet (the store makes it), or
 * a new PostgreSQL database. */
typedef struct {
  char    *tmp;    /* a temporary folder, removed at teardown */
  char    *path;   /* the store's file, or its URI */
  DsStore *store;
} DsTestStore;

void         ds_test_store_setup  (DsTestStore     *f,
                                   gconstpointer    data);
void         ds_test_store_teardown (DsTestStore   *f,
                                   gconstpointer    data);

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

/* A minimal X.509 v3 certificate for @key, named CN=@cn, with @serial,
 * valid for an hour and signed by @issuer (which may be @key): DER. */
GBytes      *ds_test_make_cert   (EVP_PKEY          *key,
                                  EVP_PKEY          *issuer,
                                  const char        *cn,
                                  long               serial);

/* A self-signed PAA named CN=@cn (CA, keyCertSign, a SKID), PEM at @path. */
void         ds_test_make_paa    (const char        *path,
                                  const char        *cn);
/* A development CD for vendor 0x1234, product 0x0001, signed by a throwaway
 * key under the key identifier @kid (ds_cd_test_kid: the Matter test CD
 * key's), DER at @path. */
void         ds_test_make_cd     (const char        *path,
                                  const guint8      *kid);

G_END_DECLS
