/* Board labels: the QR code from libqrencode, drawn with cairo to PNG and
 * PDF, or written as ZPL II for thermal printers. */
#include "config.h"

#include "ds-label.h"

#include <cairo.h>
#include <cairo-pdf.h>
#include <glib/gi18n-lib.h>
#include <qrencode.h>
#include <string.h>

#include "ds-error.h"
#include "ds-onboarding.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (QRcode, QRcode_free)

/* The quiet zone around a QR code, in modules (ISO/IEC 18004). */
#define QUIET 4
/* The QR code's side, quiet zone included. */
#define QR_SIDE_MM 24.0
#define MARGIN_MM 0.7

/* Appends @text (NULL stays NULL) to the block at *@end. */
static const char *
copy_text (const char  *text,
           char       **end)
{
  char *copy = *end;
  gsize len;

  if (text == NULL)
    return NULL;
  len = strlen (text) + 1;
  memcpy (copy, text, len);
  *end += len;
  return copy;
}

DsLabelInfo *
ds_label_info_copy (const DsLabelInfo *info)
{
  const char *texts[] = { info->qr, info->manual_code, info->serial_number, info->product_name };
  gsize size = sizeof (DsLabelInfo);
  DsLabelInfo *copy;
  char *end;

  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    size += texts[i] != NULL ? strlen (texts[i]) + 1 : 0;
  copy = g_malloc0 (size);
  end = (char *) (copy + 1);
  copy->qr = copy_text (info->qr, &end);
  copy->manual_code = copy_text (info->manual_code, &end);
  copy->serial_number = copy_text (info->serial_number, &end);
  copy->product_name = copy_text (info->product_name, &end);
  copy->vid = info->vid;
  copy->pid = info->pid;
  return copy;
}

void
ds_label_info_free (DsLabelInfo *info)
{
  g_free (info);
}

gboolean
ds_label_format_from_name (const char    *name,
                           DsLabelFormat *out)
{
  static const struct {
    const char    *name;
    DsLabelFormat  format;
  } formats[] = { { "png", DS_LABEL_PNG }, { "pdf", DS_LABEL_PDF }, { "zpl", DS_LABEL_ZPL } };

  for (gsize i = 0; name != NULL && i < G_N_ELEMENTS (formats); i++)
    if (g_str_equal (name, formats[i].name))
      {
        *out = formats[i].format;
        return TRUE;
      }
  return FALSE;
}

gboolean
ds_label_format_for_path (const char    *path,
                          DsLabelFormat *out,
                          GError       **error)
{
  g_autofree char *lower = g_ascii_strdown (path, -1);
  const char *dot = strrchr (lower, '.');

  if (dot == NULL || !ds_label_format_from_name (dot + 1, out))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("Cannot tell the label format of “%s”: name it .png, .pdf or .zpl"), path);
      return FALSE;
    }
  return TRUE;
}

static gboolean
info_check (const DsLabelInfo *info,
            GError           **error)
{
  if (info->qr == NULL || !g_str_has_prefix (info->qr, "MT:") || info->manual_code == NULL
      || info->serial_number == NULL || info->product_name == NULL)
    {
      g_set_error_literal (error, DS_ERROR, DS_ERROR_CONFIG,
                           _("A label needs the QR payload, the manual code, the serial number and the product name"));
      return FALSE;
    }
  return TRUE;
}

static QRcode *
encode_qr (const char *text,
           GError    **error)
{
  /* Error correction M, as the Matter SDK's QR codes; the payload's
   * characters are all in the alphanumeric set, so the code stays small. */
  QRcode *code = QRcode_encodeString (text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);

  if (code == NULL)
    g_set_error (error, DS_ERROR, DS_ERROR_FAILED, _("Cannot make a QR code of “%s”"), text);
  return code;
}

/* Draws the text at @x, @y (baseline), shrunk to fit @max_width. */
static void
draw_text (cairo_t    *cr,
           const char *text,
           double      x,
           double      y,
           double      size,
           double      max_width,
           gboolean    bold)
{
  cairo_text_extents_t ext;

  cairo_select_font_face (cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                          bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, size);
  cairo_text_extents (cr, text, &ext);
  if (ext.x_advance > max_width)
    cairo_set_font_size (cr, size * max_width / ext.x_advance);
  cairo_move_to (cr, x, y);
  cairo_show_text (cr, text);
}

/* Draws the label in millimetres; @pixel is one device pixel in mm (0 for
 * vector output), so the modules land on whole pixels in a bitmap. */
static void
draw_label (cairo_t           *cr,
            const DsLabelInfo *info,
            const QRcode      *code,
            double             pixel)
{
  double module = QR_SIDE_MM / (code->width + 2 * QUIET);
  double text_x = MARGIN_MM + QR_SIDE_MM + 0.8;
  double text_w = DS_LABEL_WIDTH_MM - text_x - MARGIN_MM;
  double qr_y = (DS_LABEL_HEIGHT_MM - QR_SIDE_MM) / 2;
  g_autofree char *ids = g_strdup_printf ("VID 0x%04X  PID 0x%04X", info->vid, info->pid);
  g_autofree char *sn = g_strdup_printf ("SN %s", info->serial_number);
  g_autofree char *manual = ds_manual_code_format (info->manual_code);

  if (pixel > 0)
    module = MAX (1, (int) (module / pixel)) * pixel;

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_set_antialias (cr, CAIRO_ANTIALIAS_NONE);
  for (int y = 0; y < code->width; y++)
    for (int x = 0; x < code->width; x++)
      if (code->data[y * code->width + x] & 1)
        cairo_rectangle (cr, MARGIN_MM + (x + QUIET) * module, qr_y + (y + QUIET) * module, module, module);
  cairo_fill (cr);
  cairo_set_antialias (cr, CAIRO_ANTIALIAS_DEFAULT);

  draw_text (cr, info->product_name, text_x, 6.0, 3.2, text_w, TRUE);
  draw_text (cr, sn, text_x, 11.0, 2.4, text_w, FALSE);
  draw_text (cr, ids, text_x, 15.0, 2.2, text_w, FALSE);
  draw_text (cr, manual, text_x, 21.0, 3.4, text_w, TRUE);
}

