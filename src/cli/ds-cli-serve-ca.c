/* dac-station-cli serve-ca: an EST server (RFC 7030) over HTTPS with mutual
 * TLS, on top of the built-in test CA, for demos and tests.  It can keep
 * requests pending (202 + Retry-After), fail a share of them, and inject one
 * fault for one board. */
#include "config.h"

#include "ds-cli-serve-ca.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <string.h>

#include "ds-cli-common.h"
#include "ds-crypto.h"
#include "ds-error.h"
#include "ds-pkcs7.h"
#include "ds-test-ca.h"
#include "ds-util.h"

#define EST_ROOT "/.well-known/est"

typedef enum {
  FAULT_NONE,
  FAULT_500,
  FAULT_GARBAGE,
  FAULT_CONTENT_TYPE,
  FAULT_OTHER_KEY,
  FAULT_HANG,
} Fault;

static const char *fault_names[] = { "none", "500", "garbage", "content-type", "other-key", "hang" };

typedef struct {
  DsTestCa   *ca;
  X509       *pai;
  X509       *paa;
  GHashTable *pending;         /* CSR key fingerprint -> GUINT (202s given) */
  guint       pending_n;
  guint       retry_after_s;
  double      fail_rate;
  Fault       fault;
  char       *fault_board;     /* NULL: every board */
  gboolean    require_client_cert;
  gboolean    check_client_cert;
  char       *user;
  char       *password;
  GMainLoop  *loop;
} Server;

static gboolean opt_line_breaks;

/* ---- output -------------------------------------------------------------- */

static void
log_request (SoupServerMessage *msg,
             const char        *board,
             const char        *note)
{
  static guint n_connections;
  const char *method = soup_server_message_get_method (msg);
  const char *path = g_uri_get_path (soup_server_message_get_uri (msg));
  guint status = soup_server_message_get_status (msg);
  GSocket *sock = soup_server_message_get_socket (msg);
  guint connection = 0;

  /* Numbers the connections, so a client's keep-alive can be seen. */
  if (sock != NULL)
    {
      connection = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (sock), "ds-connection"));
      if (connection == 0)
        {
          connection = ++n_connections;
          g_object_set_data (G_OBJECT (sock), "ds-connection", GUINT_TO_POINTER (connection));
        }
    }

  if (opt_json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_add_string (b, "event", "request");
      json_add_string (b, "method", method);
      json_add_string (b, "path", path);
      json_add_int (b, "status", status);
      json_add_string (b, "board", board);
      json_add_string (b, "note", note);
      json_add_int (b, "connection", connection);
      json_builder_end_object (b);
      print_json (b);
    }
  else
    {
      g_print ("%s %s -> %u%s%s%s%s\n", method, path, status,
               board != NULL ? " board " : "", board != NULL ? board : "",
               note != NULL ? ": " : "", note != NULL ? note : "");
      fflush (stdout);
    }
}

static void
respond_text (SoupServerMessage *msg,
              guint              status,
              const char        *text)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=utf-8", SOUP_MEMORY_COPY, text, strlen (text));
}

static void
respond_certs (SoupServerMessage *msg,
               X509 *const       *certs,
               guint              n_certs)
{
  g_autofree char *body = ds_pkcs7_encode_certs_only (certs, n_certs, opt_line_breaks);

  if (body == NULL)
    {
      respond_text (msg, 500, "cannot encode the certificates\n");
      return;
    }
  soup_server_message_set_status (msg, 200, NULL);
  soup_message_headers_append (soup_server_message_get_response_headers (msg),
                               "Content-Transfer-Encoding", "base64");
  soup_server_message_set_response (msg, "application/pkcs7-mime; smime-type=certs-only",
                                    SOUP_MEMORY_COPY, body, strlen (body));
}

/* ---- enrolment ----------------------------------------------------------- */

