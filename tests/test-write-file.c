/* ds_write_file_atomic() when the disk fails it: fsync() is wrapped at link
 * time (-Wl,--wrap=fsync, see tests/meson.build) so that a test can make it
 * fail, as a full or failing disk would. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "ds-crypto.h"
#include "ds-error.h"

int __real_fsync (int fd);
int __wrap_fsync (int fd);

static gboolean fail_fsync;

int
__wrap_fsync (int fd)
{
  if (fail_fsync)
    {
      errno = EIO;
      return -1;
    }
  return __real_fsync (fd);
}

/* The number the next open() gets: an fd left open keeps it taken. */
static int
lowest_free_fd (void)
{
  int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  close (fd);
  return fd;
}

static void
test_written (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ds-write-file-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;
  int before;

  g_assert_no_error (error);
  path = g_build_filename (dir, "record", NULL);
  before = lowest_free_fd ();
  g_assert_true (ds_write_file_atomic (path, "abc", 3, 0600, &error));
  g_assert_no_error (error);
  g_assert_cmpint (lowest_free_fd (), ==, before);
  g_assert_true (g_file_get_contents (path, &contents, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, "abc");
  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* A failed fsync fails the write, leaves neither the file nor its
 * temporary behind, and closes the temporary's fd. */
static void
test_fsync_fails (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ds-write-file-XXXXXX", &error);
  g_autofree char *path = NULL;
  int before;

  g_assert_no_error (error);
  path = g_build_filename (dir, "record", NULL);
  before = lowest_free_fd ();
  fail_fsync = TRUE;
  g_assert_false (ds_write_file_atomic (path, "abc", 3, 0600, &error));
  fail_fsync = FALSE;
  g_assert_error (error, DS_ERROR, DS_ERROR_IO);
  g_assert_cmpint (lowest_free_fd (), ==, before);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  /* Empty: the temporary went too. */
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/write-file/written", test_written);
  g_test_add_func ("/write-file/fsync-fails", test_fsync_fails);
  return g_test_run ();
}
