/* Runs a fuzz target as a plain program: every file named on the command
 * line, or every file in every directory named, goes through the target
 * once.  Built without libFuzzer, so the replay runs in the normal test
 * suite; tools/fuzz builds the same targets with -fsanitize=fuzzer. */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
run_file (const char *path)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;

  if (!g_file_get_contents (path, &contents, &len, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  LLVMFuzzerTestOneInput ((const uint8_t *) contents, len);
  return 0;
}

int
main (int    argc,
      char **argv)
{
  guint n = 0;

  for (int i = 1; i < argc; i++)
    {
      if (g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        {
          g_autoptr(GDir) dir = g_dir_open (argv[i], 0, NULL);
          const char *name;

          while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
            {
              g_autofree char *path = g_build_filename (argv[i], name, NULL);
              if (run_file (path) != 0)
                return 1;
              n++;
            }
        }
      else
        {
          if (run_file (argv[i]) != 0)
            return 1;
          n++;
        }
    }
  /* TAP, so meson counts the replay as a test with one subtest. */
  printf ("1..1\nok 1 - %u inputs replayed without a crash\n", n);
  return n > 0 ? 0 : 1;
}
