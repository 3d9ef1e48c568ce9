/* Small file helpers the front ends, the benchmarks and the tests share. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Removes @path and everything below it, not following symbolic links.
 * TRUE when it is gone. */
gboolean ds_util_remove_tree (const char *path);

G_END_DECLS
