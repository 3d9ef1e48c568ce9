/* Small file and text helpers the library, the front ends, the benchmarks and
 * the tests share. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Removes @path and everything below it, not following symbolic links.
 * TRUE when it is gone. */
gboolean ds_util_remove_tree (const char *path);

/* Upper-case hex of @len bytes, no separators. */
char    *ds_hex_encode       (const guint8 *data,
                              gsize         len);
/* strcmp() for g_ptr_array_sort() on an array of strings. */
int      ds_util_compare_strings (gconstpointer a,
                                  gconstpointer b);

/* Reads @path into memory, NUL-terminated like g_file_get_contents(), but
 * only a regular file of at most @max_size bytes: a FIFO, a device, a
 * directory or a larger file is refused with a clear DS_ERROR (a FIFO is
 * opened without blocking, so nothing waits for a writer).  Every file that
 * comes from outside the station is read through this. */
gboolean ds_util_read_file   (const char   *path,
                              gsize         max_size,
                              char        **contents,
                              gsize        *length,
                              GError      **error);
/* The same, as bytes. */
GBytes  *ds_util_read_bytes  (const char   *path,
                              gsize         max_size,
                              GError      **error);

/* The first line of a file holding a PIN or a password: a regular file of
 * mode 0600 (nobody else may read it), at most DS_UTIL_MAX_SECRET_FILE
 * bytes.  Free it with ds_pkcs11_secret_free(), which wipes it. */
char    *ds_util_read_secret_file (const char *path,
                                   GError    **error);

/* Upper bounds for ds_util_read_file(). */
#define DS_UTIL_MAX_CERT_FILE    (1024 * 1024)        /* a PEM/DER certificate, CSR, CD or bundle */
#define DS_UTIL_MAX_CONFIG_FILE  (1024 * 1024)        /* a key file of settings */
#define DS_UTIL_MAX_SECRET_FILE  4096                 /* a PIN or password file */
#define DS_UTIL_MAX_IMAGE_FILE   (64 * 1024 * 1024)   /* a firmware image */

/* @text (@len bytes, or up to its NUL when @len is -1) made safe for a
 * terminal, a log, a database and an export: printable ASCII and valid,
 * printable UTF-8 are kept; control characters (C0, DEL, C1 such as U+009B
 * CSI), Unicode format and separator characters, invalid UTF-8 and NUL bytes
 * become \xNN escapes of their bytes, a backslash becomes \\.  At most
 * @max_bytes bytes of output (0: no limit); a longer result is cut at a
 * character and ends in "…".  Used where text from a board or a CA enters
 * the station.  NULL gives NULL. */
char    *ds_util_sanitize_text (const char *text,
                                gssize      len,
                                gsize       max_bytes);

/* How long board or CA text may get once sanitised. */
#define DS_UTIL_MAX_PEER_TEXT 256

G_END_DECLS
