/* The certificate authority interface. */
#include "ds-ca.h"

#include "ds-error.h"

G_DEFINE_INTERFACE (DsCa, ds_ca, G_TYPE_OBJECT)

static void
ds_ca_default_init (DsCaInterface *iface)
{
}

void
ds_issued_free (DsIssued *issued)
{
  if (issued == NULL)
    return;
  g_clear_pointer (&issued->dac_der, g_bytes_unref);
  g_clear_pointer (&issued->pai_der, g_bytes_unref);
  g_clear_pointer (&issued->paa_der, g_bytes_unref);
  g_free (issued);
}

const char *
ds_ca_get_name (DsCa *self)
{
  g_return_val_if_fail (DS_IS_CA (self), NULL);
  return DS_CA_GET_IFACE (self)->get_name (self);
}

DsIssued *
ds_ca_issue (DsCa                 *self,
             const DsIssueRequest *request,
             GCancellable         *cancellable,
             GError              **error)
{
  g_return_val_if_fail (DS_IS_CA (self), NULL);
  g_return_val_if_fail (request != NULL && request->csr_der != NULL, NULL);

  if (ds_error_set_if_cancelled (cancellable, error))
    return NULL;
  return DS_CA_GET_IFACE (self)->issue (self, request, cancellable, error);
}

GBytes *
ds_ca_dup_paa (DsCa *self)
{
  DsCaInterface *iface;

  g_return_val_if_fail (DS_IS_CA (self), NULL);
  iface = DS_CA_GET_IFACE (self);
  return iface->dup_paa != NULL ? iface->dup_paa (self) : NULL;
}

gboolean
ds_ca_is_test (DsCa *self)
{
  DsCaInterface *iface;

  g_return_val_if_fail (DS_IS_CA (self), FALSE);
  iface = DS_CA_GET_IFACE (self);
  return iface->is_test != NULL ? iface->is_test (self) : FALSE;
}