/* The CSR of a request body: base64 (RFC 7030/8951), or DER. */
static GBytes *
read_csr (SoupServerMessage *msg)
{
  g_autoptr(GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  gsize len = 0;
  const char *data = g_bytes_get_data (body, &len);
  g_autofree char *text = NULL;
  guchar *der;
  gsize der_len = 0;

  if (len > 0 && (guchar) data[0] == 0x30)
    return g_bytes_ref (body);
  text = g_strndup (data, len);
  der = g_base64_decode (text, &der_len);
  return der_len > 0 ? g_bytes_new_take (der, der_len) : (g_free (der), NULL);
}

/* What the station put in the subject: VID, PID and "DAC <uid>". */
static void
read_subject (X509_REQ *req,
              guint16  *vid,
              guint16  *pid,
              char    **board)
{
  g_autoptr(X509) tmp = X509_new ();
  gboolean has_vid = FALSE, has_pid = FALSE;
  X509_NAME *name = X509_REQ_get_subject_name (req);
  char cn[128] = "";

  X509_set_subject_name (tmp, name);
  *vid = 0;
  *pid = 0;
  ds_cert_get_vid_pid (tmp, &has_vid, vid, &has_pid, pid);
  if (X509_NAME_get_text_by_NID (name, NID_commonName, cn, sizeof cn) > 0 && g_str_has_prefix (cn, "DAC "))
    *board = g_strdup (cn + 4);
  else
    *board = NULL;
}

/* A CSR with the same subject for a fresh key: the "other-key" fault. */
static GBytes *
csr_for_other_key (X509_REQ *req)
{
  g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr(X509_REQ) other = X509_REQ_new ();
  g_autofree unsigned char *der = NULL;
  unsigned char *p;
  int len;

  if (key == NULL ||
      !X509_REQ_set_subject_name (other, X509_REQ_get_subject_name (req)) ||
      !X509_REQ_set_pubkey (other, key) ||
      X509_REQ_sign (other, key, EVP_sha256 ()) <= 0)
    return NULL;
  len = i2d_X509_REQ (other, NULL);
  der = g_malloc (len);
  p = der;
  i2d_X509_REQ (other, &p);
  return g_bytes_new (der, len);
}

static gboolean
hang_done_cb (gpointer user_data)
{
  SoupServerMessage *msg = user_data;

  respond_text (msg, 500, "the simulated hang is over\n");
  soup_server_message_unpause (msg);
  g_object_unref (msg);
  return G_SOURCE_REMOVE;
}

static void
handle_enroll (Server            *srv,
               SoupServerMessage *msg)
{
  SoupMessageHeaders *hdrs = soup_server_message_get_request_headers (msg);
  const char *ctype = soup_message_headers_get_content_type (hdrs, NULL);
  g_autoptr(GBytes) csr = NULL;
  g_autoptr(X509_REQ) req = NULL;
  g_autoptr(EVP_PKEY) key = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(DsIssued) issued = NULL;
  g_autoptr(X509) dac = NULL;
  g_autofree char *board = NULL;
  g_autofree char *key_fp = NULL;
  DsIssueRequest request = { 0 };
  Fault fault;
  guint16 vid, pid;

  if (g_strcmp0 (ctype, "application/pkcs10") != 0)
    {
      respond_text (msg, 415, "expected Content-Type: application/pkcs10\n");
      log_request (msg, NULL, "wrong content type");
      return;
    }
  csr = read_csr (msg);
  req = csr != NULL ? ds_csr_parse (csr, &error) : NULL;
  if (req == NULL)
    {
      respond_text (msg, 400, "the body is not a base64 PKCS#10 request\n");
      log_request (msg, NULL, error != NULL ? error->message : "not base64");
      return;
    }
  read_subject (req, &vid, &pid, &board);
  key = X509_REQ_get_pubkey (req);
  key_fp = key != NULL ? ds_pubkey_fingerprint (key) : g_strdup ("");

  fault = srv->fault;
  if (srv->fault_board != NULL && g_strcmp0 (srv->fault_board, board) != 0)
    fault = FAULT_NONE;

  if (srv->pending_n > 0)
    {
      guint given = GPOINTER_TO_UINT (g_hash_table_lookup (srv->pending, key_fp));

      if (given < srv->pending_n)
        {
          g_autofree char *after = g_strdup_printf ("%u", srv->retry_after_s);

          g_hash_table_insert (srv->pending, g_strdup (key_fp), GUINT_TO_POINTER (given + 1));
          soup_server_message_set_status (msg, 202, NULL);
          soup_message_headers_append (soup_server_message_get_response_headers (msg), "Retry-After", after);
          soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "pending\n", 8);
          log_request (msg, board, "pending");
          return;
        }
    }

  switch (fault)
    {
    case FAULT_500:
      respond_text (msg, 500, "simulated CA failure\n");
      log_request (msg, board, "fault 500");
      return;
    case FAULT_GARBAGE:
      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "application/pkcs7-mime; smime-type=certs-only",
                                        SOUP_MEMORY_STATIC, "this is not a certificate!\n", 27);
      log_request (msg, board, "fault garbage");
      return;
    case FAULT_CONTENT_TYPE:
      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC,
                                        "<html><body>Welcome</body></html>\n", 34);
      log_request (msg, board, "fault content-type");
      return;
    case FAULT_HANG:
      /* Answers only after any sensible client timeout. */
      soup_server_message_pause (msg);
      g_timeout_add_seconds (120, hang_done_cb, g_object_ref (msg));
      log_request (msg, board, "fault hang");
      return;
    case FAULT_OTHER_KEY:
      g_clear_pointer (&csr, g_bytes_unref);
      csr = csr_for_other_key (req);
      break;
    case FAULT_NONE:
    default:
      break;
    }

  request.csr_der = csr;
  request.board_uid = board;
  request.vid = vid;
  request.pid = pid;
  issued = ds_ca_issue (DS_CA (srv->ca), &request, NULL, &error);
  if (issued == NULL)
    {
      g_autofree char *text = g_strdup_printf ("%s\n", error->message);

      respond_text (msg, 400, text);
      log_request (msg, board, error->message);
      return;
    }
  dac = ds_cert_parse (issued->dac_der, NULL);
  respond_certs (msg, &dac, 1);
  if (opt_json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autofree char *serial = ds_cert_serial_hex (dac);
      g_autofree char *fp = ds_cert_fingerprint (dac);

      json_builder_begin_object (b);
      json_add_string (b, "event", "issued");
      json_add_string (b, "board", board);
      json_add_string (b, "serial", serial);
      json_add_string (b, "fingerprint", fp);
      json_add_string (b, "fault", fault != FAULT_NONE ? fault_names[fault] : NULL);
      json_builder_end_object (b);
      print_json (b);
    }
  log_request (msg, board, fault == FAULT_OTHER_KEY ? "fault other-key" : "issued");
}

