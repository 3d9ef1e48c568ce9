/* dac-station: the GTK station for line operators and engineers. */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <signal.h>

#include "ds-application.h"

int
main (int    argc,
      char **argv)
{
  g_autoptr(DsApplication) app = NULL;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  /* A board that hangs up while we write must be an error, not a signal. */
  signal (SIGPIPE, SIG_IGN);

#ifdef DS_BUILD_ROOT
  /* Run from the build tree (not installed; `meson devenv`, tools/run): use
   * the settings schema and the translations compiled there, not whatever
   * the install prefix holds. */
  {
    g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);

    if (exe != NULL && g_str_has_prefix (exe, DS_BUILD_ROOT "/"))
      {
        if (g_getenv ("GSETTINGS_SCHEMA_DIR") == NULL)
          g_setenv ("GSETTINGS_SCHEMA_DIR", DS_BUILD_ROOT "/data", TRUE);
        bindtextdomain (GETTEXT_PACKAGE, DS_BUILD_ROOT "/po");
      }
  }
#endif

  g_set_application_name (_("DAC Station"));
  app = ds_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
