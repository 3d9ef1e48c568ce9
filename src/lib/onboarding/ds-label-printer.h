/* Printing board labels on a CUPS printer (libcups): the printers a CUPS
 * server offers, and a label sent to one of them as PDF or raw ZPL. */
#pragma once

#include <gio/gio.h>

#include "ds-label.h"

G_BEGIN_DECLS

/* One printer (CUPS destination) a server offers. */
typedef struct {
  char     *name;
  char     *description;   /* the printer's "printer-info", or NULL */
  gboolean  is_default;
} DsPrinterDest;

void ds_printer_dest_free (DsPrinterDest *dest);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsPrinterDest, ds_printer_dest_free)

#define DS_TYPE_LABEL_PRINTER (ds_label_printer_get_type ())
G_DECLARE_FINAL_TYPE (DsLabelPrinter, ds_label_printer, DS, LABEL_PRINTER, GObject)

/* @server is a CUPS server as "host", "host:port" or a socket path; NULL
 * for libcups' default (CUPS_SERVER, client.conf, the local scheduler). */
DsLabelPrinter *ds_label_printer_new          (const char          *server);
/* The server as given, or NULL for the default. */
const char     *ds_label_printer_get_server   (DsLabelPrinter      *self);

/* The server's printers, as DsPrinterDest, sorted by name. */
void            ds_label_printer_list_async   (DsLabelPrinter      *self,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GPtrArray      *ds_label_printer_list_finish  (DsLabelPrinter      *self,
                                               GAsyncResult        *result,
                                               GError             **error);

/* Prints @info's label on @printer: DS_LABEL_PDF as a PDF document (for an
 * office printer, which CUPS filters), DS_LABEL_ZPL as raw ZPL II (for a
 * thermal printer's raw queue), DS_LABEL_PNG as an image.  @info is copied.
 * The finish function returns the CUPS job ID, or 0 with @error set. */
void            ds_label_printer_print_async  (DsLabelPrinter      *self,
                                               const char          *printer,
                                               const DsLabelInfo   *info,
                                               DsLabelFormat        format,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
int             ds_label_printer_print_finish (DsLabelPrinter      *self,
                                               GAsyncResult        *result,
                                               GError             **error);

/* The format a name given by an operator ("pdf", "zpl", "png") asks for. */
gboolean        ds_label_print_format_parse   (const char          *name,
                                               DsLabelFormat       *out,
                                               GError             **error);

G_END_DECLS
