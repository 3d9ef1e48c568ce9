/* The QR code in the GUI: DsQrView renders a code that zbarimg (zbar-tools)
 * reads back; a board's card and its details show the job's label, from a
 * DsLabelInfo set on the job and from real provisioned simulated boards.
 * With DS_LABEL_SCREENSHOT_DIR set, the card and the details dialog are
 * saved there as PNG. */
#include "config.h"

#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <string.h>

#include "ds-board-card.h"
#include "ds-board-details-dialog.h"
#include "ds-job-private.h"
#include "ds-onboarding.h"
#include "ds-qr-view.h"
#include "ds-test-board.h"
#include "ds-test-util.h"

/* The known answer: VID 0xFFF1, PID 0x8001, discriminator 3840,
 * passcode 20202021. */
static const DsLabelInfo label = {
  .qr = "MT:-24J0AFN00KA0648G00", .manual_code = "34970112332",
  .serial_number = "DS-20261202-000017", .vid = 0xFFF1, .pid = 0x8001,
  .product_name = "Test Lamp",
};

static gboolean
drawn_cb (GtkWidget *widget,
          cairo_t   *cr,
          gboolean  *drawn)
{
  *drawn = TRUE;
  return GDK_EVENT_PROPAGATE;
}

static gboolean
is_true (gpointer data)
{
  return *(gboolean *) data;
}

/* @widget drawn into a new image surface of its allocation. */
static cairo_surface_t *
render (GtkWidget *widget)
{
  cairo_surface_t *surface;
  cairo_t *cr;
  gboolean drawn = FALSE;
  gulong id = g_signal_connect (widget, "draw", G_CALLBACK (drawn_cb), &drawn);

  /* Drawn once by GTK: laid out, so it can be drawn again here. */
  gtk_widget_queue_draw (widget);
  ds_test_wait_until (is_true, &drawn, 30, "the widget to be drawn");
  g_signal_handler_disconnect (widget, id);
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, gtk_widget_get_allocated_width (widget),
                                        gtk_widget_get_allocated_height (widget));
  cr = cairo_create (surface);
  gtk_widget_draw (widget, cr);
  cairo_destroy (cr);
  return surface;
}

static void
maybe_save (GtkWidget  *widget,
            const char *name)
{
  const char *dir = g_getenv ("DS_LABEL_SCREENSHOT_DIR");
  g_autofree char *path = NULL;
  cairo_surface_t *surface;

  if (dir == NULL)
    return;
  path = g_build_filename (dir, name, NULL);
  surface = render (widget);
  g_assert_cmpint (cairo_surface_write_to_png (surface, path), ==, CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy (surface);
  g_test_message ("saved %s", path);
}

/* What zbarimg reads from @surface, or NULL when zbar-tools is missing. */
static char *
zbar_read (cairo_surface_t *surface)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *zbarimg = g_find_program_in_path ("zbarimg");
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *out = NULL;
  int status = -1;

  if (zbarimg == NULL)
    return NULL;
  dir = g_dir_make_tmp ("ds-qr-view-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "qr.png", NULL);
  g_assert_cmpint (cairo_surface_write_to_png (surface, path), ==, CAIRO_STATUS_SUCCESS);
  {
    const char *argv[] = { zbarimg, "-q", "--raw", path, NULL };

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                                 &out, NULL, &status, &error));
    g_assert_no_error (error);
  }
  ds_test_rm_rf (dir);
  g_strchomp (out);
  return g_steal_pointer (&out);
}

/* DsQrView at @size pixels: zbarimg reads the payload back, and every
 * pixel of the code's square is pure black or pure white. */
static void
check_qr_view_at (int size)
{
  GtkWidget *window = gtk_offscreen_window_new ();
  GtkWidget *view = ds_qr_view_new ();
  cairo_surface_t *surface;
  g_autofree char *read = NULL;
  int modules, side, module, x0, y0, stride;
  const guint8 *data;

  gtk_widget_set_size_request (view, size, size);
  ds_qr_view_set_text (DS_QR_VIEW (view), label.qr);
  gtk_container_add (GTK_CONTAINER (window), view);
  gtk_widget_show_all (window);
  surface = render (view);

  modules = ds_qr_view_get_modules (DS_QR_VIEW (view));
  g_assert_cmpint (modules, >=, 21);
  side = modules + 8;
  module = MIN (gtk_widget_get_allocated_width (view), gtk_widget_get_allocated_height (view)) / side;
  g_assert_cmpint (module, >=, 1);
  x0 = (gtk_widget_get_allocated_width (view) - side * module) / 2;
  y0 = (gtk_widget_get_allocated_height (view) - side * module) / 2;
  cairo_surface_flush (surface);
  data = cairo_image_surface_get_data (surface);
  stride = cairo_image_surface_get_stride (surface);
  for (int y = y0; y < y0 + side * module; y++)
    for (int x = x0; x < x0 + side * module; x++)
      {
        guint32 px = *(const guint32 *) (data + y * stride + x * 4);

        if (px != 0xFFFFFFFF && px != 0xFF000000)
          {
            g_test_message ("pixel %d,%d is %08X", x, y, px);
            g_assert_not_reached ();
          }
      }
  /* The quiet zone: the first four modules' rows are white. */
  for (int x = x0; x < x0 + side * module; x++)
    g_assert_cmphex (*(const guint32 *) (data + (y0 + 4 * module - 1) * stride + x * 4), ==, 0xFFFFFFFF);

  read = zbar_read (surface);
  if (read == NULL)
    g_test_message ("zbarimg is not installed: the code was not read back");
  else
    g_assert_cmpstr (read, ==, label.qr);
  cairo_surface_destroy (surface);
  gtk_widget_destroy (window);
}

