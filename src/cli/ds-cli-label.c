/* dac-station-cli label printers | print --printer NAME --qr MT:… … |
 * write --output FILE …, both also --from-record SERIAL (a reprint from the
 * records, logged as a "label-reprinted" event).
 * Exit 0: printed, written or listed; 1: the printing service failed, or
 * the serial number is not in the records or cannot be reprinted;
 * 2: usage. */
#include "config.h"

#include "ds-cli-label.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <string.h>

#include "ds-cli-common.h"
#include "ds-error.h"
#include "ds-label-printer.h"
#include "ds-label.h"
#include "ds-onboarding.h"
#include "ds-store-location.h"
#include "ds-store-onboarding.h"
#include "ds-util.h"

typedef struct {
  GMainLoop    *loop;
  GCancellable *cancellable;
  GAsyncResult *result;
} Wait;

static void
done_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Wait *wait = user_data;

  wait->result = g_object_ref (result);
  g_main_loop_quit (wait->loop);
}

static gboolean
sigint_cb (gpointer user_data)
{
  Wait *wait = user_data;

  g_cancellable_cancel (wait->cancellable);
  return G_SOURCE_CONTINUE;
}

/* Runs the loop until the operation started with @wait ends; SIGINT
 * cancels it. */
static void
wait_run (Wait *wait)
{
  guint id = g_unix_signal_add (SIGINT, sigint_cb, wait);

  if (wait->result == NULL)
    g_main_loop_run (wait->loop);
  g_source_remove (id);
}

static void
wait_clear (Wait *wait)
{
  g_clear_pointer (&wait->loop, g_main_loop_unref);
  g_clear_object (&wait->cancellable);
  g_clear_object (&wait->result);
}

static int
error_exit (GError *error)
{
  if (opt_json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_add_string (b, "event", "error");
      json_add_string (b, "code", ds_error_code_to_string (error->code));
      json_add_string (b, "message", error->message);
      json_builder_end_object (b);
      print_json (b);
    }
  g_printerr ("%s\n", error->message);
  return error->code == DS_ERROR_CONFIG ? EXIT_USAGE : EXIT_FAILED;
}

static int
list_printers (DsLabelPrinter *printer)
{
  Wait wait = { g_main_loop_new (NULL, FALSE), g_cancellable_new (), NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) dests = NULL;

  ds_label_printer_list_async (printer, wait.cancellable, done_cb, &wait);
  wait_run (&wait);
  dests = ds_label_printer_list_finish (printer, wait.result, &error);
  wait_clear (&wait);
  if (dests == NULL)
    return error_exit (error);
  for (guint i = 0; i < dests->len; i++)
    {
      DsPrinterDest *d = g_ptr_array_index (dests, i);

      if (opt_json)
        {
          g_autoptr(JsonBuilder) b = json_builder_new ();

          json_builder_begin_object (b);
          json_add_string (b, "event", "printer");
          json_add_string (b, "name", d->name);
          if (d->description != NULL)
            json_add_string (b, "description", d->description);
          json_builder_set_member_name (b, "default");
          json_builder_add_boolean_value (b, d->is_default);
          json_builder_end_object (b);
          print_json (b);
        }
      else
        g_print ("%s%s%s%s\n", d->name, d->is_default ? _(" (default)") : "",
                 d->description != NULL ? "  " : "", d->description != NULL ? d->description : "");
    }
  if (!opt_json && dests->len == 0)
    g_printerr (_("The printing service has no printers.\n"));
  return EXIT_OK;
}

/* The label of serial number @serial from the records, in @info (whose
 * strings @rec owns).  Exit status on failure in @status. */
