/* The outside pieces the station and its tests need at run time, each tried
 * once: a program run the way the tests run it, a plugin it loads, the SVG
 * loader the GUI's icons need.  A machine set up by tools/run passes all of
 * them; a missing piece fails here in one line naming the Debian package,
 * instead of somewhere deep inside another suite. */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gio/gio.h>

typedef struct {
  const char *id;        /* the test path's last part */
  const char *package;   /* the Debian package that provides it */
  const char *argv[10];  /* a run that needs the piece working, not just present */
  const char *expect;    /* a text its output must hold, or NULL */
} Program;

/* What each run proves is in its arguments: `pki --gen` needs strongSwan's
 * openssl plugin (libstrongswan-standard-plugins), which a bare
 * strongswan-pki does not pull in; `xvfb-run` needs xauth; and so on. */
static const Program programs[] = {
  { "openssl", "openssl", { "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", NULL },
    "PRIVATE KEY" },
  { "sqlite3", "sqlite3", { "sqlite3", ":memory:", "select 6*7;", NULL }, "42" },
  { "pki", "strongswan-pki and libstrongswan-standard-plugins",
    { "pki", "--gen", "--type", "ecdsa", "--size", "256", "--outform", "pem", NULL }, "PRIVATE KEY" },
  { "cfssl", "golang-cfssl", { "cfssl", "version", NULL }, "Version" },
  { "stm32flash", "stm32flash", { "stm32flash", "-h", NULL }, "stm32flash" },
  { "softhsm2-util", "softhsm2", { "softhsm2-util", "--version", NULL }, NULL },
  { "pkcs11-tool", "opensc", { "pkcs11-tool", "--help", NULL }, "pkcs11-tool" },
  { "openssl-pkcs11-engine", "libengine-pkcs11-openssl",
    { "openssl", "engine", "-t", "pkcs11", NULL }, "available" },
  { "curl", "curl", { "curl", "--version", NULL }, "curl" },
  { "valgrind", "valgrind", { "valgrind", "--version", NULL }, "valgrind" },
  { "xvfb-run", "xvfb and xauth", { "xvfb-run", "-a", "-s", "-screen 0 64x64x24", "xauth", "list", NULL },
    NULL },
  { "desktop-file-validate", "desktop-file-utils", { "desktop-file-validate", "--help", NULL }, NULL },
  { "appstreamcli", "appstream", { "appstreamcli", "--version", NULL }, NULL },
  { "msgfmt", "gettext", { "msgfmt", "--version", NULL }, "msgfmt" },
  { "python3", "python3", { "python3", "-c", "import json, sqlite3; print('ok')", NULL }, "ok" },
};

static void
test_program (gconstpointer data)
{
  const Program *p = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *path = g_find_program_in_path (p->argv[0]);
  int status = 0;

  if (path == NULL)
    {
      g_test_fail_printf ("%s is not installed (Debian package %s)", p->argv[0], p->package);
      return;
    }
  if (!g_spawn_sync (NULL, (char **) p->argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                     &status, &error))
    {
      g_test_fail_printf ("%s cannot run (Debian package %s): %s", p->argv[0], p->package, error->message);
      return;
    }
  /* Some programs print their help with a non-zero status; what counts is
   * that they ran and said what a working one says. */
  if (p->expect != NULL ? (strstr (out, p->expect) == NULL && strstr (err, p->expect) == NULL)
                        : !g_spawn_check_wait_status (status, NULL))
    {
      g_auto(GStrv) lines = g_strsplit (g_strstrip (err[0] != '\0' ? err : out), "\n", -1);
      guint n = g_strv_length (lines);

      /* The last line is the verdict (pki lists every plugin first). */
      g_test_fail_printf ("%s does not work (Debian package %s): %s", p->argv[0], p->package,
                          n > 0 ? lines[n - 1] : "no output");
    }
}

static void
test_postgresql (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/usr/lib/postgresql", 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *initdb = g_build_filename ("/usr/lib/postgresql", name, "bin", "initdb", NULL);

      if (g_file_test (initdb, G_FILE_TEST_IS_EXECUTABLE))
        return;
    }
  g_test_fail_printf ("no PostgreSQL server in /usr/lib/postgresql/*/bin (Debian package postgresql)");
}

static void
test_softhsm_module (void)
{
  static const char *const paths[] = {
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
  };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    if (g_file_test (paths[i], G_FILE_TEST_EXISTS))
      return;
  g_test_fail_printf ("SoftHSM's PKCS#11 module libsofthsm2.so is missing (Debian package softhsm2)");
}

static void
load_svg (const char *path, const char *package)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file_at_size (path, 32, 32, &error);

  if (pixbuf == NULL)
    {
      g_test_fail_printf ("cannot load the SVG icon %s (Debian package %s): %s", path, package,
                          error->message);
      return;
    }
  g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, 32);
}

static void
test_svg_loader (void)
{
  g_autofree char *icon = g_test_build_filename (G_TEST_DIST, "..", "resources", "icons",
                                                 "ds-statistics-symbolic.svg", NULL);

  load_svg (icon, "librsvg2-common, GdkPixbuf's SVG loader");
}

/* The symbolic icons the window uses come from GTK's own theme. */
static void
test_adwaita_icons (void)
{
  load_svg ("/usr/share/icons/Adwaita/scalable/actions/view-list-bullet-symbolic.svg", "adwaita-icon-theme");
}

/* libsoup and libcurl's TLS for serve-ca and the EST tests: GIO's TLS backend
 * is a module, so a missing glib-networking only shows at the first handshake. */
static void
test_tls_backend (void)
{
  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    g_test_fail_printf ("GIO has no TLS backend (Debian package glib-networking)");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (programs); i++)
    {
      g_autofree char *path = g_strdup_printf ("/runtime/program/%s", programs[i].id);

      g_test_add_data_func (path, &programs[i], test_program);
    }
  g_test_add_func ("/runtime/postgresql", test_postgresql);
  g_test_add_func ("/runtime/softhsm-module", test_softhsm_module);
  g_test_add_func ("/runtime/svg-loader", test_svg_loader);
  g_test_add_func ("/runtime/adwaita-icons", test_adwaita_icons);
  g_test_add_func ("/runtime/tls-backend", test_tls_backend);
  return g_test_run ();
}
