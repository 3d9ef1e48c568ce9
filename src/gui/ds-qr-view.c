/* A QR code widget: the code is encoded once per text and drawn crisp,
 * each module a whole number of pixels, centred in a white square that
 * keeps the four-module quiet zone (ISO/IEC 18004) scanners need. */
#include "config.h"

#include "ds-qr-view.h"

#include <glib/gi18n.h>
#include <qrencode.h>
#include <string.h>

/* The quiet zone around the code, in modules. */
#define QUIET 4

G_DEFINE_AUTOPTR_CLEANUP_FUNC (QRcode, QRcode_free)

struct _DsQrView
{
  GtkDrawingArea  parent_instance;

  char           *text;
  QRcode         *code;
};

G_DEFINE_FINAL_TYPE (DsQrView, ds_qr_view, GTK_TYPE_DRAWING_AREA)

enum {
  PROP_0,
  PROP_TEXT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
ds_qr_view_draw (GtkWidget *widget,
                 cairo_t   *cr)
{
  DsQrView *self = DS_QR_VIEW (widget);
  int width = gtk_widget_get_allocated_width (widget);
  int height = gtk_widget_get_allocated_height (widget);
  int side, module, x0, y0;

  if (self->code == NULL)
    return GDK_EVENT_PROPAGATE;
  side = self->code->width + 2 * QUIET;
  /* Whole pixels per module: a blurred edge is what scanners miss. */
  module = MAX (1, MIN (width, height) / side);
  x0 = (width - side * module) / 2;
  y0 = (height - side * module) / 2;

  cairo_set_antialias (cr, CAIRO_ANTIALIAS_NONE);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_rectangle (cr, x0, y0, side * module, side * module);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 0, 0, 0);
  for (int y = 0; y < self->code->width; y++)
    for (int x = 0; x < self->code->width; x++)
      if (self->code->data[y * self->code->width + x] & 1)
        cairo_rectangle (cr, x0 + (x + QUIET) * module, y0 + (y + QUIET) * module, module, module);
  cairo_fill (cr);
  return GDK_EVENT_PROPAGATE;
}

static void
ds_qr_view_finalize (GObject *object)
{
  DsQrView *self = DS_QR_VIEW (object);

  g_free (self->text);
  g_clear_pointer (&self->code, QRcode_free);
  G_OBJECT_CLASS (ds_qr_view_parent_class)->finalize (object);
}

static void
ds_qr_view_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  DsQrView *self = DS_QR_VIEW (object);

  switch (prop_id)
    {
    case PROP_TEXT:
      g_value_set_string (value, self->text);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ds_qr_view_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  DsQrView *self = DS_QR_VIEW (object);

  switch (prop_id)
    {
    case PROP_TEXT:
      ds_qr_view_set_text (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ds_qr_view_class_init (DsQrViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = ds_qr_view_finalize;
  object_class->get_property = ds_qr_view_get_property;
  object_class->set_property = ds_qr_view_set_property;
  widget_class->draw = ds_qr_view_draw;

  properties[PROP_TEXT] =
    g_param_spec_string ("text", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/dacstation/Station/ui/ds-qr-view.ui");
  gtk_widget_class_set_css_name (widget_class, "qrview");
}

static void
ds_qr_view_init (DsQrView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
ds_qr_view_new (void)
{
  return g_object_new (DS_TYPE_QR_VIEW, NULL);
}

void
ds_qr_view_set_text (DsQrView   *self,
                     const char *text)
{
  g_return_if_fail (DS_IS_QR_VIEW (self));

  if (g_strcmp0 (self->text, text) == 0)
    return;
  g_free (self->text);
  self->text = g_strdup (text);
  g_clear_pointer (&self->code, QRcode_free);
  /* Error correction M and 8-bit mode, as the printed label's code. */
  if (text != NULL)
    self->code = QRcode_encodeString (text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  if (text != NULL && self->code == NULL)
    g_warning ("Cannot make a QR code of a %zu-character text", strlen (text));
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXT]);
}

const char *
ds_qr_view_get_text (DsQrView *self)
{
  g_return_val_if_fail (DS_IS_QR_VIEW (self), NULL);
  return self->text;
}

int
ds_qr_view_get_modules (DsQrView *self)
{
  g_return_val_if_fail (DS_IS_QR_VIEW (self), 0);
  return self->code != NULL ? self->code->width : 0;
}
