/* Boards in the test process for DsJob and DsStation (ds-test-board.h). */
#include "config.h"

#include "ds-test-board.h"

#include <glib/gstdio.h>

#include "ds-pty-transport.h"
#include "ds-test-ca.h"
#include "ds-test-util.h"

/* The transport seam: "fake:N" is the in-process simulated board N. */
static DsTransport *
fake_transport (DsBoard  *board,
                gpointer  user_data)
{
  DsTestBoards *f = user_data;
  const char *port = ds_board_get_port (board);
  guint64 index = 0;

  g_assert_true (g_str_has_prefix (port, "fake:"));
  g_assert_true (g_ascii_string_to_unsigned (port + 5, 10, 0, f->sims->len - 1, &index, NULL));
  g_atomic_int_inc (&f->n_transports);
  return DS_TRANSPORT (ds_pty_transport_new (ds_sim_board_get_port (g_ptr_array_index (f->sims, index))));
}

void
ds_test_boards_setup (DsTestBoards     *f,
                      guint             n,
                      const DsSimFault *fault)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pki = NULL;
  DsSimBoardConfig config = { .fw_version = "1.0.0-sim" };

  f->tmp = g_dir_make_tmp ("ds-test-job-XXXXXX", &error);
  g_assert_no_error (error);
  f->state = g_build_filename (f->tmp, "state", NULL);
  f->announce = g_build_filename (f->tmp, "announce", NULL);
  f->db = g_build_filename (f->tmp, "records.sqlite3", NULL);
  pki = g_build_filename (f->tmp, "pki", NULL);
  g_assert_cmpint (g_mkdir_with_parents (f->state, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (f->announce, 0700), ==, 0);
  f->rand = g_rand_new_with_seed (16);
  f->sims = g_ptr_array_new_with_free_func (g_object_unref);
  f->boards = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < n; i++)
    {
      DsSimBoard *sim = ds_sim_board_new (i, f->state, &config, f->rand, &error);
      g_autofree char *port = g_strdup_printf ("fake:%u", i);
      g_autofree char *name = g_strdup_printf ("fake-%u", i);

      g_assert_no_error (error);
      if (fault != NULL)
        ds_sim_board_add_fault (sim, fault);
      g_assert_true (ds_sim_board_start (sim, f->announce, &error));
      g_assert_no_error (error);
      g_ptr_array_add (f->sims, sim);
      g_ptr_array_add (f->boards, ds_board_new (DS_BOARD_KIND_SIMULATED, port, name));
    }
  f->store = ds_store_open (f->db, &error);
  g_assert_no_error (error);
  f->ca = DS_CA (ds_test_ca_new (pki, &error));
  g_assert_no_error (error);

  f->options.store = f->store;
  f->options.ca = f->ca;
  f->options.vid = 0xFFF1;
  f->options.pid = 0x8000;
  f->options.operator_id = (char *) "tester";
  f->options.lot = (char *) "L1";
  f->options.station_name = (char *) "test-job";
  f->options.certs_dir = g_build_filename (f->tmp, "certs", NULL);
  f->options.transport_factory = fake_transport;
  f->options.transport_factory_data = f;
}

void
ds_test_boards_teardown (DsTestBoards *f)
{
  for (guint i = 0; i < f->sims->len; i++)
    ds_sim_board_stop (g_ptr_array_index (f->sims, i));
  g_clear_pointer (&f->sims, g_ptr_array_unref);
  g_clear_pointer (&f->boards, g_ptr_array_unref);
  g_clear_object (&f->store);
  g_clear_object (&f->ca);
  g_clear_pointer (&f->rand, g_rand_free);
  g_free (f->options.certs_dir);
  ds_test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->state);
  g_free (f->announce);
  g_free (f->db);
}

static gboolean
job_is_finished (DsJob *job)
{
  DsJobState state = ds_job_get_state (job);

  return state != DS_JOB_STATE_QUEUED && state != DS_JOB_STATE_RUNNING;
}

void
ds_test_wait_job (DsJob *job)
{
  while (!job_is_finished (job))
    g_main_context_iteration (NULL, TRUE);
}
