/* A Matter QR code on screen: drawn from libqrencode with cairo, module by
 * whole pixels, on white with its quiet zone. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define DS_TYPE_QR_VIEW (ds_qr_view_get_type ())
G_DECLARE_FINAL_TYPE (DsQrView, ds_qr_view, DS, QR_VIEW, GtkDrawingArea)

GtkWidget  *ds_qr_view_new         (void);
/* The payload ("MT:…"), or NULL for nothing. */
void        ds_qr_view_set_text    (DsQrView   *self,
                                    const char *text);
const char *ds_qr_view_get_text    (DsQrView   *self);
/* The code's side in modules (quiet zone left out); 0 without a code. */
int         ds_qr_view_get_modules (DsQrView   *self);

G_END_DECLS
