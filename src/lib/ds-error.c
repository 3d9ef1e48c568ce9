/* The one error domain of DAC Station, and a bridge from OpenSSL's error queue. */
#include "ds-error.h"

#include <openssl/err.h>

G_DEFINE_QUARK (ds-error-quark, ds_error)

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
