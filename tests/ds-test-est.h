/* Helpers of the remote CA tests: serve-ca as a child process, TLS client
 * credentials made with the openssl command line, CSRs made in-process. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#include <gio/gio.h>

typedef struct {
  GSubprocess *proc;
  char *url;       /* https://127.0.0.1:PORT */
  char *tls_ca;    /* the bundle its TLS certificate chains to */
  char *pki;       /* its test PKI */
  char *paa;
  char *out_path;  /* its stdout (JSON lines) */
} DsTestServer;

/* Starts `dac-station-cli serve-ca --json --listen 127.0.0.1:0 --pki DIR/pki`
 * with @extra arguments and @env_extra ("NAME=VALUE", may be NULL), waits
 * for its "listening" line. */
DsTestServer *ds_test_server_start (const char        *dir,
                                    const char *const *extra,
                                    const char *const *env_extra);
void          ds_test_server_free  (DsTestServer      *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsTestServer, ds_test_server_free)
/* How many of its "request" events have @note. */
guint         ds_test_server_count (DsTestServer      *server,
                                    const char        *note);

/* How many TCP connections its requests came on. */
guint         ds_test_server_connections (DsTestServer *server);

/* A TLS client CA (DIR/client-ca.pem) and a client certificate and key
 * (DIR/client.pem, DIR/client-key.pem, 0600) issued by it, with openssl. */
void          ds_test_make_client_credentials (const char *dir);

/* Runs a program, asserting it exits 0; returns its stdout. */
char         *ds_test_spawn_ok     (const char *const *argv);

/* A DER PKCS#10 with a fresh P-256 key, subject CN "DAC @uid" and the Matter
 * VID/PID attributes. */
GBytes       *ds_test_make_csr     (const char        *uid,
                                    guint16            vid,
                                    guint16            pid);

/* A DER PKCS#10 with a fresh P-256 key and only a CN (for CAs that keep no
 * other attribute: "Mvid:FFF1 Mpid:8000"). */
GBytes       *ds_test_make_csr_cn  (const char        *cn);

/* Starts @argv (a server of someone else's) so that it dies with the test;
 * its output goes to @log_path. */
GSubprocess  *ds_test_spawn_peer   (const char *const *argv,
                                    const char        *log_path);
/* A TCP port on 127.0.0.1 that was free a moment ago. */
guint16       ds_test_free_port    (void);
/* Waits until 127.0.0.1:@port accepts connections (at most 20 s). */
void          ds_test_wait_port    (guint16            port);

G_END_DECLS