static void
est_handler (SoupServer        *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  Server *srv = user_data;
  const char *method = soup_server_message_get_method (msg);
  const char *op;

  if (srv->check_client_cert)
    {
      GTlsCertificate *peer = soup_server_message_get_tls_peer_certificate (msg);
      GTlsCertificateFlags errors = soup_server_message_get_tls_peer_certificate_errors (msg);
      GSocket *sock = soup_server_message_get_socket (msg);

      /* libsoup 3.2 gives the peer certificate to the first request of a
       * connection only: it is kept with the socket for the next ones. */
      if (peer != NULL && errors == 0 && sock != NULL)
        g_object_set_data_full (G_OBJECT (sock), "ds-peer-certificate", g_object_ref (peer), g_object_unref);
      else if (peer == NULL && sock != NULL)
        peer = g_object_get_data (G_OBJECT (sock), "ds-peer-certificate");

      if ((peer == NULL && srv->require_client_cert) || (peer != NULL && errors != 0))
        {
          respond_text (msg, 403, peer == NULL ? "a client certificate is required\n"
                                               : "the client certificate is not trusted\n");
          log_request (msg, NULL, peer == NULL ? "no client certificate" : "untrusted client certificate");
          return;
        }
    }
  if (srv->fail_rate > 0 && g_random_double () < srv->fail_rate)
    {
      respond_text (msg, 500, "simulated failure (--fail-rate)\n");
      log_request (msg, NULL, "fail-rate");
      return;
    }

  /* EST_ROOT[/label]/operation: any label is served by the one test CA. */
  op = strrchr (path, '/');
  op = op != NULL ? op + 1 : path;
  if (g_str_equal (op, "cacerts") && g_strcmp0 (method, "GET") == 0)
    {
      X509 *chain[] = { srv->pai, srv->paa };

      respond_certs (msg, chain, G_N_ELEMENTS (chain));
      log_request (msg, NULL, NULL);
    }
  else if ((g_str_equal (op, "simpleenroll") || g_str_equal (op, "simplereenroll")) &&
           g_strcmp0 (method, "POST") == 0)
    handle_enroll (srv, msg);
  else
    {
      respond_text (msg, 404, "not an EST operation this server knows\n");
      log_request (msg, NULL, NULL);
    }
}