static DsOnboardingRecord *
label_from_record (const char  *serial,
                   const char  *product,
                   DsStore    **store_out,
                   DsLabelInfo *info,
                   int         *status)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *db = store_location ();
  g_autofree char *keys = ds_store_location_is_uri (db) ? data_dir () : NULL;
  g_autoptr(DsStore) store = NULL;
  g_autoptr(DsOnboardingRecord) rec = NULL;

  if (!ds_store_location_is_uri (db) && !g_file_test (db, G_FILE_TEST_IS_REGULAR))
    {
      print_store_problem (db);
      *status = EXIT_USAGE;
      return NULL;
    }
  store = ds_store_open_full (db, keys, DS_STORE_OPEN_DEFAULT, &error);
  if (store != NULL)
    rec = ds_store_find_onboarding_by_serial (store, serial, &error);
  if (rec == NULL)
    {
      *status = error_exit (error);
      return NULL;
    }
  /* Rows recorded before the records kept the product name need it said. */
  if (rec->product_name == NULL && product != NULL)
    rec->product_name = g_strdup (product);
  if (rec->product_name == NULL)
    {
      g_printerr (_("The records of serial number %s do not hold the product name (they are older than "
                    "this station): give it with --product-name\n"), serial);
      *status = EXIT_USAGE;
      return NULL;
    }
  info->qr = rec->qr;
  info->manual_code = rec->manual_code;
  info->serial_number = rec->serial_number;
  info->vid = rec->vid;
  info->pid = rec->pid;
  info->product_name = rec->product_name;
  *store_out = g_steal_pointer (&store);
  return g_steal_pointer (&rec);
}

/* Logs the reprint of @rec's label to @destination; a reprint the records
 * cannot log fails, as the label went out unaccounted for. */
static int
log_reprint (DsStore                  *store,
             const DsOnboardingRecord *rec,
             const char               *destination)
{
  g_autoptr(GError) error = NULL;

  if (store == NULL)
    return EXIT_OK;
  if (!ds_store_record_label_reprint (store, rec, destination, &error))
    {
      g_prefix_error (&error, _("The label was reprinted, but the records cannot say so: "));
      return error_exit (error);
    }
  return EXIT_OK;
}

/* Says where the label went: written to @output, or sent to @printer_name
 * as @job_id. */
static void
report_label (const char *serial_number,
              const char *output,
              const char *printer_name,
              int         job_id)
{
  if (opt_json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_add_string (b, "event", output != NULL ? "written" : "printed");
      if (output != NULL)
        json_add_string (b, "file", output);
      else
        json_add_string (b, "printer", printer_name);
      json_add_string (b, "serial_number", serial_number);
      if (output == NULL)
        json_add_int (b, "job_id", job_id);
      json_builder_end_object (b);
      print_json (b);
    }
  else if (output != NULL)
    /* TRANSLATORS: the label of board %1$s was written to file %2$s */
    g_print (_("Label of %s written to %s\n"), serial_number, output);
  else
    /* TRANSLATORS: the label of board %1$s was sent to printer %2$s as job %3$d */
    g_print (_("Label of %s sent to %s as job %d\n"), serial_number, printer_name, job_id);
}

