/* DsBoardCard renders a job it did not see run: a re-plugged board's card
 * gets its last job back, step messages and all. */
#include "config.h"

#include <gtk/gtk.h>
#include <string.h>

#include "ds-board-card.h"
#include "ds-step-strip.h"
#include "ds-test-board.h"
#include "ds-test-util.h"

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

/* One board, and a job that provisioned it: passed. */
static DsJob *
passed_job (DsTestBoards *boards)
{
  DsJob *job;
  gboolean done = FALSE;

  ds_test_boards_setup (boards, 1, NULL);
  job = ds_job_new (g_ptr_array_index (boards->boards, 0), &boards->options);
  ds_job_run_async (job, NULL, done_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (ds_job_get_state (job), ==, DS_JOB_STATE_PASSED);
  return job;
}

static void
test_replugged_card (void)
{
  DsTestBoards boards = { 0 };
  g_autoptr(DsJob) job = NULL;
  g_autoptr(GPtrArray) strips = g_ptr_array_new ();
  g_autoptr(DsBoard) replugged = NULL;
  DsBoardCard *card;

  job = passed_job (&boards);

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

static gboolean
widget_mapped (gpointer data)
{
  return gtk_widget_get_mapped (data);
}

static gboolean
card_rendered (gpointer data)
{
  return ds_board_card_is_rendered (data);
}

/* A card on screen shows a new job in a frame, within the cards' budget
 * of renders a frame, not at once; its status is the job's at once, and
 * its getters render what waits first. */
static void
test_render_in_frame (void)
{
  DsTestBoards boards = { 0 };
  g_autoptr(DsJob) job = NULL;
  DsBoardCard *card;
  GtkWidget *window, *flowbox;

  job = passed_job (&boards);

  window = gtk_window_new (GTK_WINDOW_TOPLEVEL);
  flowbox = gtk_flow_box_new ();
  gtk_container_add (GTK_CONTAINER (window), flowbox);
  card = ds_board_card_new (g_ptr_array_index (boards.boards, 0));
  gtk_container_add (GTK_CONTAINER (flowbox), GTK_WIDGET (card));
  gtk_widget_show_all (window);
  ds_test_wait_until (widget_mapped, card, 10, "the card is shown");
  g_assert_cmpstr (ds_board_card_get_headline (card), ==, "Ready");

  ds_board_card_set_job (card, job);
  g_assert_cmpint (ds_board_card_get_status (card), ==, DS_CARD_STATUS_PASSED);
  g_assert_false (ds_board_card_is_rendered (card));
  ds_test_wait_until (card_rendered, card, 10, "the card renders its job");

  /* A getter renders a change that waits for its frame. */
  ds_board_card_set_job (card, NULL);
  g_assert_false (ds_board_card_is_rendered (card));
  g_assert_cmpstr (ds_board_card_get_headline (card), ==, "Ready");
  g_assert_true (ds_board_card_is_rendered (card));
  ds_board_card_set_job (card, job);
  g_assert_cmpstr (ds_board_card_get_headline (card), ==, "PASS");

  gtk_widget_destroy (window);
  g_clear_object (&job);
  ds_test_boards_teardown (&boards);
}

/* Frame by frame: how many of two cards rendered their job by each
 * frame's end. */
typedef struct {
  DsBoardCard  *cards[2];
  GtkWidget    *window;
  DsJob        *job;
  gint64        first;        /* the frame the test acted in */
  guint         rendered_at[4];
} Frames;

/* In a frame's update phase, as the window shows a card. */
static gboolean
act_tick_cb (GtkWidget     *widget,
             GdkFrameClock *clock,
             gpointer       data)
{
  Frames *fr = data;

  fr->first = gdk_frame_clock_get_frame_counter (clock);
  /* None in this frame, one in the next. */
  ds_board_card_reserve_frame (clock, fr->first, 0);
  ds_board_card_reserve_frame (clock, fr->first + 1, 1);
  g_assert_true (ds_board_card_frame_is_free (clock));
  ds_board_card_set_job (fr->cards[0], fr->job);
  ds_board_card_set_job (fr->cards[1], fr->job);
  return G_SOURCE_REMOVE;
}

static void
frame_end_cb (GdkFrameClock *clock,
              Frames        *fr)
{
  gint64 i = gdk_frame_clock_get_frame_counter (clock) - fr->first;

  if (fr->first == 0 || i < 0 || i >= 4)
    return;
  fr->rendered_at[i] = ds_board_card_is_rendered (fr->cards[0]) + ds_board_card_is_rendered (fr->cards[1]);
}

static gboolean
four_frames_seen (gpointer data)
{
  Frames *fr = data;

  return fr->first != 0 && gdk_frame_clock_get_frame_counter (gtk_widget_get_frame_clock (fr->window)) >= fr->first + 4;
}

/* A frame that shows a new card renders no card's job; the one that draws
 * it renders one, but not a new verdict, which takes a whole frame's
 * budget (two): the frames after render one verdict each. */
static void
test_reserved_frames (void)
{
  DsTestBoards boards = { 0 };
  g_autoptr(DsJob) job = NULL;
  Frames fr = { 0 };
  GtkWidget *flowbox;
  GdkFrameClock *clock;

  job = passed_job (&boards);
  fr.job = job;

  fr.window = gtk_window_new (GTK_WINDOW_TOPLEVEL);
  flowbox = gtk_flow_box_new ();
  gtk_container_add (GTK_CONTAINER (fr.window), flowbox);
  for (guint i = 0; i < 2; i++)
    {
      fr.cards[i] = ds_board_card_new (g_ptr_array_index (boards.boards, 0));
      gtk_container_add (GTK_CONTAINER (flowbox), GTK_WIDGET (fr.cards[i]));
    }
  gtk_widget_show_all (fr.window);
  ds_test_wait_until (widget_mapped, fr.cards[1], 10, "the window is shown");
  /* Whatever the first frames draw. */
  for (gint64 until = g_get_monotonic_time () + 200000; g_get_monotonic_time () < until;)
    g_main_context_iteration (NULL, FALSE);

  clock = gtk_widget_get_frame_clock (fr.window);
  g_signal_connect (clock, "after-paint", G_CALLBACK (frame_end_cb), &fr);
  gtk_widget_add_tick_callback (fr.window, act_tick_cb, &fr, NULL);
  ds_test_wait_until (four_frames_seen, &fr, 10, "four frames");
  g_signal_handlers_disconnect_by_data (clock, &fr);
  for (guint i = 0; i < 4; i++)
    g_test_message ("frame %u: %u cards rendered", i, fr.rendered_at[i]);
  g_assert_cmpuint (fr.rendered_at[0], ==, 0);
  g_assert_cmpuint (fr.rendered_at[1], ==, 0);
  g_assert_cmpuint (fr.rendered_at[2], ==, 1);
  g_assert_cmpuint (fr.rendered_at[3], ==, 2);
  gtk_widget_destroy (fr.window);
  g_clear_object (&job);
  ds_test_boards_teardown (&boards);
}

/* A step that moves on is drawn again where its row is: the strip asks
 * for its row's area, in the window, inside the strip.  (It once asked for
 * the same area from the window's corner, and a row kept its old state on
 * screen until something else redrew the card.) */
static void
test_step_redrawn_in_place (void)
{
  GtkWidget *window = gtk_window_new (GTK_WINDOW_TOPLEVEL);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *strip = ds_step_strip_new ();
  GdkRectangle alloc;
  cairo_region_t *area = NULL;
  cairo_rectangle_int_t extents;

  gtk_widget_set_margin_start (strip, 60);
  gtk_widget_set_margin_top (strip, 100);
  gtk_container_add (GTK_CONTAINER (box), strip);
  gtk_container_add (GTK_CONTAINER (window), box);
  gtk_widget_show_all (window);
  ds_test_wait_until (widget_mapped, strip, 10, "the strip is shown");
  /* Drawn once, and the strip's names laid out. */
  for (gint64 until = g_get_monotonic_time () + 200000; g_get_monotonic_time () < until;)
    g_main_context_iteration (NULL, FALSE);
  gtk_widget_get_allocation (strip, &alloc);
  g_assert_cmpint (alloc.x, >=, 60);
  g_assert_cmpint (alloc.y, >=, 100);
  /* Whatever waits to be drawn goes; then only the step's own change. */
  area = gdk_window_get_update_area (gtk_widget_get_window (window));
  g_clear_pointer (&area, cairo_region_destroy);

  ds_step_strip_set_outcome (DS_STEP_STRIP (strip), DS_STEP_CHECK, "pass", NULL);
  area = gdk_window_get_update_area (gtk_widget_get_window (window));
  g_assert_nonnull (area);
  cairo_region_get_extents (area, &extents);
  g_test_message ("strip at %d,%d %dx%d; drawn again: %d,%d %dx%d", alloc.x, alloc.y, alloc.width, alloc.height,
                  extents.x, extents.y, extents.width, extents.height);
  g_assert_cmpint (extents.x, >=, alloc.x);
  g_assert_cmpint (extents.y, >, alloc.y);
  g_assert_cmpint (extents.x + extents.width, <=, alloc.x + alloc.width);
  g_assert_cmpint (extents.y + extents.height, <=, alloc.y + alloc.height);
  /* One row, not the whole strip. */
  g_assert_cmpint (extents.height, <, alloc.height / 4);
  cairo_region_destroy (area);
  gtk_widget_destroy (window);
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/card/replugged", test_replugged_card);
  g_test_add_func ("/card/render-in-frame", test_render_in_frame);
  g_test_add_func ("/card/step-redrawn-in-place", test_step_redrawn_in_place);
  g_test_add_func ("/card/reserved-frames", test_reserved_frames);
  return g_test_run ();
}
