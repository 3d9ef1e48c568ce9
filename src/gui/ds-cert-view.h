/* One certificate of a chain in the board details: subject, issuer, VID/PID,
 * serial, validity and fingerprint. */
#pragma once

#include <gtk/gtk.h>

#include "ds-cert-info.h"

G_BEGIN_DECLS

#define DS_TYPE_CERT_VIEW (ds_cert_view_get_type ())
G_DECLARE_FINAL_TYPE (DsCertView, ds_cert_view, DS, CERT_VIEW, GtkBox)

GtkWidget *ds_cert_view_new (const DsCertInfo *info);

G_END_DECLS
