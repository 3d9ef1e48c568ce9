/* A throwaway CUPS scheduler for the printing tests: cupsd run by the test
 * (as the test's own user) on a free loopback port with its own
 * configuration, and printers whose jobs land in files. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char  *dir;       /* everything of this scheduler, removed at stop */
  char  *server;    /* "127.0.0.1:PORT" */
  GPid   pid;       /* the running cupsd, or 0 */
} DsTestCups;

/* Starts cupsd with the NULL-terminated @printers (raw queues, the first
 * the default); each job's document is written, unfiltered, to a file
 * ds_test_cups_output() names.  Returns FALSE, having called
 * g_test_skip(), when cupsd is not installed. */
gboolean  ds_test_cups_start       (DsTestCups         *cups,
                                    const char * const *printers);
void      ds_test_cups_stop        (DsTestCups         *cups);
/* The file job @job_id on @printer is written to. */
char     *ds_test_cups_output      (DsTestCups         *cups,
                                    const char         *printer,
                                    int                 job_id);
/* Waits until job @job_id on @printer is printed and returns its bytes. */
GBytes   *ds_test_cups_wait_output (DsTestCups         *cups,
                                    const char         *printer,
                                    int                 job_id);

/* The MIME type CUPS gave job @job_id's document, once it is printed. */
char     *ds_test_cups_content_type (DsTestCups        *cups,
                                     const char        *printer,
                                     int                job_id);

G_END_DECLS
