/* A certificate in the board details. */
#include "config.h"

#include "ds-cert-view.h"

#include <glib/gi18n.h>

struct _DsCertView
{
  GtkBox    parent_instance;

  GtkLabel *role_label;
  GtkLabel *role_description;
  GtkLabel *subject_value;
  GtkLabel *issuer_value;
  GtkLabel *vid_value;
  GtkLabel *pid_value;
  GtkLabel *serial_value;
  GtkLabel *validity_value;
  GtkLabel *fingerprint_value;
};

G_DEFINE_FINAL_TYPE (DsCertView, ds_cert_view, GTK_TYPE_BOX)

static void
ds_cert_view_class_init (DsCertViewClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/dacstation/Station/ui/ds-cert-view.ui");
  gtk_widget_class_bind_template_child (widget_class, DsCertView, role_label);
  gtk_widget_class_bind_template_child (widget_class, DsCertView, role_description);
  gtk_widget_class_bind_template_child (widget_class, DsCertView, subject_value);
  gtk_widget_class_bind_template_child (widget_class, DsCertView, issuer_value);
  gtk_widget_class_bind_template_child (widget_class, DsCertView, vid_value);
  gtk_widget_class_bind_template_child (widget_class, DsCertView, pid_value);
  gtk_widget_class_bind_template_child (widget_class, DsCertView, serial_value);
  gtk_widget_class_bind_template_child (widget_class, DsCertView, validity_value);
  gtk_widget_class_bind_template_child (widget_class, DsCertView, fingerprint_value);
}

static void
ds_cert_view_init (DsCertView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

static const char *
role_description (const char *role)
{
  if (g_strcmp0 (role, "DAC") == 0)
    return _("Device Attestation Certificate");
  if (g_strcmp0 (role, "PAI") == 0)
    return _("Product Attestation Intermediate");
  if (g_strcmp0 (role, "PAA") == 0)
    return _("Product Attestation Authority (trust anchor)");
  return "";
}

static char *
format_date (gint64 unix_seconds)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (unix_seconds);

  if (dt == NULL)
    return g_strdup ("?");
  return g_date_time_format (dt, "%Y-%m-%d %H:%M UTC");
}

/* Groups a hex string in fours so that people can compare it by eye. */
static char *
group_hex (const char *hex)
{
  g_autoptr(GString) out = g_string_new (NULL);

  for (gsize i = 0; hex != NULL && hex[i] != '\0'; i++)
    {
      if (i > 0 && i % 4 == 0)
        g_string_append_c (out, ' ');
      g_string_append_c (out, hex[i]);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

GtkWidget *
ds_cert_view_new (const DsCertInfo *info)
{
  DsCertView *self = g_object_new (DS_TYPE_CERT_VIEW, NULL);
  g_autofree char *from = format_date (info->not_before);
  g_autofree char *until = format_date (info->not_after);
  /* TRANSLATORS: a certificate's validity period, "FROM to UNTIL" */
  g_autofree char *validity = g_strdup_printf (_("%s to %s"), from, until);
  g_autofree char *serial = group_hex (info->serial);
  g_autofree char *fingerprint = group_hex (info->fingerprint);
  g_autofree char *accessible = g_strdup_printf ("%s: %s", info->role, role_description (info->role));

  gtk_label_set_text (self->role_label, info->role);
  gtk_label_set_text (self->role_description, role_description (info->role));
  gtk_label_set_text (self->subject_value, info->subject);
  gtk_label_set_text (self->issuer_value, info->issuer);
  /* TRANSLATORS: shown for a vendor or product ID the certificate does not carry */
  gtk_label_set_text (self->vid_value, info->vid != NULL ? info->vid : _("not present"));
  gtk_label_set_text (self->pid_value, info->pid != NULL ? info->pid : _("not present"));
  gtk_label_set_text (self->serial_value, serial);
  gtk_label_set_text (self->validity_value, validity);
  gtk_label_set_text (self->fingerprint_value, fingerprint);
  atk_object_set_name (gtk_widget_get_accessible (GTK_WIDGET (self)), accessible);
  return GTK_WIDGET (self);
}