static void
test_qr_view (void)
{
  /* The details dialog's size, and the card's. */
  check_qr_view_at (168);
  check_qr_view_at (72);
}

static void
test_qr_view_empty (void)
{
  GtkWidget *view = g_object_ref_sink (ds_qr_view_new ());

  g_assert_cmpint (ds_qr_view_get_modules (DS_QR_VIEW (view)), ==, 0);
  ds_qr_view_set_text (DS_QR_VIEW (view), label.qr);
  g_assert_cmpint (ds_qr_view_get_modules (DS_QR_VIEW (view)), >, 0);
  g_assert_cmpstr (ds_qr_view_get_text (DS_QR_VIEW (view)), ==, label.qr);
  ds_qr_view_set_text (DS_QR_VIEW (view), NULL);
  g_assert_cmpint (ds_qr_view_get_modules (DS_QR_VIEW (view)), ==, 0);
  g_object_unref (view);
}

static gboolean
verdict_known (gpointer data)
{
  return ds_board_details_dialog_get_verdict (data) != NULL;
}

/* The chain's thread holds the job, and the job the store in the test's
 * tree: the chain is read before the dialog and the tree go. */
static void
close_details (DsBoardDetailsDialog *dialog)
{
  ds_test_wait_until (verdict_known, dialog, 60, "the details' verdict");
  gtk_widget_destroy (GTK_WIDGET (dialog));
}

static gboolean
card_rendered (gpointer data)
{
  return ds_board_card_is_rendered (data);
}

/* A card in a flow box in a window, as the station shows it. */
static GtkWidget *
card_window (DsBoardCard *card)
{
  GtkWidget *window = gtk_window_new (GTK_WINDOW_TOPLEVEL);
  GtkWidget *box = gtk_flow_box_new ();

  gtk_container_add (GTK_CONTAINER (box), GTK_WIDGET (card));
  gtk_container_add (GTK_CONTAINER (window), box);
  gtk_widget_show_all (window);
  return window;
}

/* Widget level: the card and the details show the label of a job whose
 * label information is set directly. */
static void
test_card_and_details (void)
{
  DsTestBoards boards = { 0 };
  g_autoptr(DsJob) job = NULL;
  DsBoardCard *card;
  DsBoardDetailsDialog *dialog;
  GtkWidget *window;

  ds_test_boards_setup (&boards, 1, NULL);
  job = ds_job_new (g_ptr_array_index (boards.boards, 0), &boards.options);
  card = ds_board_card_new (g_ptr_array_index (boards.boards, 0));
  ds_board_card_set_job (card, job);
  window = card_window (card);
  ds_test_wait_until (card_rendered, card, 30, "the card");
  /* No label yet: no code. */
  g_assert_null (ds_board_card_get_qr (card));
  dialog = ds_board_details_dialog_new (GTK_WINDOW (window), job);
  g_assert_null (ds_board_details_dialog_get_qr (dialog));
  g_assert_null (ds_board_details_dialog_get_manual_code (dialog));
  g_assert_false (g_action_group_get_action_enabled (gtk_widget_get_action_group (GTK_WIDGET (dialog), "details"),
                                                     "print-label"));

  /* A passed board, as the station shows it. */
  ds_job_run_async (job, NULL, NULL, NULL);
  ds_test_wait_job (job);
  g_assert_cmpint (ds_job_get_state (job), ==, DS_JOB_STATE_PASSED);
  ds_job_set_label_info (job, &label);
  ds_test_wait_until (card_rendered, card, 30, "the card");
  g_assert_cmpstr (ds_board_card_get_qr (card), ==, label.qr);
  g_assert_cmpstr (ds_board_details_dialog_get_qr (dialog), ==, label.qr);
  g_assert_cmpstr (ds_board_details_dialog_get_manual_code (dialog), ==, "3497-011-2332");
  g_assert_true (g_action_group_get_action_enabled (gtk_widget_get_action_group (GTK_WIDGET (dialog), "details"),
                                                    "print-label"));

  /* The compact view has no room for it. */
  ds_board_card_set_compact (card, TRUE);
  g_assert_null (ds_board_card_get_qr (card));
  ds_board_card_set_compact (card, FALSE);
  g_assert_cmpstr (ds_board_card_get_qr (card), ==, label.qr);

  gtk_window_present (GTK_WINDOW (dialog));
  maybe_save (GTK_WIDGET (dialog), "board-details-label.png");
  close_details (dialog);
  gtk_widget_destroy (window);
  /* The job holds the store: it goes before the tree it is in. */
  g_clear_object (&job);
  ds_test_boards_teardown (&boards);
}