/* The TLS handshake asks about every client certificate: accepted when it
 * verifies against --client-ca, refused (and said so) otherwise. */
static gboolean
accept_certificate_cb (SoupServerMessage   *msg,
                       GTlsCertificate     *certificate,
                       GTlsCertificateFlags errors,
                       gpointer             user_data)
{
  g_autofree char *subject = NULL;

  if (errors == 0)
    return TRUE;
  g_object_get (certificate, "subject-name", &subject, NULL);
  g_printerr (_("Refused the client certificate “%s” (TLS verification flags 0x%x)\n"),
              subject != NULL ? subject : "?", (unsigned) errors);
  return FALSE;
}

static void
request_started_cb (SoupServer        *server,
                    SoupServerMessage *msg,
                    gpointer           user_data)
{
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (accept_certificate_cb), user_data);
}

static gboolean
basic_auth_cb (SoupAuthDomain    *domain,
               SoupServerMessage *msg,
               const char        *username,
               const char        *password,
               gpointer           user_data)
{
  Server *srv = user_data;
  gsize a = strlen (password), b = strlen (srv->password);
  guint diff = a ^ b;

  /* Compared in constant time over the expected length. */
  for (gsize i = 0; i < b; i++)
    diff |= (guint) (guchar) srv->password[i] ^ (guint) (guchar) (i < a ? password[i] : 0);
  return g_strcmp0 (username, srv->user) == 0 && diff == 0;
}

/* ---- the server's own TLS certificate ------------------------------------ */

