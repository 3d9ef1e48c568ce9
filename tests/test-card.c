/* DsBoardCard renders a job it did not see run: a re-plugged board's card
 * gets its last job back, step messages and all. */
#include "config.h"

#include <gtk/gtk.h>
#include <string.h>

#include "ds-board-card.h"
#include "ds-step-strip.h"
#include "ds-test-board.h"

static void
collect_strips (GtkWidget *widget,
                gpointer   data)
{
  GPtrArray *strips = data;

  if (DS_IS_STEP_STRIP (widget))
    g_ptr_array_add (strips, widget);
  else if (GTK_IS_CONTAINER (widget))
    gtk_container_forall (GTK_CONTAINER (widget), collect_strips, strips);
}

static void
done_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  gboolean *done = user_data;

  ds_job_run_finish (DS_JOB (object), result, NULL);
  *done = TRUE;
}

static void
test_replugged_card (void)
{
  DsTestBoards boards = { 0 };
  g_autoptr(DsJob) job = NULL;
  g_autoptr(GPtrArray) strips = g_ptr_array_new ();
  g_autoptr(DsBoard) replugged = NULL;
  DsBoardCard *card;
  gboolean done = FALSE;

  ds_test_boards_setup (&boards, 1, NULL);
  job = ds_job_new (g_ptr_array_index (boards.boards, 0), &boards.options);
  ds_job_run_async (job, NULL, done_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (ds_job_get_state (job), ==, DS_JOB_STATE_PASSED);

  /* The board comes back as a new DsBoard; its card is new too. */
  replugged = ds_board_new (DS_BOARD_KIND_SIMULATED, "fake:0", "fake-0");
  card = g_object_ref_sink (ds_board_card_new (replugged));
  ds_board_card_set_job (card, job);
  collect_strips (GTK_WIDGET (card), strips);
  g_assert_cmpuint (strips->len, ==, 1);
  for (DsStep step = 0; step < DS_N_STEPS; step++)
    {
      g_autofree char *tooltip = ds_step_strip_dup_tooltip (strips->pdata[0], step);

      g_test_message ("%s: %s", ds_step_to_string (step), tooltip);
      g_assert_cmpstr (ds_step_strip_get_outcome (strips->pdata[0], step), ==, ds_job_get_step_outcome (job, step));
      if (ds_job_get_step_message (job, step) != NULL)
        g_assert_nonnull (strstr (tooltip, ds_job_get_step_message (job, step)));
    }
  g_assert_nonnull (ds_job_get_step_message (job, DS_STEP_CONNECT));
  gtk_widget_destroy (GTK_WIDGET (card));
  g_object_unref (card);
  /* The job holds the store: it goes before the tree it is in. */
  g_clear_object (&job);
  ds_test_boards_teardown (&boards);
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/card/replugged", test_replugged_card);
  return g_test_run ();
}
