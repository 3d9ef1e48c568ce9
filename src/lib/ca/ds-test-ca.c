/* The built-in test CA: a test PAA and PAI for vendor 0xFFF1 that issue DACs
 * in the Matter profile.  Test material only, and it says so everywhere. */
#include "config.h"

#include "ds-test-ca.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "ds-crypto.h"
#include "ds-error.h"
#include "ds-util.h"

#define PAA_CN "Matter Test PAA (DAC Station test CA, NOT FOR PRODUCTION)"
#define PAI_CN "Matter Test PAI (DAC Station test CA)"
/* Matter certificates that never expire use GeneralizedTime 9999-12-31. */
#define NO_EXPIRY "99991231235959Z"

struct _DsTestCa
{
  GObject   parent_instance;

  char     *pki_dir;
  char     *paa_path;
  char     *pai_path;
  char     *log_path;
  X509     *paa;
  X509     *pai;
  EVP_PKEY *pai_key;
  GBytes   *paa_der;
  GBytes   *pai_der;
  /* The issuance log, written by group commit: each issuance appends its
   * line under the lock, then waits until an fsync that started after its
   * write has finished; one fsync covers every line written before it. */
  GMutex    lock;
  GCond     log_cond;
  int       log_fd;
  guint64   log_written;  /* lines written */
  guint64   log_synced;   /* lines known to be on disk */
  gboolean  log_syncing;  /* an fsync is running, without the lock */
  gboolean  log_broken;   /* an fsync failed: what it covered may be lost */
};

static void ds_test_ca_iface_init (DsCaInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (DsTestCa, ds_test_ca, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (DS_TYPE_CA, ds_test_ca_iface_init))

static void
ds_test_ca_finalize (GObject *object)
{
  DsTestCa *self = DS_TEST_CA (object);

  g_free (self->pki_dir);
  g_free (self->paa_path);
  g_free (self->pai_path);
  g_free (self->log_path);
  g_clear_pointer (&self->paa, X509_free);
  g_clear_pointer (&self->pai, X509_free);
  g_clear_pointer (&self->pai_key, EVP_PKEY_free);
  g_clear_pointer (&self->paa_der, g_bytes_unref);
  g_clear_pointer (&self->pai_der, g_bytes_unref);
  if (self->log_fd >= 0)
    close (self->log_fd);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->log_cond);
  G_OBJECT_CLASS (ds_test_ca_parent_class)->finalize (object);
}

static void
ds_test_ca_class_init (DsTestCaClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ds_test_ca_finalize;
}

static void
ds_test_ca_init (DsTestCa *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->log_cond);
  self->log_fd = -1;
}

/* A random positive serial number of 16 octets (at most 20 are allowed). */
static gboolean
set_random_serial (X509 *cert)
{
  guint8 bytes[16];
  g_autoptr(BIGNUM) bn = NULL;
  ASN1_INTEGER *serial;
  gboolean ok;

  if (RAND_bytes (bytes, sizeof bytes) != 1)
    return FALSE;
  bytes[0] &= 0x7F;
  if (bytes[0] == 0)
    bytes[0] = 0x01;
  bn = BN_bin2bn (bytes, sizeof bytes, NULL);
  serial = BN_to_ASN1_INTEGER (bn, NULL);
  ok = serial != NULL && X509_set_serialNumber (cert, serial) == 1;
  ASN1_INTEGER_free (serial);
  return ok;
}

static gboolean
add_matter_id (X509_NAME *name,
               int        nid,
               guint16    value)
{
  char hex[5];

  g_snprintf (hex, sizeof hex, "%04X", value);
  return X509_NAME_add_entry_by_NID (name, nid, MBSTRING_UTF8, (const unsigned char *) hex, 4, -1, 0) == 1;
}

static X509_NAME *
make_name (const char *cn,
           gboolean    with_vid,
           guint16     vid,
           gboolean    with_pid,
           guint16     pid)
{
  X509_NAME *name = X509_NAME_new ();
  int nid_vid, nid_pid;

  ds_crypto_init (&nid_vid, &nid_pid);
  X509_NAME_add_entry_by_NID (name, NID_commonName, MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0);
  if (with_vid)
    add_matter_id (name, nid_vid, vid);
  if (with_pid)
    add_matter_id (name, nid_pid, pid);
  return name;
}

typedef enum {
  PROFILE_PAA,
  PROFILE_PAI,
  PROFILE_DAC,
} Profile;

/* Makes and signs one certificate of @profile.  @issuer is NULL for the
 * self-signed PAA. */
