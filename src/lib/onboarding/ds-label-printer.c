/* Board labels on a CUPS printer: libcups' blocking IPP calls run in a
 * worker thread, one connection per operation, cancellable. */
#include "config.h"

#include "ds-label-printer.h"

#include <cups/cups.h>
#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ds-error.h"
#include "ds-util.h"

/* How long one IPP exchange may stall before the operation fails, in
 * seconds; the cancellable is looked at every second meanwhile. */
#define STALL_LIMIT_S 60
#define CONNECT_MS    15000

G_DEFINE_AUTOPTR_CLEANUP_FUNC (http_t, httpClose)

struct _DsLabelPrinter
{
  GObject  parent_instance;

  char    *server;
};

G_DEFINE_FINAL_TYPE (DsLabelPrinter, ds_label_printer, G_TYPE_OBJECT)

void
ds_printer_dest_free (DsPrinterDest *dest)
{
  if (dest == NULL)
    return;
  g_free (dest->name);
  g_free (dest->description);
  g_free (dest);
}

static void
ds_label_printer_finalize (GObject *object)
{
  DsLabelPrinter *self = DS_LABEL_PRINTER (object);

  g_free (self->server);
  G_OBJECT_CLASS (ds_label_printer_parent_class)->finalize (object);
}

static void
ds_label_printer_class_init (DsLabelPrinterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ds_label_printer_finalize;
}

static void
ds_label_printer_init (DsLabelPrinter *self)
{
}

DsLabelPrinter *
ds_label_printer_new (const char *server)
{
  DsLabelPrinter *self = g_object_new (DS_TYPE_LABEL_PRINTER, NULL);

  self->server = server != NULL && *server != '\0' ? g_strdup (server) : NULL;
  return self;
}

const char *
ds_label_printer_get_server (DsLabelPrinter *self)
{
  g_return_val_if_fail (DS_IS_LABEL_PRINTER (self), NULL);
  return self->server;
}

gboolean
ds_label_print_format_parse (const char    *name,
                             DsLabelFormat *out,
                             GError       **error)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);

  if (!ds_label_format_from_name (lower, out))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("Unknown label format “%s”: use pdf, zpl or png"), name);
      return FALSE;
    }
  return TRUE;
}

/* One operation's connection state, shared with libcups' callbacks. */
typedef struct {
  GCancellable *cancellable;
  gint64        deadline;
  int           cancel;     /* httpConnect2() gives up when it turns 1 */
  gulong        handler;
} Watch;

static void
watch_cancelled_cb (GCancellable *cancellable,
                    Watch        *watch)
{
  g_atomic_int_set (&watch->cancel, 1);
}

static int
watch_timeout_cb (http_t *http,
                  void   *user_data)
{
  Watch *watch = user_data;

  /* 1: keep waiting. */
  return !g_cancellable_is_cancelled (watch->cancellable) && g_get_monotonic_time () < watch->deadline;
}

static void
watch_restart (Watch *watch)
{
  watch->deadline = g_get_monotonic_time () + STALL_LIMIT_S * G_USEC_PER_SEC;
}

static void
watch_clear (Watch *watch)
{
  if (watch->cancellable != NULL)
    g_cancellable_disconnect (watch->cancellable, watch->handler);
}

/* The server's name for messages. */
static char *
server_display (DsLabelPrinter *self,
                const char     *host,
                int             port)
{
  if (host[0] == '/')
    return g_strdup (host);
  return g_strdup_printf ("%s:%d", host, port);
}

static gboolean
check_cancelled (GCancellable *cancellable,
                 GError      **error)
{
  if (g_cancellable_is_cancelled (cancellable))
    {
      g_set_error_literal (error, DS_ERROR, DS_ERROR_CANCELLED, _("Printing was cancelled"));
      return TRUE;
    }
  return FALSE;
}

static http_t *
connect_server (DsLabelPrinter *self,
                Watch          *watch,
                char          **display,
                GError        **error)
{
  g_autofree char *host = NULL;
  int port;
  http_t *http;
  int saved;

  if (self->server != NULL)
    {
      const char *colon = strrchr (self->server, ':');

      /* "host:port"; a socket path or a bare host uses the IPP port. */
      if (self->server[0] != '/' && colon != NULL && strchr (colon, ']') == NULL)
        {
          host = g_strndup (self->server, colon - self->server);
          port = atoi (colon + 1);
        }
      else
        {
          host = g_strdup (self->server);
          port = ippPort ();
        }
    }
  else
    {
      host = g_strdup (cupsServer ());
      port = ippPort ();
    }
  *display = server_display (self, host, port);

  watch_restart (watch);
  http = httpConnect2 (host, port, NULL, AF_UNSPEC, cupsEncryption (), 1, CONNECT_MS, &watch->cancel);
  saved = errno;
  if (http == NULL)
    {
      if (check_cancelled (watch->cancellable, error))
        return NULL;
      /* libcups leaves no reliable reason (errno) behind. */
      g_debug ("connecting to %s: %s", *display, g_strerror (saved));
      /* TRANSLATORS: %s is the CUPS server ("localhost:631") */
      g_set_error (error, DS_ERROR, DS_ERROR_IO,
                   _("Cannot reach the printing service (CUPS) at %s. Is cupsd running?"),
                   *display);
      return NULL;
    }
  httpSetTimeout (http, 1.0, watch_timeout_cb, watch);
  return http;
}