static X509 *
make_tls_cert (const char *cn,
               EVP_PKEY   *key,
               X509       *issuer,
               EVP_PKEY   *issuer_key,
               const char *san)
{
  g_autoptr(X509) cert = X509_new ();
  g_autoptr(X509_NAME) name = X509_NAME_new ();
  g_autoptr(BIGNUM) bn = BN_new ();
  ASN1_INTEGER *serial;
  X509 *ext_issuer;
  gboolean ok;

  X509_NAME_add_entry_by_NID (name, NID_commonName, MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0);
  ok = BN_rand (bn, 120, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1;
  serial = ok ? BN_to_ASN1_INTEGER (bn, NULL) : NULL;
  ok = serial != NULL &&
       X509_set_version (cert, X509_VERSION_3) &&
       X509_set_serialNumber (cert, serial) &&
       X509_set_subject_name (cert, name) &&
       X509_set_issuer_name (cert, issuer != NULL ? X509_get_subject_name (issuer) : name) &&
       X509_gmtime_adj (X509_getm_notBefore (cert), -3600) != NULL &&
       X509_gmtime_adj (X509_getm_notAfter (cert), 60L * 60 * 24 * 365) != NULL &&
       X509_set_pubkey (cert, key);
  ASN1_INTEGER_free (serial);
  ext_issuer = issuer != NULL ? issuer : cert;
  if (ok && san == NULL)
    ok = ds_cert_add_ext (cert, ext_issuer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
         ds_cert_add_ext (cert, ext_issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
  else if (ok)
    ok = ds_cert_add_ext (cert, ext_issuer, NID_basic_constraints, "critical,CA:FALSE") &&
         ds_cert_add_ext (cert, ext_issuer, NID_key_usage, "critical,digitalSignature,keyAgreement") &&
         ds_cert_add_ext (cert, ext_issuer, NID_ext_key_usage, "serverAuth") &&
         ds_cert_add_ext (cert, ext_issuer, NID_subject_alt_name, san);
  ok = ok &&
       ds_cert_add_ext (cert, ext_issuer, NID_subject_key_identifier, "hash") &&
       ds_cert_add_ext (cert, ext_issuer, NID_authority_key_identifier, "keyid:always") &&
       X509_sign (cert, issuer_key, EVP_sha256 ()) > 0;
  return ok ? g_steal_pointer (&cert) : NULL;
}

static char *
key_to_pem (EVP_PKEY *key)
{
  g_autoptr(BIO) bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  long len;

  if (!PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL))
    return NULL;
  len = BIO_get_mem_data (bio, &data);
  return g_strndup (data, len);
}

static gboolean
write_pem (const char *path,
           char       *pem,
           int         mode,
           GError    **error)
{
  gboolean ok;

  if (pem == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_FAILED, _("Cannot encode %s"), path);
      return FALSE;
    }
  ok = ds_write_file_atomic (path, pem, strlen (pem), mode, error);
  OPENSSL_cleanse (pem, strlen (pem));
  g_free (pem);
  return ok;
}

/* A throwaway TLS CA and a server certificate for localhost, in @dir,
 * made once and kept. */
static gboolean
ensure_tls_files (const char *dir,
                  const char *host,
                  char      **ca_path,
                  char      **cert_path,
                  char      **key_path,
                  GError    **error)
{
  g_autofree char *ca_key_path = g_build_filename (dir, "tls-ca-key.pem", NULL);
  g_autoptr(EVP_PKEY) ca_key = NULL;
  g_autoptr(EVP_PKEY) key = NULL;
  g_autoptr(X509) ca = NULL;
  g_autoptr(X509) cert = NULL;
  g_autofree char *san = NULL;
  g_autoptr(GInetAddress) addr = g_inet_address_new_from_string (host);

  *ca_path = g_build_filename (dir, "tls-ca.pem", NULL);
  *cert_path = g_build_filename (dir, "tls-server.pem", NULL);
  *key_path = g_build_filename (dir, "tls-server-key.pem", NULL);
  if (g_file_test (*ca_path, G_FILE_TEST_EXISTS) && g_file_test (*cert_path, G_FILE_TEST_EXISTS) &&
      g_file_test (*key_path, G_FILE_TEST_EXISTS))
    return TRUE;

  san = g_strdup_printf ("DNS:localhost,IP:127.0.0.1,IP:::1%s%s",
                         addr != NULL && !g_inet_address_get_is_loopback (addr) ? ",IP:" : "",
                         addr != NULL && !g_inet_address_get_is_loopback (addr) ? host : "");
  ca_key = EVP_EC_gen ("P-256");
  key = EVP_EC_gen ("P-256");
  ca = ca_key != NULL ? make_tls_cert ("DAC Station development TLS CA (NOT FOR PRODUCTION)", ca_key, NULL, ca_key, NULL) : NULL;
  cert = ca != NULL && key != NULL ? make_tls_cert ("DAC Station development EST server", key, ca, ca_key, san) : NULL;
  if (cert == NULL)
    {
      ds_set_error_openssl (error, DS_ERROR_FAILED, _("Cannot make the server's TLS certificate"));
      return FALSE;
    }
  return write_pem (ca_key_path, key_to_pem (ca_key), 0600, error) &&
         write_pem (*key_path, key_to_pem (key), 0600, error) &&
         write_pem (*cert_path, ds_cert_to_pem (cert), 0644, error) &&
         write_pem (*ca_path, ds_cert_to_pem (ca), 0644, error);
}

/* ---- the command --------------------------------------------------------- */

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

static char *
read_password (const char *file,
               GError    **error)
{
  const char *env = g_getenv ("DS_CA_PASSWORD");

  if (file != NULL)
    {
      /* Held to the rule of the PIN file: mode 0600, the first line. */
      return ds_util_read_secret_file (file, error);
    }
  if (env != NULL && *env != '\0')
    return g_strdup (env);
  g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
               _("--user needs a password: put it in a file (--password-file) or in DS_CA_PASSWORD"));
  return NULL;
}