int
ds_cli_label (int    argc,
              char **argv)
{
  g_autofree char *server = NULL, *printer_name = NULL, *format_s = NULL, *qr = NULL;
  g_autofree char *manual = NULL, *serial = NULL, *product = NULL, *vid_s = NULL, *pid_s = NULL;
  g_autofree char *from_record = NULL, *output = NULL;
  GOptionEntry entries[] = {
    { "server", 0, 0, G_OPTION_ARG_STRING, &server, N_("The CUPS server, HOST[:PORT] or a socket (default: the system's)"), N_("SERVER") },
    { "printer", 0, 0, G_OPTION_ARG_STRING, &printer_name, N_("The printer (CUPS queue) to print on"), N_("NAME") },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_s, N_("Send the label as pdf, or zpl for a thermal printer's raw queue, or png (default pdf)"), N_("FORMAT") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("Write the label to this file; its extension (.png, .pdf, .zpl) says the format"), N_("FILE") },
    { "from-record", 0, 0, G_OPTION_ARG_STRING, &from_record, N_("Reprint the label of this serial number from the records"), N_("SERIAL") },
    { "qr", 0, 0, G_OPTION_ARG_STRING, &qr, N_("The board's QR payload (MT:…)"), N_("PAYLOAD") },
    { "manual", 0, 0, G_OPTION_ARG_STRING, &manual, N_("The manual pairing code (default: made from the QR payload)"), N_("CODE") },
    { "serial", 0, 0, G_OPTION_ARG_STRING, &serial, N_("The board's serial number"), N_("SERIAL") },
    { "product-name", 0, 0, G_OPTION_ARG_STRING, &product, N_("The product name"), N_("NAME") },
    { "vid", 0, 0, G_OPTION_ARG_STRING, &vid_s, N_("Vendor ID in hex (default: from the QR payload)"), N_("VID") },
    { "pid", 0, 0, G_OPTION_ARG_STRING, &pid_s, N_("Product ID in hex (default: from the QR payload)"), N_("PID") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("printers|print|write — list the label printers, or print or write a board's label"));
  g_autoptr(GError) error = NULL;
  g_autoptr(DsLabelPrinter) printer = NULL;
  g_autoptr(DsStore) store = NULL;
  g_autoptr(DsOnboardingRecord) rec = NULL;
  g_autofree char *destination = NULL;
  DsLabelFormat format = DS_LABEL_PDF;
  DsSetupPayload payload;
  DsLabelInfo info = { 0 };
  Wait wait = { NULL };
  gboolean writing;
  int job_id;
  int status = EXIT_OK;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, common_entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (argc != 2 || (!g_str_equal (argv[1], "printers") && !g_str_equal (argv[1], "print") &&
                    !g_str_equal (argv[1], "write")))
    return usage_error (context, _("Say “printers”, “print” or “write”"));
  printer = ds_label_printer_new (server);
  if (g_str_equal (argv[1], "printers"))
    return list_printers (printer);

  writing = g_str_equal (argv[1], "write");
  if (writing && output == NULL)
    return usage_error (context, _("Writing a label needs --output"));
  if (!writing && printer_name == NULL)
    return usage_error (context, _("Printing needs --printer"));
  if (writing && !ds_label_format_for_path (output, &format, &error))
    return usage_error (context, error->message);
  if (!writing && format_s != NULL && !ds_label_print_format_parse (format_s, &format, &error))
    return usage_error (context, error->message);

  if (from_record != NULL)
    {
      if (qr != NULL || manual != NULL || serial != NULL || vid_s != NULL || pid_s != NULL)
        return usage_error (context, _("--from-record takes the codes from the records: leave out --qr, --manual, "
                                       "--serial, --vid and --pid"));
      rec = label_from_record (from_record, product, &store, &info, &status);
      if (rec == NULL)
        return status;
    }
  else
    {
      if (qr == NULL || serial == NULL || product == NULL)
        return usage_error (context, _("A label needs --from-record, or --qr, --serial and --product-name"));
      if (!g_str_has_prefix (qr, "MT:") || !ds_setup_payload_parse (qr, &payload, &error))
        {
          g_autofree char *msg = g_strdup_printf (_("Not a valid Matter QR payload: %s"),
                                                  error != NULL ? error->message : qr);

          return usage_error (context, msg);
        }
      if (manual == NULL)
        {
          manual = ds_setup_payload_to_manual (&payload, &error);
          if (manual == NULL)
            return usage_error (context, error->message);
        }
      info.vid = payload.vid;
      info.pid = payload.pid;
      if ((vid_s != NULL && !parse_hex16 (vid_s, &info.vid)) || (pid_s != NULL && !parse_hex16 (pid_s, &info.pid)))
        return usage_error (context, _("The vendor and product IDs are four hex digits"));
      info.qr = qr;
      info.manual_code = manual;
      info.serial_number = serial;
      info.product_name = product;
    }

  if (writing)
    {
      if (!ds_label_write (&info, format, output, &error))
        return error_exit (error);
      destination = g_strdup_printf ("file %s", output);
      status = log_reprint (store, rec, destination);
      if (status != EXIT_OK)
        return status;
      report_label (info.serial_number, output, NULL, 0);
      return EXIT_OK;
    }

  wait.loop = g_main_loop_new (NULL, FALSE);
  wait.cancellable = g_cancellable_new ();
  ds_label_printer_print_async (printer, printer_name, &info, format, wait.cancellable, done_cb, &wait);
  wait_run (&wait);
  job_id = ds_label_printer_print_finish (printer, wait.result, &error);
  wait_clear (&wait);
  if (job_id <= 0)
    return error_exit (error);
  destination = g_strdup_printf ("printer %s, job %d", printer_name, job_id);
  status = log_reprint (store, rec, destination);
  if (status != EXIT_OK)
    return status;
  report_label (info.serial_number, NULL, printer_name, job_id);
  return EXIT_OK;
}