/* Printing from the details dialog with no printer chosen says so. */
static void
test_print_without_printer (void)
{
  DsTestBoards boards = { 0 };
  g_autoptr(DsJob) job = NULL;
  g_autoptr(GSettings) settings = g_settings_new (DS_APP_ID);
  DsBoardDetailsDialog *dialog;
  GActionGroup *group;

  g_settings_set_string (settings, "label-printer", "");
  ds_test_boards_setup (&boards, 1, NULL);
  job = ds_job_new (g_ptr_array_index (boards.boards, 0), &boards.options);
  ds_job_set_label_info (job, &label);
  dialog = ds_board_details_dialog_new (NULL, job);
  group = gtk_widget_get_action_group (GTK_WIDGET (dialog), "details");
  g_action_group_activate_action (group, "print-label", NULL);
  g_assert_false (g_action_group_get_action_enabled (group, "print-label"));
  while (!g_action_group_get_action_enabled (group, "print-label"))
    g_main_context_iteration (NULL, TRUE);
  /* The operator is told where to choose one. */
  g_assert_nonnull (strstr (ds_board_details_dialog_get_print_status (dialog), "choose one in the Preferences"));
  gtk_widget_destroy (GTK_WIDGET (dialog));
  g_clear_object (&job);
  ds_test_boards_teardown (&boards);
}

/* A real provisioned simulated board: Install fills the job's label
 * information, and the card and the details show its codes. */
static GtkWidget *find_qr_view (GtkWidget *widget);

static void
find_qr_cb (GtkWidget *widget,
            gpointer   user_data)
{
  GtkWidget **found = user_data;

  if (*found == NULL)
    *found = find_qr_view (widget);
}

static GtkWidget *
find_qr_view (GtkWidget *widget)
{
  GtkWidget *found = NULL;

  if (DS_IS_QR_VIEW (widget))
    return widget;
  if (GTK_IS_CONTAINER (widget))
    gtk_container_forall (GTK_CONTAINER (widget), find_qr_cb, &found);
  return found;
}

static void
test_provisioned_board (void)
{
  DsTestBoards boards = { 0 };
  g_autoptr(DsJob) job = NULL;
  const DsLabelInfo *info;
  DsBoardCard *card;
  DsBoardDetailsDialog *dialog;
  GtkWidget *window;
  int width_with = 0, width_without = 0;
  GtkWidget *qr;

  ds_test_boards_setup (&boards, 1, NULL);
  job = ds_job_new (g_ptr_array_index (boards.boards, 0), &boards.options);
  card = ds_board_card_new (g_ptr_array_index (boards.boards, 0));
  ds_board_card_set_job (card, job);
  window = card_window (card);
  ds_job_run_async (job, NULL, NULL, NULL);
  ds_test_wait_job (job);
  g_assert_cmpint (ds_job_get_state (job), ==, DS_JOB_STATE_PASSED);
  ds_test_wait_until (card_rendered, card, 30, "the card");
  /* The QR code beside the UID does not widen the card: the grid keeps
   * its columns when boards get their codes mid-run. */
  qr = find_qr_view (GTK_WIDGET (card));
  g_assert_nonnull (qr);
  g_assert_true (gtk_widget_get_visible (qr));
  gtk_widget_get_preferred_width (GTK_WIDGET (card), &width_with, NULL);
  gtk_widget_hide (qr);
  gtk_widget_get_preferred_width (GTK_WIDGET (card), &width_without, NULL);
  gtk_widget_show (qr);
  g_assert_cmpint (width_with, ==, width_without);

  info = ds_job_get_label_info (job);
  g_assert_nonnull (info);
  g_assert_true (g_str_has_prefix (info->qr, "MT:"));
  g_assert_cmpstr (ds_board_card_get_qr (card), ==, info->qr);
  dialog = ds_board_details_dialog_new (GTK_WINDOW (window), job);
  g_assert_cmpstr (ds_board_details_dialog_get_qr (dialog), ==, info->qr);
  {
    g_autofree char *manual = ds_manual_code_format (info->manual_code);

    g_assert_cmpstr (ds_board_details_dialog_get_manual_code (dialog), ==, manual);
  }
  close_details (dialog);
  gtk_widget_destroy (window);
  /* The job holds the store: it goes before the tree it is in. */
  g_clear_object (&job);
  ds_test_boards_teardown (&boards);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gtk_init (&argc, &argv);

  g_test_add_func ("/label-gui/qr-view/read-back", test_qr_view);
  g_test_add_func ("/label-gui/qr-view/empty", test_qr_view_empty);
  g_test_add_func ("/label-gui/card-and-details", test_card_and_details);
  g_test_add_func ("/label-gui/print-without-printer", test_print_without_printer);
  g_test_add_func ("/label-gui/provisioned-board", test_provisioned_board);
  return g_test_run ();
}
