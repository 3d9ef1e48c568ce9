/* A throwaway CUPS scheduler on loopback for the printing tests. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "ds-test-cups.h"
#include "ds-test-util.h"

/* The printers' "device": a CUPS backend (run by cupsd as the test's user,
 * or as root when the test is root, mode 0700) that keeps each job's
 * document in OUTDIR/PRINTER-JOB, written whole and then renamed so that
 * a file that exists is complete, and its MIME type in PRINTER-JOB.type.  The file: device cannot do this: cupsd
 * writes to it only through filters, which a raw queue has none of. */
static const char backend[] =
  "#!/bin/sh\n"
  "if [ $# -eq 0 ]; then echo 'direct ds-capture \"Unknown\" \"DAC Station test capture\"'; exit 0; fi\n"
  "out=\"${DEVICE_URI#ds-capture:}/$PRINTER-$1\"\n"
  "if [ $# -ge 6 ]; then cat \"$6\" > \"$out.part\" || exit 1; else cat > \"$out.part\" || exit 1; fi\n"
  "printf '%s' \"$CONTENT_TYPE\" > \"$out.type\"\n"
  "mv \"$out.part\" \"$out\"\n";

/* cupsd dies with the test, even when an assertion aborts it. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static char *
find_cupsd (void)
{
  char *path = g_find_program_in_path ("cupsd");

  if (path == NULL && g_file_test ("/usr/sbin/cupsd", G_FILE_TEST_IS_EXECUTABLE))
    path = g_strdup ("/usr/sbin/cupsd");
  return path;
}

static guint16
free_port (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, any, FALSE, &error));
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static void
write_file (const char *dir,
            const char *name,
            const char *contents,
            int         mode)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, contents, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
}

static gboolean
cupsd_answers (gpointer data)
{
  DsTestCups *cups = data;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = NULL;

  conn = g_socket_client_connect_to_host (client, cups->server, 631, NULL, NULL);
  return conn != NULL;
}

gboolean
ds_test_cups_start (DsTestCups         *cups,
                    const char * const *printers)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cupsd = find_cupsd ();
  g_autofree char *root = NULL;
  g_autofree char *bin = NULL;
  g_autofree char *out = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *files = NULL;
  g_autoptr(GString) printers_conf = g_string_new (NULL);
  const char *exec = "/usr/lib/cups/daemon/cups-exec";
  guint16 port;

  memset (cups, 0, sizeof *cups);
  if (cupsd == NULL || !g_file_test (exec, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("cupsd is not installed (Debian: cups-daemon)");
      return FALSE;
    }
  cups->dir = g_dir_make_tmp ("ds-cups-XXXXXX", &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (cups->dir, 0755), ==, 0);
  root = g_build_filename (cups->dir, "root", NULL);
  bin = g_build_filename (cups->dir, "bin", NULL);
  out = g_build_filename (cups->dir, "out", NULL);
  for (const char *const *d = (const char *const[]) { "root", "cache", "state", "spool", "log",
                                                      "bin/backend", "bin/daemon", "out", NULL };
       *d != NULL; d++)
    {
      g_autofree char *path = g_build_filename (cups->dir, *d, NULL);

      g_assert_cmpint (g_mkdir_with_parents (path, 0755), ==, 0);
    }
  /* A root cupsd runs its backends as "lp" unless they are 0700; the
   * spool is its own. */
  g_assert_cmpint (g_chmod (out, 01777), ==, 0);
  write_file (bin, "backend/ds-capture", backend, 0700);
  {
    g_autofree char *link = g_build_filename (bin, "daemon", "cups-exec", NULL);

    g_assert_cmpint (symlink (exec, link), ==, 0);
  }

  port = free_port ();
  cups->server = g_strdup_printf ("127.0.0.1:%u", port);
  conf = g_strdup_printf ("Listen 127.0.0.1:%u\n"
                          "LogLevel debug\n"
                          "WebInterface No\n"
                          "Browsing No\n"
                          "DefaultAuthType None\n"
                          "<Location />\n  Order allow,deny\n  Allow all\n</Location>\n"
                          "<Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n",
                          port);
  write_file (root, "cupsd.conf", conf, 0644);
  files = g_strdup_printf ("ServerRoot %1$s/root\n"
                           "CacheDir %1$s/cache\n"
                           "StateDir %1$s/state\n"
                           "RequestRoot %1$s/spool\n"
                           "TempDir %1$s/spool\n"
                           "ServerBin %1$s/bin\n"
                           "DataDir /usr/share/cups\n"
                           "ErrorLog %1$s/log/error_log\n"
                           "AccessLog %1$s/log/access_log\n"
                           "PageLog %1$s/log/page_log\n"
                           "Printcap %1$s/state/printcap\n",
                           cups->dir);
  write_file (root, "cups-files.conf", files, 0644);
  for (guint i = 0; printers[i] != NULL; i++)
    g_string_append_printf (printers_conf,
                            "<%sPrinter %s>\n"
                            "Info Test label printer %s\n"
                            "DeviceURI ds-capture:%s\n"
                            "State Idle\n"
                            "Accepting Yes\n"
                            "Shared No\n"
                            "</%sPrinter>\n",
                            i == 0 ? "Default" : "", printers[i], printers[i], out,
                            i == 0 ? "Default" : "");
  write_file (root, "printers.conf", printers_conf->str, 0600);

  {
    g_autofree char *conf_path = g_build_filename (root, "cupsd.conf", NULL);
    g_autofree char *files_path = g_build_filename (root, "cups-files.conf", NULL);
    const char *argv[] = { cupsd, "-f", "-c", conf_path, "-s", files_path, NULL };

    g_assert_true (g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL,
                                  die_with_parent, NULL, &cups->pid, &error));
    g_assert_no_error (error);
  }
  ds_test_wait_until (cupsd_answers, cups, 60, "cupsd to listen");
  return TRUE;
}

void
ds_test_cups_stop (DsTestCups *cups)
{
  if (cups->pid != 0)
    ds_test_stop (&cups->pid, SIGTERM);
  if (cups->dir != NULL)
    ds_test_rm_rf (cups->dir);
  g_clear_pointer (&cups->dir, g_free);
  g_clear_pointer (&cups->server, g_free);
}

char *
ds_test_cups_output (DsTestCups *cups,
                     const char *printer,
                     int         job_id)
{
  g_autofree char *name = g_strdup_printf ("%s-%d", printer, job_id);

  return g_build_filename (cups->dir, "out", name, NULL);
}

char *
ds_test_cups_content_type (DsTestCups *cups,
                           const char *printer,
                           int         job_id)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = ds_test_cups_output (cups, printer, job_id);
  g_autofree char *path = g_strconcat (out, ".type", NULL);
  char *type = NULL;

  g_assert_true (g_file_get_contents (path, &type, NULL, &error));
  g_assert_no_error (error);
  return type;
}

static gboolean
file_exists (gpointer data)
{
  return g_file_test (data, G_FILE_TEST_EXISTS);
}

GBytes *
ds_test_cups_wait_output (DsTestCups *cups,
                          const char *printer,
                          int         job_id)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = ds_test_cups_output (cups, printer, job_id);
  char *contents = NULL;
  gsize len = 0;

  ds_test_wait_until (file_exists, path, 120, "the printed job");
  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}
