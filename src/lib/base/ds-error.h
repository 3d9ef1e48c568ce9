/* The one error domain of DAC Station. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define DS_ERROR (ds_error_quark ())

/**
 * DsError:
 * @DS_ERROR_FAILED: generic failure, use only when nothing else fits
 * @DS_ERROR_NOT_FOUND: a board, file or object does not exist
 * @DS_ERROR_INVALID_DATA: bytes that do not parse or break a rule
 * @DS_ERROR_TIMED_OUT: a peer did not answer in time
 * @DS_ERROR_PROTOCOL: a peer answered, but not as the protocol says
 * @DS_ERROR_REJECTED: a peer understood and refused
 * @DS_ERROR_IO: reading or writing a port, file or socket failed
 * @DS_ERROR_CANCELLED: the operator or the program cancelled
 * @DS_ERROR_DISCONNECTED: the board went away
 * @DS_ERROR_ALREADY_PROVISIONED: the board already holds locked credentials
 * @DS_ERROR_CONFIG: the station's configuration is unusable
 */
typedef enum {
  DS_ERROR_FAILED,
  DS_ERROR_NOT_FOUND,
  DS_ERROR_INVALID_DATA,
  DS_ERROR_TIMED_OUT,
  DS_ERROR_PROTOCOL,
  DS_ERROR_REJECTED,
  DS_ERROR_IO,
  DS_ERROR_CANCELLED,
  DS_ERROR_DISCONNECTED,
  DS_ERROR_ALREADY_PROVISIONED,
  DS_ERROR_CONFIG,
} DsError;

GQuark       ds_error_quark       (void);
/* The code's name ("timed-out"), as the records store it. */
const char  *ds_error_code_to_string (int code);

/**
 * DsErrorCause:
 * @DS_ERROR_CAUSE_UNKNOWN: not said
 * @DS_ERROR_CAUSE_NO_ANSWER: nothing at all came back from the board
 * @DS_ERROR_CAUSE_STOPPED: the board answered earlier commands, then fell silent
 * @DS_ERROR_CAUSE_LINE_NOISE: bytes came back, but damaged on the line
 *
 * What a failed exchange with a board looked like, carried by a DS_ERROR
 * next to its code, so that the hint to an operator follows it.
 */
typedef enum {
  DS_ERROR_CAUSE_UNKNOWN,
  DS_ERROR_CAUSE_NO_ANSWER,
  DS_ERROR_CAUSE_STOPPED,
  DS_ERROR_CAUSE_LINE_NOISE,
} DsErrorCause;

/* Both take any GError; only a DS_ERROR carries a cause. */
void         ds_error_set_cause   (GError       *error,
                                   DsErrorCause  cause);
DsErrorCause ds_error_get_cause   (const GError *error);
/* DS_ERROR_CANCELLED when @cancellable is cancelled: the library's one
 * way of saying so, in place of g_cancellable_set_error_if_cancelled(). */
gboolean     ds_error_set_if_cancelled (GCancellable *cancellable,
                                   GError      **error);
/* TRUE for DS_ERROR_CANCELLED and for GIO's G_IO_ERROR_CANCELLED (what
 * GLib's own calls return). */
gboolean     ds_error_is_cancelled (const GError *error);
/* Appends OpenSSL's error queue (and clears it) to a message. */
void         ds_set_error_openssl (GError    **error,
                                   int         code,
                                   const char *what);

G_END_DECLS