int
ds_cli_serve_ca (int    argc,
                 char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("— run a development EST server over the test CA"));
  g_autofree char *listen = NULL;
  g_autofree char *pki = NULL;
  g_autofree char *tls_cert = NULL;
  g_autofree char *tls_key = NULL;
  g_autofree char *client_ca = NULL;
  g_autofree char *password_file = NULL;
  g_autofree char *fault = NULL;
  g_autofree char *tls_ca = NULL;
  gboolean require_client_cert = FALSE;
  int pending = 0;
  int retry_after = 1;
  double fail_rate = 0;
  Server srv = { 0 };
  GOptionEntry entries[] = {
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &listen, N_("Address and port (default 127.0.0.1:0, a free port)"), N_("HOST:PORT") },
    { "pki", 0, 0, G_OPTION_ARG_FILENAME, &pki, N_("The test PKI to issue from (default: the data directory's)"), N_("DIR") },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert, N_("The server's TLS certificate (default: made in the PKI directory)"), N_("FILE") },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key, N_("The server's TLS key"), N_("FILE") },
    { "client-ca", 0, 0, G_OPTION_ARG_FILENAME, &client_ca, N_("Accept client certificates issued by these CAs"), N_("FILE") },
    { "require-client-cert", 0, 0, G_OPTION_ARG_NONE, &require_client_cert, N_("Refuse clients without a trusted certificate"), NULL },
    { "user", 0, 0, G_OPTION_ARG_STRING, &srv.user, N_("Require HTTP Basic with this user (password from --password-file or DS_CA_PASSWORD)"), N_("NAME") },
    { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &password_file, N_("File holding the Basic password"), N_("FILE") },
    { "pending", 0, 0, G_OPTION_ARG_INT, &pending, N_("Answer 202 Retry-After to the first N requests for each key"), N_("N") },
    { "retry-after", 0, 0, G_OPTION_ARG_INT, &retry_after, N_("Seconds in Retry-After (default 1)"), N_("S") },
    { "fail-rate", 0, 0, G_OPTION_ARG_DOUBLE, &fail_rate, N_("Fail this share of requests with HTTP 500 (0 to 1)"), N_("R") },
    { "base64-lines", 0, 0, G_OPTION_ARG_NONE, &opt_line_breaks, N_("Break base64 answers into 64-character lines"), NULL },
    { "fault", 0, 0, G_OPTION_ARG_STRING, &fault, N_("Inject a fault in enrolments: 500, garbage, content-type, other-key, hang"), N_("KIND") },
    { "fault-board", 0, 0, G_OPTION_ARG_STRING, &srv.fault_board, N_("Only for this board UID (default: every board)"), N_("UID") },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(SoupServer) server = NULL;
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(SoupAuthDomain) domain = NULL;
  g_autofree char *host = NULL;
  g_autofree char *url = NULL;
  GSList *uris;
  guint port = 0;
  char *colon;
  guint sigint_id, sigterm_id;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, common_entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (argc > 1)
    return usage_error (context, _("Unexpected arguments"));
  if (pending < 0 || retry_after < 0 || fail_rate < 0 || fail_rate > 1)
    return usage_error (context, _("--pending and --retry-after take a positive number, --fail-rate a share from 0 to 1"));
  if ((tls_cert == NULL) != (tls_key == NULL))
    return usage_error (context, _("--tls-cert and --tls-key go together"));
  if (fault != NULL)
    {
      for (guint i = 1; i < G_N_ELEMENTS (fault_names); i++)
        if (g_str_equal (fault, fault_names[i]))
          srv.fault = i;
      if (srv.fault == FAULT_NONE)
        return usage_error (context, _("--fault takes 500, garbage, content-type, other-key or hang"));
    }

  host = g_strdup (listen != NULL ? listen : "127.0.0.1:0");
  colon = strrchr (host, ':');
  if (colon == NULL)
    return usage_error (context, _("--listen takes HOST:PORT, for example 127.0.0.1:8443"));
  *colon = '\0';
  port = (guint) g_ascii_strtoull (colon + 1, NULL, 10);
  if (host[0] == '[' && g_str_has_suffix (host, "]"))
    {
      memmove (host, host + 1, strlen (host));
      host[strlen (host) - 1] = '\0';
    }
  address = g_inet_socket_address_new_from_string (host, port);
  if (address == NULL || port > 65535)
    return usage_error (context, _("--listen takes a numeric address and a port, for example 127.0.0.1:8443"));

  if (pki == NULL)
    {
      g_autofree char *dir = data_dir ();
      pki = g_build_filename (dir, "pki", NULL);
    }
  srv.ca = ds_test_ca_new (pki, &error);
  if (srv.ca == NULL)
    {
      g_printerr (_("Cannot set up the test CA: %s\n"), error->message);
      return EXIT_USAGE;
    }
  {
    g_autoptr(GBytes) paa = ds_ca_dup_paa (DS_CA (srv.ca));
    g_autofree char *pai_pem = NULL;
    gsize len = 0;

    srv.paa = ds_cert_parse (paa, NULL);
    if (g_file_get_contents (ds_test_ca_get_pai_path (srv.ca), &pai_pem, &len, NULL))
      {
        g_autoptr(GBytes) b = g_bytes_new_take (g_steal_pointer (&pai_pem), len);
        srv.pai = ds_cert_parse (b, NULL);
      }
  }
  if (srv.paa == NULL || srv.pai == NULL)
    {
      g_printerr (_("Cannot read the test PKI in %s\n"), pki);
      return EXIT_USAGE;
    }
  if (srv.user != NULL)
    {
      srv.password = read_password (password_file, &error);
      if (srv.password == NULL)
        {
          g_printerr ("%s\n", error->message);
          return EXIT_USAGE;
        }
    }

  if (tls_cert == NULL)
    {
      if (!ensure_tls_files (ds_test_ca_get_pki_dir (srv.ca), host, &tls_ca, &tls_cert, &tls_key, &error))
        {
          g_printerr (_("Cannot make the server's TLS certificate: %s\n"), error->message);
          return EXIT_USAGE;
        }
    }
  certificate = g_tls_certificate_new_from_files (tls_cert, tls_key, &error);
  if (certificate == NULL)
    {
      g_printerr (_("Cannot load the server's TLS certificate: %s\n"), error->message);
      return EXIT_USAGE;
    }

  server = soup_server_new ("server-header", "dac-station-est ", "tls-certificate", certificate, NULL);
  if (require_client_cert && client_ca == NULL)
    {
      if (tls_ca == NULL)
        return usage_error (context, _("--require-client-cert with your own --tls-cert needs --client-ca"));
      client_ca = g_strdup (tls_ca);
    }
  if (client_ca != NULL)
    {
      /* GLib wants the anchors' file name absolute. */
      g_autofree char *anchors = g_canonicalize_filename (client_ca, NULL);
      g_autoptr(GTlsDatabase) db = g_tls_file_database_new (anchors, &error);

      if (db == NULL)
        {
          g_printerr (_("Cannot load the client CA %s: %s\n"), client_ca, error->message);
          return EXIT_USAGE;
        }
      soup_server_set_tls_database (server, db);
      soup_server_set_tls_auth_mode (server, require_client_cert ? G_TLS_AUTHENTICATION_REQUIRED
                                                                 : G_TLS_AUTHENTICATION_REQUESTED);
      srv.check_client_cert = TRUE;
      g_signal_connect (server, "request-started", G_CALLBACK (request_started_cb), &srv);
      srv.require_client_cert = require_client_cert;
    }
  if (srv.user != NULL)
    {
      domain = soup_auth_domain_basic_new ("realm", "DAC Station EST", NULL);
      soup_auth_domain_basic_set_auth_callback (domain, basic_auth_cb, &srv, NULL);
      soup_auth_domain_add_path (domain, EST_ROOT);
      soup_server_add_auth_domain (server, domain);
    }
  srv.pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  srv.pending_n = (guint) pending;
  srv.retry_after_s = (guint) retry_after;
  srv.fail_rate = fail_rate;
  soup_server_add_handler (server, EST_ROOT, est_handler, &srv, NULL);

  if (!soup_server_listen (server, address, SOUP_SERVER_LISTEN_HTTPS, &error))
    {
      g_printerr (_("Cannot listen on %s: %s\n"), listen != NULL ? listen : "127.0.0.1:0", error->message);
      return EXIT_USAGE;
    }
  uris = soup_server_get_uris (server);
  if (uris != NULL)
    port = (guint) g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  url = strchr (host, ':') != NULL ? g_strdup_printf ("https://[%s]:%u", host, port)
                                   : g_strdup_printf ("https://%s:%u", host, port);

  if (opt_json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_add_string (b, "event", "listening");
      json_add_string (b, "url", url);
      json_add_string (b, "est", EST_ROOT);
      json_add_string (b, "tls_ca", tls_ca);
      json_add_string (b, "tls_cert", tls_cert);
      json_add_string (b, "pki", ds_test_ca_get_pki_dir (srv.ca));
      json_add_string (b, "paa", ds_test_ca_get_paa_path (srv.ca));
      json_builder_end_object (b);
      print_json (b);
    }
  else
    {
      g_print (_("EST server (TEST CA, NOT FOR PRODUCTION) listening on %s%s\n"), url, EST_ROOT);
      if (tls_ca != NULL)
        g_print (_("TLS CA bundle: %s\n"), tls_ca);
      g_print (_("Test PAA: %s\n"), ds_test_ca_get_paa_path (srv.ca));
      fflush (stdout);
    }

  srv.loop = g_main_loop_new (NULL, FALSE);
  sigint_id = g_unix_signal_add (SIGINT, on_signal, srv.loop);
  sigterm_id = g_unix_signal_add (SIGTERM, on_signal, srv.loop);
  g_main_loop_run (srv.loop);
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);

  soup_server_disconnect (server);
  g_main_loop_unref (srv.loop);
  g_hash_table_unref (srv.pending);
  X509_free (srv.pai);
  X509_free (srv.paa);
  g_object_unref (srv.ca);
  g_free (srv.user);
  g_free (srv.fault_board);
  if (srv.password != NULL)
    {
      explicit_bzero (srv.password, strlen (srv.password));
      g_free (srv.password);
    }
  return EXIT_OK;
}
