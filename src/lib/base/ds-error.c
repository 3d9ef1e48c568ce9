/* The one error domain of DAC Station, and a bridge from OpenSSL's error queue. */
#include "config.h"

#include "ds-error.h"

#include <glib/gi18n-lib.h>

#include <openssl/err.h>

/* An extended error domain: a DS_ERROR carries what the failure looked
 * like on the line (DsErrorCause), so that a front end can say what to do
 * about it without reading the message. */
typedef struct {
  DsErrorCause cause;
} DsErrorPrivate;

static void
ds_error_private_init (DsErrorPrivate *priv)
{
  priv->cause = DS_ERROR_CAUSE_UNKNOWN;
}

static void
ds_error_private_copy (const DsErrorPrivate *src,
                       DsErrorPrivate       *dest)
{
  dest->cause = src->cause;
}

static void
ds_error_private_clear (DsErrorPrivate *priv)
{
}

G_DEFINE_EXTENDED_ERROR (DsError, ds_error)

void
ds_error_set_cause (GError       *error,
                    DsErrorCause  cause)
{
  DsErrorPrivate *priv = error != NULL ? ds_error_get_private (error) : NULL;

  if (priv != NULL)
    priv->cause = cause;
}

DsErrorCause
ds_error_get_cause (const GError *error)
{
  DsErrorPrivate *priv = error != NULL ? ds_error_get_private (error) : NULL;

  return priv != NULL ? priv->cause : DS_ERROR_CAUSE_UNKNOWN;
}

const char *
ds_error_code_to_string (int code)
{
  switch ((DsError) code)
    {
    case DS_ERROR_FAILED: return "failed";
    case DS_ERROR_NOT_FOUND: return "not-found";
    case DS_ERROR_INVALID_DATA: return "invalid-data";
    case DS_ERROR_TIMED_OUT: return "timed-out";
    case DS_ERROR_PROTOCOL: return "protocol";
    case DS_ERROR_REJECTED: return "rejected";
    case DS_ERROR_IO: return "io";
    case DS_ERROR_CANCELLED: return "cancelled";
    case DS_ERROR_DISCONNECTED: return "disconnected";
    case DS_ERROR_ALREADY_PROVISIONED: return "already-provisioned";
    case DS_ERROR_CONFIG: return "config";
    default: return "unknown";
    }
}

void
ds_set_error_openssl (GError    **error,
                      int         code,
                      const char *what)
{
  unsigned long e = ERR_get_error ();
  char buf[256] = { 0 };

  if (e != 0)
    ERR_error_string_n (e, buf, sizeof buf);
  ERR_clear_error ();
  if (buf[0] != '\0')
    g_set_error (error, DS_ERROR, code, "%s (%s)", what, buf);
  else
    g_set_error_literal (error, DS_ERROR, code, what);
}

gboolean
ds_error_set_if_cancelled (GCancellable *cancellable,
                           GError      **error)
{
  if (!g_cancellable_is_cancelled (cancellable))
    return FALSE;
  g_set_error_literal (error, DS_ERROR, DS_ERROR_CANCELLED, _("Cancelled"));
  return TRUE;
}

gboolean
ds_error_is_cancelled (const GError *error)
{
  return g_error_matches (error, DS_ERROR, DS_ERROR_CANCELLED) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}