/* The last IPP error of this thread as a GError. */
static void
set_ipp_error (GError    **error,
               const char *server,
               const char *printer,
               const char *what)
{
  ipp_status_t status = cupsLastError ();
  g_autofree char *reason = ds_util_sanitize_text (cupsLastErrorString (), -1, DS_UTIL_MAX_PEER_TEXT);
  g_autofree char *safe_printer = ds_util_sanitize_text (printer, -1, DS_UTIL_MAX_PEER_TEXT);

  if (status == IPP_STATUS_ERROR_NOT_FOUND && printer != NULL)
    /* TRANSLATORS: the first %s is a printer's name, the second the CUPS server */
    g_set_error (error, DS_ERROR, DS_ERROR_NOT_FOUND,
                 _("There is no printer “%s” on the printing service at %s"), safe_printer, server);
  else if (status == IPP_STATUS_ERROR_SERVICE_UNAVAILABLE || status == IPP_STATUS_ERROR_INTERNAL)
    g_set_error (error, DS_ERROR, DS_ERROR_IO,
                 _("The printing service at %s cannot be used: %s"), server,
                 reason != NULL ? reason : "");
  else
    /* TRANSLATORS: %s: what failed ("creating the print job"), the
     * server, and the server's reason */
    g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                 _("The printing service at %s refused %s: %s"), server, what,
                 reason != NULL ? reason : "");
}

static gint
dest_compare (gconstpointer a,
              gconstpointer b)
{
  const DsPrinterDest *da = *(const DsPrinterDest **) a;
  const DsPrinterDest *db = *(const DsPrinterDest **) b;

  return g_strcmp0 (da->name, db->name);
}

static GPtrArray *
list_printers (DsLabelPrinter *self,
               GCancellable   *cancellable,
               GError        **error)
{
  Watch watch = { .cancellable = cancellable };
  g_autofree char *display = NULL;
  g_autoptr(http_t) http = NULL;
  g_autoptr(GPtrArray) result = g_ptr_array_new_with_free_func ((GDestroyNotify) ds_printer_dest_free);
  cups_dest_t *dests = NULL;
  int n;

  if (cancellable != NULL)
    watch.handler = g_cancellable_connect (cancellable, G_CALLBACK (watch_cancelled_cb), &watch, NULL);
  http = connect_server (self, &watch, &display, error);
  if (http == NULL)
    {
      watch_clear (&watch);
      return NULL;
    }
  n = cupsGetDests2 (http, &dests);
  watch_clear (&watch);
  if (check_cancelled (cancellable, error))
    {
      cupsFreeDests (n, dests);
      return NULL;
    }
  /* No printers at all is no error; a failed request is. */
  if (n == 0 && cupsLastError () > IPP_STATUS_OK_EVENTS_COMPLETE
      && cupsLastError () != IPP_STATUS_ERROR_NOT_FOUND)
    {
      set_ipp_error (error, display, NULL, _("the list of printers"));
      return NULL;
    }
  for (int i = 0; i < n; i++)
    {
      DsPrinterDest *dest;
      const char *info;

      if (dests[i].instance != NULL)
        continue;
      dest = g_new0 (DsPrinterDest, 1);
      dest->name = ds_util_sanitize_text (dests[i].name, -1, DS_UTIL_MAX_PEER_TEXT);
      info = cupsGetOption ("printer-info", dests[i].num_options, dests[i].options);
      if (info != NULL && *info != '\0')
        dest->description = ds_util_sanitize_text (info, -1, DS_UTIL_MAX_PEER_TEXT);
      dest->is_default = dests[i].is_default;
      g_ptr_array_add (result, dest);
    }
  cupsFreeDests (n, dests);
  g_ptr_array_sort (result, dest_compare);
  return g_steal_pointer (&result);
}

static void
list_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  GError *error = NULL;
  GPtrArray *result = list_printers (source_object, cancellable, &error);

  if (result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, (GDestroyNotify) g_ptr_array_unref);
}

void
ds_label_printer_list_async (DsLabelPrinter      *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (DS_IS_LABEL_PRINTER (self));
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ds_label_printer_list_async);
  /* A cancelled operation ends in DS_ERROR_CANCELLED, the one domain. */
  g_task_set_check_cancellable (task, FALSE);
  g_task_run_in_thread (task, list_thread);
}

