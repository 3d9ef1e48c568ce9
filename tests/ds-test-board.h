/* Boards in the test process for DsJob and DsStation: simulated boards
 * (the firmware core, src/sim/ds-sim-board.c) served in this process, the
 * test CA and a SQLite store in a temporary tree, and job options whose
 * transport factory reaches the boards by name. */
#pragma once

#include "ds-job.h"
#include "ds-sim-board.h"

G_BEGIN_DECLS

typedef struct {
  char         *tmp;
  char         *state;
  char         *announce;
  char         *db;
  GPtrArray    *sims;       /* DsSimBoard */
  GPtrArray    *boards;     /* DsBoard "fake:N", the station's view of sims[N] */
  DsStore      *store;
  DsCa         *ca;
  GRand        *rand;
  DsJobOptions  options;    /* borrows the above */
  gint          n_transports; /* made through the factory */
} DsTestBoards;

/* @n boards, each with @faults (NULL: none) added. */
void     ds_test_boards_setup    (DsTestBoards      *f,
                                  guint              n,
                                  const DsSimFault  *fault);
void     ds_test_boards_teardown (DsTestBoards      *f);
/* Runs the default main context until @job has finished. */
void     ds_test_wait_job        (DsJob             *job);

G_END_DECLS