/* Gives @cert the public key @spki as it stands: an EC key on a named
 * curve (what ds_csr_check() lets through) has its algorithm, curve and
 * point copied.  X509_set_pubkey() would encode and decode the key again,
 * which costs OpenSSL 3.0 more than a signature check. */
static gboolean
copy_spki (X509               *cert,
           const X509_PUBKEY  *spki)
{
  ASN1_OBJECT *alg = NULL;
  const unsigned char *point = NULL;
  int point_len = 0;
  X509_ALGOR *algor = NULL;
  const ASN1_OBJECT *curve = NULL;
  const void *pval = NULL;
  int ptype = 0;
  ASN1_OBJECT *alg_copy;
  ASN1_OBJECT *curve_copy;
  unsigned char *point_copy;

  if (X509_PUBKEY_get0_param (&alg, &point, &point_len, &algor, (X509_PUBKEY *) spki) != 1 || point_len <= 0)
    return FALSE;
  X509_ALGOR_get0 (NULL, &ptype, &pval, algor);
  if (OBJ_obj2nid (alg) != NID_X9_62_id_ecPublicKey || ptype != V_ASN1_OBJECT)
    return FALSE;
  curve = pval;
  alg_copy = OBJ_dup (alg);
  curve_copy = OBJ_dup (curve);
  point_copy = OPENSSL_memdup (point, point_len);
  if (alg_copy == NULL || curve_copy == NULL || point_copy == NULL ||
      X509_PUBKEY_set0_param (X509_get_X509_PUBKEY (cert), alg_copy, V_ASN1_OBJECT, curve_copy,
                              point_copy, point_len) != 1)
    {
      ASN1_OBJECT_free (alg_copy);
      ASN1_OBJECT_free (curve_copy);
      OPENSSL_free (point_copy);
      return FALSE;
    }
  return TRUE;
}