GPtrArray *
ds_label_printer_list_finish (DsLabelPrinter *self,
                              GAsyncResult   *result,
                              GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* What a print operation carries into its thread. */
typedef struct {
  char          *printer;
  DsLabelInfo   *info;
  DsLabelFormat  format;
} PrintData;

static void
print_data_free (PrintData *data)
{
  g_free (data->printer);
  ds_label_info_free (data->info);
  g_free (data);
}

/* Writes the label in @format to a new private file and returns its name. */
static char *
render_label (const DsLabelInfo *info,
              DsLabelFormat      format,
              GError           **error)
{
  g_autofree char *tmp = NULL;
  int fd;

  fd = g_file_open_tmp (format == DS_LABEL_PDF ? "ds-label-XXXXXX.pdf"
                        : format == DS_LABEL_ZPL ? "ds-label-XXXXXX.zpl" : "ds-label-XXXXXX.png",
                        &tmp, error);
  if (fd < 0)
    return NULL;
  close (fd);
  if (!ds_label_write (info, format, tmp, error))
    {
      g_unlink (tmp);
      return NULL;
    }
  return g_steal_pointer (&tmp);
}

static int
print_label (DsLabelPrinter *self,
             PrintData      *data,
             GCancellable   *cancellable,
             GError        **error)
{
  Watch watch = { .cancellable = cancellable };
  g_autofree char *display = NULL;
  g_autofree char *title = NULL;
  g_autoptr(http_t) http = NULL;
  g_autofree char *file = NULL;
  g_autofree char *resource = NULL;
  char uri[HTTP_MAX_URI];
  ipp_t *request;
  ipp_t *response = NULL;
  ipp_attribute_t *attr = NULL;
  const char *mime;
  int job_id;

  file = render_label (data->info, data->format, error);
  if (file == NULL)
    return 0;
  mime = data->format == DS_LABEL_PDF ? CUPS_FORMAT_PDF
         : data->format == DS_LABEL_ZPL ? CUPS_FORMAT_RAW : "image/png";

  if (cancellable != NULL)
    watch.handler = g_cancellable_connect (cancellable, G_CALLBACK (watch_cancelled_cb), &watch, NULL);
  http = connect_server (self, &watch, &display, error);
  if (http == NULL)
    {
      watch_clear (&watch);
      g_unlink (file);
      return 0;
    }

  /* TRANSLATORS: the print job's title, %s is the board's serial number */
  title = g_strdup_printf (_("Label %s"), data->info->serial_number);
  /* One Print-Job request, built here: libcups' cupsCreateJob() looks the
   * queue up first and may address the printer's device URI instead. */
  httpAssembleURIf (HTTP_URI_CODING_ALL, uri, sizeof uri, "ipp", NULL, "localhost", ippPort (),
                    "/printers/%s", data->printer);
  resource = g_strdup_printf ("/printers/%s", data->printer);
  request = ippNewRequest (IPP_OP_PRINT_JOB);
  ippAddString (request, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL, uri);
  ippAddString (request, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", NULL, cupsUser ());
  ippAddString (request, IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", NULL, title);
  ippAddString (request, IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", NULL, mime);

  watch_restart (&watch);
  /* Takes the request. */
  response = cupsDoFileRequest (http, request, resource, file);
  g_unlink (file);
  if (response == NULL || cupsLastError () > IPP_STATUS_OK_EVENTS_COMPLETE
      || (attr = ippFindAttribute (response, "job-id", IPP_TAG_INTEGER)) == NULL)
    {
      ippDelete (response);
      watch_clear (&watch);
      if (!check_cancelled (cancellable, error))
        set_ipp_error (error, display, data->printer, _("the label"));
      return 0;
    }
  job_id = ippGetInteger (attr, 0);
  ippDelete (response);
  watch_clear (&watch);
  g_debug ("label %s sent to %s on %s as job %d", data->info->serial_number, data->printer, display, job_id);
  return job_id;
}

static void
print_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  GError *error = NULL;
  int job_id = print_label (source_object, task_data, cancellable, &error);

  if (job_id <= 0)
    g_task_return_error (task, error);
  else
    g_task_return_int (task, job_id);
}

void
ds_label_printer_print_async (DsLabelPrinter      *self,
                              const char          *printer,
                              const DsLabelInfo   *info,
                              DsLabelFormat        format,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  PrintData *data;

  g_return_if_fail (DS_IS_LABEL_PRINTER (self));
  g_return_if_fail (info != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ds_label_printer_print_async);
  g_task_set_check_cancellable (task, FALSE);
  if (printer == NULL || *printer == '\0')
    {
      g_task_return_new_error (task, DS_ERROR, DS_ERROR_CONFIG,
                               _("No label printer is chosen"));
      return;
    }
  data = g_new0 (PrintData, 1);
  data->printer = g_strdup (printer);
  data->info = ds_label_info_copy (info);
  data->format = format;
  g_task_set_task_data (task, data, (GDestroyNotify) print_data_free);
  g_task_run_in_thread (task, print_thread);
}

int
ds_label_printer_print_finish (DsLabelPrinter *self,
                               GAsyncResult   *result,
                               GError        **error)
{
  gssize job_id;

  g_return_val_if_fail (g_task_is_valid (result, self), 0);
  job_id = g_task_propagate_int (G_TASK (result), error);
  return job_id > 0 ? (int) job_id : 0;
}
