/* Small file helpers the front ends, the benchmarks and the tests share. */
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

G_END_DECLS