static X509 *
make_cert (Profile            profile,
           X509_NAME         *subject,
           EVP_PKEY          *subject_key,
           const X509_PUBKEY *subject_spki,
           X509              *issuer,
           EVP_PKEY          *issuer_key,
           GError           **error)
{
  g_autoptr(X509) cert = X509_new ();
  gboolean ok;

  ok = X509_set_version (cert, X509_VERSION_3) &&
       set_random_serial (cert) &&
       X509_set_subject_name (cert, subject) &&
       X509_set_issuer_name (cert, issuer != NULL ? X509_get_subject_name (issuer) : subject) &&
       X509_gmtime_adj (X509_getm_notBefore (cert), -3600) != NULL &&
       ASN1_TIME_set_string_X509 (X509_getm_notAfter (cert), NO_EXPIRY) &&
       (subject_key != NULL ? X509_set_pubkey (cert, subject_key) == 1 : copy_spki (cert, subject_spki));
  if (ok)
    {
      X509 *ext_issuer = issuer != NULL ? issuer : cert;

      switch (profile)
        {
        case PROFILE_PAA:
          ok = ds_cert_add_ext (cert, ext_issuer, NID_basic_constraints, "critical,CA:TRUE,pathlen:1") &&
               ds_cert_add_ext (cert, ext_issuer, NID_key_usage, "critical,keyCertSign,cRLSign") &&
               ds_cert_add_ext (cert, ext_issuer, NID_subject_key_identifier, "hash") &&
               ds_cert_add_ext (cert, ext_issuer, NID_authority_key_identifier, "keyid:always");
          break;
        case PROFILE_PAI:
          ok = ds_cert_add_ext (cert, ext_issuer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
               ds_cert_add_ext (cert, ext_issuer, NID_key_usage, "critical,keyCertSign,cRLSign") &&
               ds_cert_add_ext (cert, ext_issuer, NID_subject_key_identifier, "hash") &&
               ds_cert_add_ext (cert, ext_issuer, NID_authority_key_identifier, "keyid:always");
          break;
        case PROFILE_DAC:
        default:
          ok = ds_cert_add_ext (cert, ext_issuer, NID_basic_constraints, "critical,CA:FALSE") &&
               ds_cert_add_ext (cert, ext_issuer, NID_key_usage, "critical,digitalSignature") &&
               ds_cert_add_ext (cert, ext_issuer, NID_subject_key_identifier, "hash") &&
               ds_cert_add_ext (cert, ext_issuer, NID_authority_key_identifier, "keyid:always");
          break;
        }
    }
  if (ok)
    ok = X509_sign (cert, issuer_key, EVP_sha256 ()) > 0;
  if (!ok)
    {
      ds_set_error_openssl (error, DS_ERROR_FAILED, _("The test CA could not make a certificate"));
      return NULL;
    }
  return g_steal_pointer (&cert);
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
write_pem (const char *dir,
           const char *name,
           const char *pem,
           int         mode,
           GError    **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  return pem != NULL && ds_write_file_atomic (path, pem, strlen (pem), mode, error);
}

/* Creates the PAA and PAI in a fresh directory @dir. */
static gboolean
create_pki (const char *dir,
            GError    **error)
{
  g_autoptr(EVP_PKEY) paa_key = EVP_EC_gen ("P-256");
  g_autoptr(EVP_PKEY) pai_key = EVP_EC_gen ("P-256");
  g_autoptr(X509_NAME) paa_name = NULL;
  g_autoptr(X509_NAME) pai_name = NULL;
  g_autoptr(X509) paa = NULL;
  g_autoptr(X509) pai = NULL;
  g_autofree char *paa_pem = NULL;
  g_autofree char *pai_pem = NULL;
  g_autofree char *paa_key_pem = NULL;
  g_autofree char *pai_key_pem = NULL;

  if (paa_key == NULL || pai_key == NULL)
    {
      ds_set_error_openssl (error, DS_ERROR_FAILED, _("The test CA could not make its keys"));
      return FALSE;
    }
  paa_name = make_name (PAA_CN, TRUE, DS_TEST_CA_VID, FALSE, 0);
  pai_name = make_name (PAI_CN, TRUE, DS_TEST_CA_VID, FALSE, 0);
  paa = make_cert (PROFILE_PAA, paa_name, paa_key, NULL, NULL, paa_key, error);
  if (paa == NULL)
    return FALSE;
  pai = make_cert (PROFILE_PAI, pai_name, pai_key, NULL, paa, paa_key, error);
  if (pai == NULL)
    return FALSE;

  paa_pem = ds_cert_to_pem (paa);
  pai_pem = ds_cert_to_pem (pai);
  paa_key_pem = key_to_pem (paa_key);
  pai_key_pem = key_to_pem (pai_key);
  /* Keys first: a directory with certificates but no keys is never seen. */
  return write_pem (dir, "paa-key.pem", paa_key_pem, 0600, error) &&
         write_pem (dir, "pai-key.pem", pai_key_pem, 0600, error) &&
         write_pem (dir, "paa.pem", paa_pem, 0644, error) &&
         write_pem (dir, "pai.pem", pai_pem, 0644, error);
}

static X509 *
load_cert (const char *path,
           GError    **error)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_autoptr(GBytes) bytes = NULL;
  X509 *cert;

  if (!ds_util_read_file (path, DS_UTIL_MAX_CERT_FILE, &contents, &len, error))
    return NULL;
  bytes = g_bytes_new_take (g_steal_pointer (&contents), len);
  cert = ds_cert_parse (bytes, error);
  if (cert == NULL)
    g_prefix_error (error, "%s: ", path);
  return cert;
}

static EVP_PKEY *
load_key (const char *path,
          GError    **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(BIO) bio = NULL;
  GStatBuf st;
  gsize len = 0;
  EVP_PKEY *key;

  if (g_stat (path, &st) != 0)
    {
      int errsv = errno;
      g_set_error (error, DS_ERROR, DS_ERROR_NOT_FOUND, _("Cannot read %s: %s"), path, g_strerror (errsv));
      return NULL;
    }
  if (st.st_mode & 0077)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("The key file %s can be read by other users (mode %04o); make it 0600 and try again"),
                   path, (unsigned) (st.st_mode & 07777));
      return NULL;
    }
  if (!ds_util_read_file (path, DS_UTIL_MAX_CERT_FILE, &contents, &len, error))
    return NULL;
  bio = BIO_new_mem_buf (contents, (int) len);
  key = PEM_read_bio_PrivateKey (bio, NULL, NULL, NULL);
  OPENSSL_cleanse (contents, len);
  if (key == NULL)
    {
      ds_set_error_openssl (error, DS_ERROR_INVALID_DATA, _("Not a private key"));
      g_prefix_error (error, "%s: ", path);
    }
  return key;
}

