/* A board's label: its Matter QR code, manual pairing code, serial number,
 * vendor and product IDs and product name, as PNG, PDF or ZPL. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  DS_LABEL_PNG,
  DS_LABEL_PDF,
  DS_LABEL_ZPL,
} DsLabelFormat;

typedef struct {
  const char *qr;             /* "MT:…" */
  const char *manual_code;    /* 11 or 21 digits */
  const char *serial_number;
  guint16     vid;
  guint16     pid;
  const char *product_name;
} DsLabelInfo;

/* The label is 50.8 × 25.4 mm (2 × 1 inch), a common thermal label. */
#define DS_LABEL_WIDTH_MM   50.8
#define DS_LABEL_HEIGHT_MM  25.4
/* PNG resolution, and the ZPL printer's (8 dots per mm). */
#define DS_LABEL_PNG_DPI    300
#define DS_LABEL_ZPL_DPI    203

/* A copy of @info that owns its texts, in one block: free it with
 * ds_label_info_free(). */
DsLabelInfo *ds_label_info_copy (const DsLabelInfo *info);
void         ds_label_info_free (DsLabelInfo       *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsLabelInfo, ds_label_info_free)

/* The format "png", "pdf" or "zpl" names, as a profile, an option and a
 * file's extension give it (lower case); FALSE for any other name. */
gboolean  ds_label_format_from_name (const char    *name,
                                     DsLabelFormat *out);
/* The format a file name's extension (.png, .pdf, .zpl) asks for. */
gboolean  ds_label_format_for_path (const char         *path,
                                    DsLabelFormat      *out,
                                    GError            **error);
/* Writes the label to @path. */
gboolean  ds_label_write           (const DsLabelInfo  *info,
                                    DsLabelFormat       format,
                                    const char         *path,
                                    GError            **error);
/* The label as a ZPL II program for a 203-dpi thermal printer. */
char     *ds_label_zpl             (const DsLabelInfo  *info,
                                    GError            **error);

G_END_DECLS