/* ---- provision --print ---------------------------------------------------- */

static char *opt_print;
static char *opt_print_format;
static char *opt_print_server;
static guint n_printing;

GOptionEntry ds_cli_label_print_entries[] = {
  { "print", 0, 0, G_OPTION_ARG_STRING, &opt_print, N_("Print each passed board's label on this printer (CUPS queue; default: the profile's)"), N_("PRINTER") },
  { "print-format", 0, 0, G_OPTION_ARG_STRING, &opt_print_format, N_("Send labels as pdf, zpl (a thermal printer's raw queue) or png (default pdf)"), N_("FORMAT") },
  { "print-server", 0, 0, G_OPTION_ARG_STRING, &opt_print_server, N_("The CUPS server for --print (default: the system's)"), N_("SERVER") },
  { NULL }
};

void
ds_cli_label_print_apply (const DsProfile *profile)
{
  /* --print wins; else the profile's [label] printer, if it names one. */
  if (opt_print == NULL && profile->label_printer != NULL)
    opt_print = g_strdup (profile->label_printer);
}

static void
label_event (gboolean    json,
             const char *event,
             const char *board,
             int         job_id,
             const char *message)
{
  g_autoptr(JsonBuilder) b = NULL;

  if (!json)
    {
      if (message != NULL)
        /* TRANSLATORS: %s is the board's name, the second the reason */
        g_printerr (_("%s: label not printed: %s\n"), board, message);
      else
        /* TRANSLATORS: %s is the board's name, %d the print job */
        g_print (_("%s: label printed as job %d\n"), board, job_id);
      return;
    }
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_add_string (b, "event", event);
  json_add_string (b, "board", board);
  json_add_string (b, "printer", opt_print);
  if (job_id > 0)
    json_add_int (b, "print_job_id", job_id);
  if (message != NULL)
    json_add_string (b, "message", message);
  json_builder_end_object (b);
  print_json (b);
}

typedef struct {
  char     *board;
  gboolean  json;
} Pending;

static void
job_label_printed_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  Pending *pending = user_data;
  g_autoptr(GError) error = NULL;
  int job_id = ds_label_printer_print_finish (DS_LABEL_PRINTER (object), result, &error);

  n_printing--;
  if (job_id <= 0)
    label_event (pending->json, "label-error", pending->board, 0, error->message);
  else
    label_event (pending->json, "label-printed", pending->board, job_id, NULL);
  g_free (pending->board);
  g_free (pending);
}

void
ds_cli_label_print_job (DsJob    *job,
                        gboolean  json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsLabelPrinter) printer = NULL;
  const char *board = ds_board_get_name (ds_job_get_board (job));
  const DsLabelInfo *info = ds_job_get_label_info (job);
  DsLabelFormat format = DS_LABEL_PDF;
  Pending *pending;

  if (opt_print == NULL || ds_job_get_state (job) != DS_JOB_STATE_PASSED)
    return;
  if (info == NULL)
    {
      label_event (json, "label-error", board, 0, _("the board has no label information"));
      return;
    }
  if (opt_print_format != NULL && !ds_label_print_format_parse (opt_print_format, &format, &error))
    {
      label_event (json, "label-error", board, 0, error->message);
      return;
    }
  printer = ds_label_printer_new (opt_print_server);
  pending = g_new0 (Pending, 1);
  pending->board = g_strdup (board);
  pending->json = json;
  n_printing++;
  ds_label_printer_print_async (printer, opt_print, info, format, NULL, job_label_printed_cb, pending);
}

void
ds_cli_label_wait (void)
{
  while (n_printing > 0)
    g_main_context_iteration (NULL, TRUE);
}