static gboolean
load_pki (DsTestCa *self,
          GError  **error)
{
  g_autofree char *pai_key_path = g_build_filename (self->pki_dir, "pai-key.pem", NULL);

  self->paa = load_cert (self->paa_path, error);
  if (self->paa == NULL)
    return FALSE;
  self->pai = load_cert (self->pai_path, error);
  if (self->pai == NULL)
    return FALSE;
  self->pai_key = load_key (pai_key_path, error);
  if (self->pai_key == NULL)
    return FALSE;
  if (X509_check_private_key (self->pai, self->pai_key) != 1)
    {
      ERR_clear_error ();
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("%s does not belong to %s"), pai_key_path, self->pai_path);
      return FALSE;
    }
  self->paa_der = ds_cert_to_der (self->paa);
  self->pai_der = ds_cert_to_der (self->pai);
  return TRUE;
}

DsTestCa *
ds_test_ca_new (const char *pki_dir,
                GError    **error)
{
  g_autoptr(DsTestCa) self = g_object_new (DS_TYPE_TEST_CA, NULL);

  self->pki_dir = g_strdup (pki_dir);
  self->paa_path = g_build_filename (pki_dir, "paa.pem", NULL);
  self->pai_path = g_build_filename (pki_dir, "pai.pem", NULL);
  self->log_path = g_build_filename (pki_dir, "issued.log", NULL);

  if (!g_file_test (self->pai_path, G_FILE_TEST_EXISTS))
    {
      g_autofree char *parent = g_path_get_dirname (pki_dir);
      g_autofree char *tmpl = g_strconcat (pki_dir, ".new-XXXXXX", NULL);
      g_autoptr(GError) local_error = NULL;

      if (g_mkdir_with_parents (parent, 0700) != 0 || g_mkdtemp_full (tmpl, 0700) == NULL)
        {
          int errsv = errno;
          g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot create the test PKI in %s: %s"),
                       parent, g_strerror (errsv));
          return NULL;
        }
      if (!create_pki (tmpl, error))
        return NULL;
      /* Made aside and renamed into place, so two stations starting at once
       * agree on one PKI: the loser's rename fails and it loads the
       * winner's.  rename() replaces an empty directory. */
      if (g_rename (tmpl, pki_dir) != 0)
        {
          const char *names[] = { "paa.pem", "pai.pem", "paa-key.pem", "pai-key.pem" };

          for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
            {
              g_autofree char *path = g_build_filename (tmpl, names[i], NULL);
              g_unlink (path);
            }
          g_rmdir (tmpl);
        }
      else
        g_message ("Created a TEST PKI (vendor 0x%04X, NOT FOR PRODUCTION) in %s", DS_TEST_CA_VID, pki_dir);
    }

  if (!load_pki (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

const char *
ds_test_ca_get_pki_dir (DsTestCa *self)
{
  return self->pki_dir;
}

const char *
ds_test_ca_get_paa_path (DsTestCa *self)
{
  return self->paa_path;
}

const char *
ds_test_ca_get_pai_path (DsTestCa *self)
{
  return self->pai_path;
}

const char *
ds_test_ca_get_log_path (DsTestCa *self)
{
  return self->log_path;
}

guint16
ds_test_ca_get_vid (DsTestCa *self)
{
  return DS_TEST_CA_VID;
}

static const char *
ds_test_ca_get_name (DsCa *ca)
{
  return "test";
}

/* Opens the issuance log for appending; a log made now gets its directory
 * entry synced too, once. */
static gboolean
open_log (DsTestCa *self,
          GError  **error)
{
  gboolean existed = g_file_test (self->log_path, G_FILE_TEST_EXISTS);
  int dfd;

  self->log_fd = open (self->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (self->log_fd < 0)
    {
      int errsv = errno;
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot write the test CA's log %s: %s"),
                   self->log_path, g_strerror (errsv));
      return FALSE;
    }
  if (!existed && (dfd = open (self->pki_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
    {
      fsync (dfd);
      close (dfd);
    }
  return TRUE;
}

/* Appends one whole line, or none: a line cut short (a full disk) is cut
 * off again, so that the next one starts on a line of its own. */
static gboolean
append_line (DsTestCa   *self,
             const char *line,
             gsize       len,
             GError    **error)
{
  off_t start = lseek (self->log_fd, 0, SEEK_END);
  gsize done = 0;

  while (done < len)
    {
      gssize n = write (self->log_fd, line + done, len - done);
      int errsv = errno;

      if (n < 0 && errsv == EINTR)
        continue;
      if (n <= 0)
        {
          if (done > 0 && (start < 0 || ftruncate (self->log_fd, start) != 0))
            self->log_broken = TRUE;
          g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot write the test CA's log %s: %s"),
                       self->log_path, n < 0 ? g_strerror (errsv) : g_strerror (ENOSPC));
          return FALSE;
        }
      done += (gsize) n;
    }
  return TRUE;
}

/* The CA's own issuance log, one line per DAC, on disk before the DAC is
 * handed out: what a real CA keeps, and what a crash test compares the
 * station's records with. */
static gboolean
log_issued (DsTestCa   *self,
            X509       *dac,
            const char *board_uid,
            GError    **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  g_autofree char *serial = ds_cert_serial_hex (dac);
  g_autofree char *fp = ds_cert_fingerprint (dac);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format_iso8601 (now);
  g_autofree char *line = g_strdup_printf ("%s %s %s %s\n", stamp, serial,
                                           board_uid != NULL && *board_uid ? board_uid : "-", fp);
  gsize len = strlen (line);
  guint64 mine;

  locker = g_mutex_locker_new (&self->lock);
  if (self->log_broken)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_IO,
                   _("The test CA's log %s could not be synced to disk earlier; restart the station"),
                   self->log_path);
      return FALSE;
    }
  if (self->log_fd < 0 && !open_log (self, error))
    return FALSE;
  if (!append_line (self, line, len, error))
    return FALSE;
  mine = ++self->log_written;

  while (self->log_synced < mine && !self->log_broken)
    {
      guint64 target;
      int fd;
      gboolean ok;

      if (self->log_syncing)
        {
          g_cond_wait (&self->log_cond, &self->lock);
          continue;
        }
      self->log_syncing = TRUE;
      target = self->log_written;
      fd = self->log_fd;
      g_mutex_unlock (&self->lock);
      ok = fsync (fd) == 0;
      g_mutex_lock (&self->lock);
      self->log_syncing = FALSE;
      if (ok)
        self->log_synced = MAX (self->log_synced, target);
      else
        /* After a failed fsync the kernel may have dropped the pages it
         * could not write and report success next time: never trust this
         * log again in this process. */
        self->log_broken = TRUE;
      g_cond_broadcast (&self->log_cond);
    }
  if (self->log_synced < mine)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot write the test CA's log %s"), self->log_path);
      return FALSE;
    }
  return TRUE;
}

static DsIssued *
ds_test_ca_issue (DsCa                 *ca,
                  const DsIssueRequest *request,
                  GCancellable         *cancellable,
                  GError              **error)
{
  DsTestCa *self = DS_TEST_CA (ca);
  g_autoptr(X509_REQ) parsed = NULL;
  X509_REQ *req;
  g_autoptr(X509_NAME) subject = NULL;
  g_autoptr(X509) dac = NULL;
  g_autofree char *cn = NULL;
  DsIssued *issued;

  /* A CA checks proof of possession itself, unless the station in this
   * same process has just checked this very request object. */
  if (request->csr == NULL)
    {
      parsed = ds_csr_parse (request->csr_der, error);
      if (parsed == NULL)
        return NULL;
      if (!ds_csr_check (parsed, NULL, error))
        return NULL;
    }
  req = request->csr != NULL ? request->csr : parsed;
  if (request->vid != DS_TEST_CA_VID)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                   _("The test CA issues for vendor 0x%04X only, not 0x%04X"), DS_TEST_CA_VID, request->vid);
      return NULL;
    }

  cn = g_strdup_printf ("Matter Test DAC %s", request->board_uid != NULL ? request->board_uid : "");
  subject = make_name (cn, TRUE, request->vid, TRUE, request->pid);
  /* Signing needs no lock: OpenSSL signs with a shared key from several
   * threads.  A DAC whose log line is not on disk is never handed out. */
  dac = make_cert (PROFILE_DAC, subject, NULL, X509_REQ_get_X509_PUBKEY (req), self->pai, self->pai_key, error);
  if (dac == NULL || !log_issued (self, dac, request->board_uid, error))
    return NULL;

  issued = g_new0 (DsIssued, 1);
  issued->dac_der = ds_cert_to_der (dac);
  issued->pai_der = g_bytes_ref (self->pai_der);
  issued->paa_der = g_bytes_ref (self->paa_der);
  return issued;
}

static GBytes *
ds_test_ca_dup_paa (DsCa *ca)
{
  return g_bytes_ref (DS_TEST_CA (ca)->paa_der);
}

static gboolean
ds_test_ca_is_test (DsCa *ca)
{
  return TRUE;
}

static void
ds_test_ca_iface_init (DsCaInterface *iface)
{
  iface->get_name = ds_test_ca_get_name;
  iface->issue = ds_test_ca_issue;
  iface->dup_paa = ds_test_ca_dup_paa;
  iface->is_test = ds_test_ca_is_test;
}