static gboolean
cairo_check (cairo_status_t status,
             const char    *path,
             GError       **error)
{
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot write the label %s: %s"),
                   path, cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_png (const DsLabelInfo *info,
           const QRcode      *code,
           const char        *path,
           GError           **error)
{
  double px_per_mm = DS_LABEL_PNG_DPI / 25.4;
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24,
                                                         (int) (DS_LABEL_WIDTH_MM * px_per_mm + 0.5),
                                                         (int) (DS_LABEL_HEIGHT_MM * px_per_mm + 0.5));
  cairo_t *cr = cairo_create (surface);
  cairo_status_t status;

  cairo_scale (cr, px_per_mm, px_per_mm);
  draw_label (cr, info, code, 1 / px_per_mm);
  status = cairo_status (cr);
  cairo_destroy (cr);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_write_to_png (surface, path);
  cairo_surface_destroy (surface);
  return cairo_check (status, path, error);
}

static gboolean
write_pdf (const DsLabelInfo *info,
           const QRcode      *code,
           const char        *path,
           GError           **error)
{
  double pt_per_mm = 72 / 25.4;
  cairo_surface_t *surface = cairo_pdf_surface_create (path, DS_LABEL_WIDTH_MM * pt_per_mm,
                                                       DS_LABEL_HEIGHT_MM * pt_per_mm);
  cairo_t *cr = cairo_create (surface);
  cairo_status_t status;

  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE, info->serial_number);
  cairo_scale (cr, pt_per_mm, pt_per_mm);
  draw_label (cr, info, code, 0);
  cairo_show_page (cr);
  status = cairo_status (cr);
  cairo_destroy (cr);
  cairo_surface_finish (surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  return cairo_check (status, path, error);
}

/* ZPL field data after ^FH_: the control characters ^ and ~, the escape
 * character itself and everything outside printable ASCII go as _XX. */
static void
append_zpl_field (GString    *out,
                  const char *text)
{
  for (const guchar *s = (const guchar *) text; *s != '\0'; s++)
    {
      if (*s == '^' || *s == '~' || *s == '_' || *s < 0x20 || *s >= 0x7f)
        g_string_append_printf (out, "_%02X", *s);
      else
        g_string_append_c (out, (char) *s);
    }
}

char *
ds_label_zpl (const DsLabelInfo *info,
              GError           **error)
{
  GString *out;
  double dots_per_mm = DS_LABEL_ZPL_DPI / 25.4;
  int text_x = (int) ((MARGIN_MM + QR_SIDE_MM + 0.8) * dots_per_mm);
  g_autofree char *manual = NULL;
  g_autofree char *sn = NULL;

  if (!info_check (info, error))
    return NULL;
  manual = ds_manual_code_format (info->manual_code);
  sn = g_strdup_printf ("SN %s", info->serial_number);

  out = g_string_new ("^XA\n^CI28\n");
  g_string_append_printf (out, "^PW%d\n^LL%d\n", (int) (DS_LABEL_WIDTH_MM * dots_per_mm + 0.5),
                          (int) (DS_LABEL_HEIGHT_MM * dots_per_mm + 0.5));
  /* QR model 2, 5 dots a module; "MA," = error correction M, automatic
   * data mode. The payload is alphanumeric and needs no escaping. */
  g_string_append_printf (out, "^FO8,8^BQN,2,5^FDMA,%s^FS\n", info->qr);
  g_string_append_printf (out, "^FO%d,24^A0N,28,24^FH_^FD", text_x);
  append_zpl_field (out, info->product_name);
  g_string_append_printf (out, "^FS\n^FO%d,70^A0N,20,18^FH_^FD", text_x);
  append_zpl_field (out, sn);
  g_string_append_printf (out, "^FS\n^FO%d,104^A0N,18,16^FDVID 0x%04X  PID 0x%04X^FS\n", text_x, info->vid, info->pid);
  g_string_append_printf (out, "^FO%d,146^A0N,30,26^FD%s^FS\n", text_x, manual);
  g_string_append (out, "^XZ\n");
  return g_string_free (out, FALSE);
}

gboolean
ds_label_write (const DsLabelInfo *info,
                DsLabelFormat      format,
                const char        *path,
                GError           **error)
{
  g_autoptr(QRcode) code = NULL;

  if (!info_check (info, error))
    return FALSE;
  if (format == DS_LABEL_ZPL)
    {
      g_autofree char *zpl = ds_label_zpl (info, error);

      return zpl != NULL && g_file_set_contents (path, zpl, -1, error);
    }
  code = encode_qr (info->qr, error);
  if (code == NULL)
    return FALSE;
  if (format == DS_LABEL_PNG)
    return write_png (info, code, path, error);
  return write_pdf (info, code, path, error);
}
