/* A simulated board: the provisioning firmware's command handler, its
 * secure storage in a state directory, a UART-speed throttle and faults. */
#define _GNU_SOURCE
#include "config.h"

#include "ds-sim-board.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "ds-crypto.h"
#include "ds-error.h"
#include "ds-firmware-image.h"
#include "ds-frame.h"
#include "ds-sim-announce.h"
#include "ds-stm32-parts.h"

/* Bits on the wire per byte for 8E1: start, 8 data, parity, stop. */
#define BITS_PER_BYTE 11
#define REBOOT_QUIET_US (200 * 1000)

struct _DsSimBoard
{
  GObject       parent_instance;

  guint         index;
  char         *name;
  char         *dir;         /* STATE_DIR/sim-N */
  char         *uid;         /* 24 hex digits */
  guint8        uid_bytes[DS_UID_LEN];
  char         *fw_version;
  guint         baud;
  GPtrArray    *faults;      /* DsSimFault */
  GRand        *rand;        /* faults' randomness, seeded */

  /* Secure storage. */
  guint8        state;
  EVP_PKEY     *key;
  GBytes       *dac;
  GBytes       *pai;
  GBytes       *cd;

  /* The pty and its server thread. */
  int           master;
  int           slave_keep;
  char         *port;
  char         *announce_dir;
  GThread      *thread;
  gint          stop;
  gint64        in_clock;
  gint64        out_clock;
  /* What the board's own time went to, for the overhead benchmark:
   * bytes on the wire at the UART rate, and its own work (crypto, flash
   * erase and programming). */
  gint64        wire_us;
  gint64        compute_us;
  gint64        pacing_slack_us;  /* how late the throttle left the line, in all */
  gint64        in_late, out_late; /* how late the current run of bytes is */
  gsize         in_waiting;       /* bytes left unread at the last read */
  guint64       bytes_in;
  guint64       bytes_out;
  gint64        quiet_until;

  /* Flash and the ROM bootloader (ST AN3155). */
  guint16       product_id;
  guint32       flash_size;
  guint32       page_size;
  guint8       *flash;
  int           flash_fd;
  gboolean      in_bootloader;
  gboolean      legacy_erase;
  gboolean      bl_synced;
  GByteArray   *inbuf;        /* bytes received, not yet consumed */

  /* The last answer, for retransmitted requests. */
  gboolean      have_last;
  guint16       last_seq;
  guint8        last_cmd;
  GBytes       *last_answer;
};

G_DEFINE_FINAL_TYPE (DsSimBoard, ds_sim_board, G_TYPE_OBJECT)

static const char *state_names[] = { "empty", "key-pending", "installed", "locked" };

gboolean
ds_sim_fault_parse (const char *spec,
                    DsSimFault *fault,
                    GError    **error)
{
  g_auto(GStrv) parts = g_strsplit (spec, ":", 2);
  const char *kind = parts[0];
  const char *arg = parts[1];

  memset (fault, 0, sizeof *fault);
  if (g_str_equal (kind, "corrupt") || g_str_equal (kind, "drop"))
    {
      char *end = NULL;

      fault->kind = g_str_equal (kind, "corrupt") ? DS_SIM_FAULT_CORRUPT : DS_SIM_FAULT_DROP;
      fault->rate = arg != NULL ? g_ascii_strtod (arg, &end) : -1;
      if (arg == NULL || end == arg || *end != '\0' || fault->rate < 0 || fault->rate > 1)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, "%s needs a rate from 0 to 1, e.g. %s:0.01", kind, kind);
          return FALSE;
        }
      return TRUE;
    }
  if (g_str_equal (kind, "stall") || g_str_equal (kind, "disconnect"))
    {
      fault->kind = g_str_equal (kind, "stall") ? DS_SIM_FAULT_STALL : DS_SIM_FAULT_DISCONNECT;
      for (guint8 c = DS_CMD_INFO; c <= DS_CMD_REBOOT; c++)
        if (arg != NULL && g_ascii_strcasecmp (arg, ds_command_to_string (c)) == 0)
          {
            fault->command = c;
            return TRUE;
          }
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   "%s needs a command: INFO, GENERATE_CSR, INSTALL, READ, ATTEST, LOCK or REBOOT", kind);
      return FALSE;
    }
  if (g_str_equal (kind, "wrong-key") && arg == NULL)
    {
      fault->kind = DS_SIM_FAULT_WRONG_KEY;
      return TRUE;
    }
  if (g_str_equal (kind, "nack-write") && arg != NULL)
    {
      guint64 a;

      fault->kind = DS_SIM_FAULT_NACK_WRITE;
      if (!g_ascii_string_to_unsigned (g_str_has_prefix (arg, "0x") ? arg + 2 : arg, 16, 0, G_MAXUINT32, &a, NULL))
        {
          g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, "nack-write needs a hex address, e.g. nack-write:0x08000400");
          return FALSE;
        }
      fault->address = (guint32) a;
      return TRUE;
    }
  if (g_str_equal (kind, "unplug-flashing") && arg == NULL)
    {
      fault->kind = DS_SIM_FAULT_UNPLUG_FLASHING;
      return TRUE;
    }
  if (g_str_equal (kind, "refuse-install") && arg == NULL)
    {
      fault->kind = DS_SIM_FAULT_REFUSE_INSTALL;
      return TRUE;
    }
  if (arg == NULL && (g_str_equal (kind, "claim-locked") || g_str_equal (kind, "uid-after-lock") ||
                      g_str_equal (kind, "escape-text")))
    {
      fault->kind = g_str_equal (kind, "claim-locked") ? DS_SIM_FAULT_CLAIM_LOCKED
                    : g_str_equal (kind, "uid-after-lock") ? DS_SIM_FAULT_UID_AFTER_LOCK
                    : DS_SIM_FAULT_ESCAPE_TEXT;
      return TRUE;
    }
  g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
               "unknown fault “%s”: corrupt:RATE, drop:RATE, stall:CMD, disconnect:CMD, wrong-key, refuse-install, "
               "nack-write:ADDR, unplug-flashing, claim-locked, uid-after-lock or escape-text",
               spec);
  return FALSE;
}

static void
ds_sim_board_finalize (GObject *object)
{
  DsSimBoard *self = DS_SIM_BOARD (object);

  ds_sim_board_stop (self);
  g_free (self->name);
  g_free (self->dir);
  g_free (self->uid);
  g_free (self->fw_version);
  g_ptr_array_unref (self->faults);
  g_rand_free (self->rand);
  g_clear_pointer (&self->key, EVP_PKEY_free);
  g_clear_pointer (&self->dac, g_bytes_unref);
  g_clear_pointer (&self->pai, g_bytes_unref);
  g_clear_pointer (&self->cd, g_bytes_unref);
  g_clear_pointer (&self->last_answer, g_bytes_unref);
  g_byte_array_unref (self->inbuf);
  g_free (self->flash);
  if (self->flash_fd >= 0)
    close (self->flash_fd);
  g_free (self->port);
  g_free (self->announce_dir);
  G_OBJECT_CLASS (ds_sim_board_parent_class)->finalize (object);
}

static void
ds_sim_board_class_init (DsSimBoardClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ds_sim_board_finalize;
}

static void
ds_sim_board_init (DsSimBoard *self)
{
  self->faults = g_ptr_array_new_with_free_func (g_free);
  self->inbuf = g_byte_array_new ();
  self->flash_fd = -1;
  self->master = -1;
  self->slave_keep = -1;
}

/* Secure storage: one file per object, written atomically before the board
 * answers.  Not synced to disk: a simulated board's storage must survive
 * the simulator being killed (the page cache does), not a power cut of the
 * host, and syncing would have sixteen simulated boards queue on the
 * station's own disk, which real boards never do. */

static char *
state_path (DsSimBoard *self,
            const char *name)
{
  return g_build_filename (self->dir, name, NULL);
}

static gboolean
store_file (DsSimBoard *self,
            const char *name,
            const void *data,
            gsize       len,
            int         mode)
{
  g_autofree char *path = state_path (self, name);
  g_autoptr(GError) error = NULL;

  if (!ds_write_file_replace (path, data, len, mode, &error))
    {
      g_warning ("%s: secure storage write failed: %s", self->name, error->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
store_state (DsSimBoard *self,
             guint8      state)
{
  const char *s = state_names[state];

  if (!store_file (self, "state", s, strlen (s), 0600))
    return FALSE;
  self->state = state;
  return TRUE;
}

static GBytes *
load_bytes (DsSimBoard *self,
            const char *name)
{
  g_autofree char *path = state_path (self, name);
  char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, NULL))
    return NULL;
  return g_bytes_new_take (contents, len);
}

gboolean
ds_sim_part_lookup (guint16  product_id,
                    guint32 *flash_size,
                    guint32 *page_size)
{
  const DsStm32Part *part = ds_stm32_part_lookup (product_id);

  if (part == NULL)
    return FALSE;
  *flash_size = part->flash_size;
  *page_size = part->page_size;
  return TRUE;
}

/* The flash lives in STATE_DIR/sim-N/flash.bin, written through as it is
 * programmed.  A board that is not blank starts with the provisioning
 * firmware already flashed, as boards from a pre-programmed batch do. */
static gboolean
load_flash (DsSimBoard             *self,
            const DsSimBoardConfig *config,
            GError                **error)
{
  g_autofree char *path = state_path (self, "flash.bin");
  g_autofree char *version = NULL;
  gsize len = 0;
  g_autofree char *contents = NULL;

  self->flash = g_malloc (self->flash_size);
  memset (self->flash, 0xFF, self->flash_size);
  if (g_file_get_contents (path, &contents, &len, NULL))
    memcpy (self->flash, contents, MIN (len, self->flash_size));
  else if (!config->blank)
    {
      g_autoptr(GBytes) fw = ds_fw_image_make (config->fw_version, MIN (self->flash_size, 32 * 1024));
      memcpy (self->flash, g_bytes_get_data (fw, NULL), g_bytes_get_size (fw));
    }
  self->flash_fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (self->flash_fd < 0 || pwrite (self->flash_fd, self->flash, self->flash_size, 0) != (gssize) self->flash_size)
    {
      int errsv = errno;
      g_set_error (error, DS_ERROR, DS_ERROR_IO, "cannot write %s: %s", path, g_strerror (errsv));
      return FALSE;
    }
  version = ds_fw_image_get_version (self->flash, self->flash_size);
  self->in_bootloader = version == NULL;
  g_free (self->fw_version);
  self->fw_version = version != NULL ? g_steal_pointer (&version) : g_strdup ("");
  return TRUE;
}

DsSimBoard *
ds_sim_board_new (guint                   index,
                  const char             *state_dir,
                  const DsSimBoardConfig *config,
                  GRand                  *rand,
                  GError                **error)
{
  g_autoptr(DsSimBoard) self = g_object_new (DS_TYPE_SIM_BOARD, NULL);
  g_autoptr(GBytes) uid = NULL;
  g_autoptr(GBytes) state = NULL;
  g_autofree char *key_path = NULL;

  self->index = index;
  self->name = g_strdup_printf ("sim-%u", index);
  self->dir = g_build_filename (state_dir, self->name, NULL);
  self->product_id = config->product_id != 0 ? config->product_id : 0x495;
  self->legacy_erase = config->legacy_erase;
  if (!ds_sim_part_lookup (self->product_id, &self->flash_size, &self->page_size))
    {
      self->flash_size = 128 * 1024;
      self->page_size = 2048;
    }
  if (config->flash_size != 0)
    self->flash_size = config->flash_size;
  if (config->page_size != 0)
    self->page_size = config->page_size;
  self->rand = g_rand_new_with_seed (g_rand_int (rand));
  if (g_mkdir_with_parents (self->dir, 0700) != 0)
    {
      int errsv = errno;
      g_set_error (error, DS_ERROR, DS_ERROR_IO, "cannot create %s: %s", self->dir, g_strerror (errsv));
      return NULL;
    }

  uid = load_bytes (self, "uid");
  if (uid == NULL)
    {
      GString *hex = g_string_new (NULL);

      for (gsize i = 0; i < DS_UID_LEN; i++)
        g_string_append_printf (hex, "%02X", (guint) g_rand_int_range (rand, 0, 256));
      uid = g_string_free_to_bytes (hex);
      {
        g_autofree char *path = state_path (self, "uid");
        if (!ds_write_file_replace (path, g_bytes_get_data (uid, NULL), g_bytes_get_size (uid), 0600, error))
          return NULL;
      }
    }
  self->uid = g_strndup (g_bytes_get_data (uid, NULL), g_bytes_get_size (uid));
  g_strstrip (self->uid);
  if (strlen (self->uid) != DS_UID_LEN * 2)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, "%s/uid is not 24 hex digits", self->dir);
      return NULL;
    }
  for (gsize i = 0; i < DS_UID_LEN; i++)
    {
      char byte[3] = { self->uid[2 * i], self->uid[2 * i + 1], 0 };
      self->uid_bytes[i] = (guint8) strtoul (byte, NULL, 16);
    }

  state = load_bytes (self, "state");
  self->state = DS_BOARD_STATE_EMPTY;
  if (state != NULL)
    for (guint8 s = 0; s < G_N_ELEMENTS (state_names); s++)
      if (g_bytes_get_size (state) == strlen (state_names[s]) &&
          memcmp (g_bytes_get_data (state, NULL), state_names[s], strlen (state_names[s])) == 0)
        self->state = s;

  key_path = state_path (self, "key.pem");
  if (g_file_test (key_path, G_FILE_TEST_EXISTS))
    {
      g_autoptr(GBytes) pem = load_bytes (self, "key.pem");
      g_autoptr(BIO) bio = BIO_new_mem_buf (g_bytes_get_data (pem, NULL), (int) g_bytes_get_size (pem));

      self->key = PEM_read_bio_PrivateKey (bio, NULL, NULL, NULL);
      if (self->key == NULL)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, "%s is damaged", key_path);
          return NULL;
        }
    }
  self->dac = load_bytes (self, "dac.der");
  self->pai = load_bytes (self, "pai.der");
  self->cd = load_bytes (self, "cd.der");
  if (!load_flash (self, config, error))
    return NULL;
  return g_steal_pointer (&self);
}

void
ds_sim_board_add_fault (DsSimBoard       *self,
                        const DsSimFault *fault)
{
  g_ptr_array_add (self->faults, g_memdup2 (fault, sizeof *fault));
}

void
ds_sim_board_set_baud (DsSimBoard *self,
                       guint       baud)
{
  self->baud = baud;
}

const char *
ds_sim_board_get_name (DsSimBoard *self)
{
  return self->name;
}

const char *
ds_sim_board_get_uid (DsSimBoard *self)
{
  return self->uid;
}

const char *
ds_sim_board_get_port (DsSimBoard *self)
{
  return self->port;
}

static const DsSimFault *
find_fault (DsSimBoard     *self,
            DsSimFaultKind  kind)
{
  for (guint i = 0; i < self->faults->len; i++)
    {
      const DsSimFault *f = g_ptr_array_index (self->faults, i);
      if (f->kind == kind)
        return f;
    }
  return NULL;
}

/* Command handlers: each fills @out (a TLV payload) and returns a status. */

static guint8
refuse (GByteArray *out,
        guint8      status,
        const char *text)
{
  ds_tlv_append_string (out, DS_TAG_ERROR_TEXT, text);
  return status;
}

static guint8
cmd_info (DsSimBoard *self,
          GByteArray *out)
{
  guint8 uid[DS_UID_LEN];

  memcpy (uid, self->uid_bytes, DS_UID_LEN);
  if (self->state == DS_BOARD_STATE_LOCKED && find_fault (self, DS_SIM_FAULT_UID_AFTER_LOCK) != NULL)
    uid[DS_UID_LEN - 1] ^= 0x5A;
  ds_tlv_append (out, DS_TAG_UID, uid, DS_UID_LEN);
  ds_tlv_append_string (out, DS_TAG_FW_VERSION, self->fw_version);
  ds_tlv_append_u8 (out, DS_TAG_STATE, find_fault (self, DS_SIM_FAULT_CLAIM_LOCKED) != NULL
                                         ? DS_BOARD_STATE_LOCKED : self->state);
  ds_tlv_append_u8 (out, DS_TAG_PROTO_VERSION, DS_PROTOCOL_VERSION);
  ds_tlv_append_string (out, DS_TAG_HW_MODEL, "STM32WB55 (simulated)");
  return DS_STATUS_OK;
}

static GBytes *
make_csr (EVP_PKEY   *key,
          const char *cn,
          guint16     vid,
          guint16     pid)
{
  g_autoptr(X509_REQ) req = X509_REQ_new ();
  X509_NAME *name = X509_NAME_new ();
  int nid_vid, nid_pid;
  char v[5], p[5];
  unsigned char *der = NULL;
  int len;
  GBytes *bytes;

  ds_crypto_init (&nid_vid, &nid_pid);
  g_snprintf (v, sizeof v, "%04X", vid);
  g_snprintf (p, sizeof p, "%04X", pid);
  X509_NAME_add_entry_by_NID (name, NID_commonName, MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0);
  X509_NAME_add_entry_by_NID (name, nid_vid, MBSTRING_UTF8, (const unsigned char *) v, 4, -1, 0);
  X509_NAME_add_entry_by_NID (name, nid_pid, MBSTRING_UTF8, (const unsigned char *) p, 4, -1, 0);
  X509_REQ_set_version (req, X509_VERSION_1);
  X509_REQ_set_subject_name (req, name);
  X509_NAME_free (name);
  X509_REQ_set_pubkey (req, key);
  if (X509_REQ_sign (req, key, EVP_sha256 ()) <= 0)
    {
      ERR_clear_error ();
      return NULL;
    }
  len = i2d_X509_REQ (req, &der);
  if (len <= 0)
    return NULL;
  bytes = g_bytes_new (der, len);
  OPENSSL_free (der);
  return bytes;
}

static guint8
cmd_generate_csr (DsSimBoard   *self,
                  const guint8 *in,
                  gsize         in_len,
                  GByteArray   *out)
{
  guint16 vid, pid;
  g_autofree char *cn = ds_tlv_dup_string (in, in_len, DS_TAG_SUBJECT_CN);
  g_autoptr(GBytes) csr = NULL;
  g_autoptr(EVP_PKEY) other = NULL;

  if (!ds_tlv_get_u16 (in, in_len, DS_TAG_VID, &vid) || !ds_tlv_get_u16 (in, in_len, DS_TAG_PID, &pid) ||
      cn == NULL)
    return refuse (out, DS_STATUS_BAD_PAYLOAD, "GENERATE_CSR needs VID, PID and SUBJECT_CN");
  if (self->state == DS_BOARD_STATE_LOCKED)
    return refuse (out, DS_STATUS_LOCKED, "credentials are locked");

  if (self->key == NULL)
    {
      /* The key pair is made here, inside the board, and stored before the
       * CSR leaves: a retry after a lost answer gets the same key. */
      g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
      g_autoptr(BIO) bio = BIO_new (BIO_s_mem ());
      char *pem = NULL;
      long pem_len;

      if (key == NULL || !PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL))
        return refuse (out, DS_STATUS_INTERNAL, "key generation failed");
      pem_len = BIO_get_mem_data (bio, &pem);
      if (!store_file (self, "key.pem", pem, pem_len, 0600))
        return refuse (out, DS_STATUS_STORAGE, "secure storage write failed");
      self->key = g_steal_pointer (&key);
      if (!store_state (self, DS_BOARD_STATE_KEY_PENDING))
        return refuse (out, DS_STATUS_STORAGE, "secure storage write failed");
    }

  if (find_fault (self, DS_SIM_FAULT_WRONG_KEY) != NULL)
    {
      other = EVP_EC_gen ("P-256");
      csr = make_csr (other, cn, vid, pid);
    }
  else
    csr = make_csr (self->key, cn, vid, pid);
  if (csr == NULL)
    return refuse (out, DS_STATUS_INTERNAL, "CSR signing failed");
  ds_tlv_append_bytes (out, DS_TAG_CSR, csr);
  return DS_STATUS_OK;
}

static guint8
cmd_install (DsSimBoard   *self,
             const guint8 *in,
             gsize         in_len,
             GByteArray   *out)
{
  g_autoptr(GBytes) dac = ds_tlv_dup_bytes (in, in_len, DS_TAG_DAC);
  g_autoptr(GBytes) pai = ds_tlv_dup_bytes (in, in_len, DS_TAG_PAI);
  g_autoptr(GBytes) cd = ds_tlv_dup_bytes (in, in_len, DS_TAG_CD);
  g_autoptr(X509) cert = NULL;
  g_autoptr(EVP_PKEY) pub = NULL;
  const unsigned char *p;

  if (dac == NULL || pai == NULL)
    return refuse (out, DS_STATUS_BAD_PAYLOAD, "INSTALL needs DAC and PAI");
  if (self->state == DS_BOARD_STATE_LOCKED)
    return refuse (out, DS_STATUS_LOCKED, "credentials are locked");
  if (self->key == NULL)
    return refuse (out, DS_STATUS_WRONG_STATE, "no key pair: GENERATE_CSR first");
  if (find_fault (self, DS_SIM_FAULT_REFUSE_INSTALL) != NULL)
    return refuse (out, DS_STATUS_REFUSED, "installation refused (injected fault)");
  if (find_fault (self, DS_SIM_FAULT_ESCAPE_TEXT) != NULL)
    return refuse (out, DS_STATUS_REFUSED, "\033[2J\033[1;1H\033[32mPASS\033]0;owned\007 all good\r\nPASS");

  p = g_bytes_get_data (dac, NULL);
  cert = d2i_X509 (NULL, &p, (long) g_bytes_get_size (dac));
  pub = cert != NULL ? X509_get_pubkey (cert) : NULL;
  ERR_clear_error ();
  if (pub == NULL)
    return refuse (out, DS_STATUS_BAD_PAYLOAD, "the DAC is not a certificate");
  if (EVP_PKEY_eq (pub, self->key) != 1)
    return refuse (out, DS_STATUS_KEY_MISMATCH, "the DAC's public key is not this board's key");

  if (!store_file (self, "dac.der", g_bytes_get_data (dac, NULL), g_bytes_get_size (dac), 0600) ||
      !store_file (self, "pai.der", g_bytes_get_data (pai, NULL), g_bytes_get_size (pai), 0600) ||
      (cd != NULL && !store_file (self, "cd.der", g_bytes_get_data (cd, NULL), g_bytes_get_size (cd), 0600)) ||
      !store_state (self, DS_BOARD_STATE_INSTALLED))
    return refuse (out, DS_STATUS_STORAGE, "secure storage write failed");
  g_clear_pointer (&self->dac, g_bytes_unref);
  g_clear_pointer (&self->pai, g_bytes_unref);
  self->dac = g_steal_pointer (&dac);
  self->pai = g_steal_pointer (&pai);
  if (cd != NULL)
    {
      g_clear_pointer (&self->cd, g_bytes_unref);
      self->cd = g_steal_pointer (&cd);
    }
  return DS_STATUS_OK;
}

static guint8
cmd_read (DsSimBoard   *self,
          const guint8 *in,
          gsize         in_len,
          GByteArray   *out)
{
  guint8 object;
  GBytes *value;
  guint8 tag;

  /* There is deliberately no object number for the private key. */
  if (!ds_tlv_get_u8 (in, in_len, DS_TAG_OBJECT, &object))
    return refuse (out, DS_STATUS_BAD_PAYLOAD, "READ needs OBJECT");
  switch (object)
    {
    case DS_OBJECT_DAC: value = self->dac; tag = DS_TAG_DAC; break;
    case DS_OBJECT_PAI: value = self->pai; tag = DS_TAG_PAI; break;
    case DS_OBJECT_CD: value = self->cd; tag = DS_TAG_CD; break;
    default:
      return refuse (out, DS_STATUS_BAD_PAYLOAD, "no such object");
    }
  if (value == NULL)
    return refuse (out, DS_STATUS_NOT_FOUND, "object not installed");
  ds_tlv_append_bytes (out, tag, value);
  return DS_STATUS_OK;
}

static guint8
cmd_attest (DsSimBoard   *self,
            const guint8 *in,
            gsize         in_len,
            GByteArray   *out)
{
  const guint8 *nonce;
  gsize nonce_len;
  g_autoptr(EVP_MD_CTX) ctx = EVP_MD_CTX_new ();
  guint8 sig[128];
  size_t sig_len = sizeof sig;

  if (!ds_tlv_find (in, in_len, DS_TAG_NONCE, &nonce, &nonce_len) || nonce_len != DS_NONCE_LEN)
    return refuse (out, DS_STATUS_BAD_PAYLOAD, "ATTEST needs a 32-byte NONCE");
  if (self->state != DS_BOARD_STATE_INSTALLED && self->state != DS_BOARD_STATE_LOCKED)
    return refuse (out, DS_STATUS_WRONG_STATE, "no DAC installed");
  if (EVP_DigestSignInit (ctx, NULL, EVP_sha256 (), NULL, self->key) != 1 ||
      EVP_DigestSign (ctx, sig, &sig_len, nonce, nonce_len) != 1)
    {
      ERR_clear_error ();
      return refuse (out, DS_STATUS_INTERNAL, "signing failed");
    }
  ds_tlv_append (out, DS_TAG_SIGNATURE, sig, sig_len);
  return DS_STATUS_OK;
}

static guint8
cmd_lock (DsSimBoard *self,
          GByteArray *out)
{
  if (self->state == DS_BOARD_STATE_LOCKED)
    return DS_STATUS_OK;
  if (self->state != DS_BOARD_STATE_INSTALLED)
    return refuse (out, DS_STATUS_WRONG_STATE, "nothing installed to lock");
  if (!store_state (self, DS_BOARD_STATE_LOCKED))
    return refuse (out, DS_STATUS_STORAGE, "secure storage write failed");
  return DS_STATUS_OK;
}

/* Handles one request and returns the answer frame, or NULL for none. */
static GBytes *
handle (DsSimBoard    *self,
        const DsFrame *req,
        GBytes        *payload)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  gsize in_len = 0;
  const guint8 *in = g_bytes_get_data (payload, &in_len);
  guint8 status;

  if (req->version != DS_PROTOCOL_VERSION)
    status = refuse (out, DS_STATUS_UNSUPPORTED_VERSION, "protocol version 1 only");
  else if (!ds_tlv_validate (in, in_len))
    status = refuse (out, DS_STATUS_BAD_PAYLOAD, "malformed TLV payload");
  else
    switch (req->command)
      {
      case DS_CMD_INFO: status = cmd_info (self, out); break;
      case DS_CMD_GENERATE_CSR: status = cmd_generate_csr (self, in, in_len, out); break;
      case DS_CMD_INSTALL: status = cmd_install (self, in, in_len, out); break;
      case DS_CMD_READ: status = cmd_read (self, in, in_len, out); break;
      case DS_CMD_ATTEST: status = cmd_attest (self, in, in_len, out); break;
      case DS_CMD_LOCK: status = cmd_lock (self, out); break;
      case DS_CMD_REBOOT:
        {
          guint8 target = 0;

          ds_tlv_get_u8 (in, in_len, DS_TAG_REBOOT_TARGET, &target);
          status = DS_STATUS_OK;
          self->quiet_until = g_get_monotonic_time () + REBOOT_QUIET_US;
          if (target == 1)
            {
              g_message ("%s: rebooting into the ROM bootloader", self->name);
              self->in_bootloader = TRUE;
              self->bl_synced = FALSE;
            }
        }
        break;
      default:
        status = refuse (out, DS_STATUS_UNKNOWN_COMMAND, "unknown command");
        break;
      }
  g_debug ("%s: %s -> status %u", self->name, ds_command_to_string (req->command), status);
  return ds_frame_encode (DS_FRAME_FLAG_RESPONSE, req->seq, req->command, status, out->data, out->len);
}

/* The wire: throttling and byte faults. */

/* Waits until @n_bytes more have crossed the line.  @clock is when the line
 * is free again.  @follows: these bytes come right after the previous ones
 * (the rest of a frame, or data that was already waiting), so they start
 * when those ended, as a UART clocks them out of its FIFO, even when this
 * thread woke late; otherwise they start now if the line was idle. */
static void
wait_for_clock (DsSimBoard *self,
                gint64     *clock,
                gsize       n_bytes,
                guint       baud,
                gboolean    follows)
{
  gint64 now = g_get_monotonic_time ();
  gint64 *late = clock == &self->in_clock ? &self->in_late : &self->out_late;
  gint64 duration;

  if (clock == &self->in_clock)
    self->bytes_in += n_bytes;
  else
    self->bytes_out += n_bytes;
  if (baud == 0)
    return;
  /* Rounded up: the line is never faster than its rate. */
  duration = ((gint64) n_bytes * BITS_PER_BYTE * G_USEC_PER_SEC + baud - 1) / baud;
  self->wire_us += duration;
  /* The simulator's own lateness, not the station's: measured, so the
   * overhead benchmark can leave it out.  Within a run of bytes that
   * follow each other the next ones make up for it; what is left when
   * the run ends is lost. */
  if (!follows)
    {
      self->pacing_slack_us += *late;
      *late = 0;
    }
  *clock = (follows ? *clock : MAX (*clock, now)) + duration;
  if (*clock > now)
    {
      g_usleep (*clock - now);
      *late = MAX (0, g_get_monotonic_time () - *clock);
    }
  else
    *late = now - *clock;
}

/* Applies the byte faults of one direction to @buf; returns the new length. */
static gsize
apply_byte_faults (DsSimBoard *self,
                   guint8     *buf,
                   gsize       len)
{
  const DsSimFault *corrupt = find_fault (self, DS_SIM_FAULT_CORRUPT);
  const DsSimFault *drop = find_fault (self, DS_SIM_FAULT_DROP);
  gsize kept = 0;

  if (corrupt == NULL && drop == NULL)
    return len;
  for (gsize i = 0; i < len; i++)
    {
      guint8 b = buf[i];

      if (drop != NULL && g_rand_double (self->rand) < drop->rate)
        continue;
      if (corrupt != NULL && g_rand_double (self->rand) < corrupt->rate)
        b ^= (guint8) (1u << g_rand_int_range (self->rand, 0, 8));
      buf[kept++] = b;
    }
  return kept;
}

static void
send_bytes (DsSimBoard *self,
            GBytes     *frame)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (frame, &len);
  g_autofree guint8 *copy = g_memdup2 (data, len);
  gsize pos = 0;

  len = apply_byte_faults (self, copy, len);
  while (pos < len)
    {
      /* Pace in small chunks so a frame arrives as a UART delivers it. */
      gsize chunk = MIN (len - pos, self->baud > 0 ? 16 : len);
      struct pollfd pfd = { .fd = self->master, .events = POLLOUT };
      gssize n;

      wait_for_clock (self, &self->out_clock, chunk, self->baud, pos > 0);
      n = write (self->master, copy + pos, chunk);
      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        {
          /* Nobody reads the other end: drop the answer, as a UART would. */
          if (poll (&pfd, 1, 1000) <= 0)
            return;
          continue;
        }
      if (n <= 0)
        return;
      pos += n;
    }
}

static void
disconnect (DsSimBoard *self)
{
  g_message ("%s: disconnecting (injected fault)", self->name);
  if (self->announce_dir != NULL)
    ds_sim_announce_remove (self->announce_dir, self->name);
  if (self->master >= 0)
    close (self->master);
  if (self->slave_keep >= 0)
    close (self->slave_keep);
  self->master = -1;
  self->slave_keep = -1;
}

/* Reads what the line delivers within @timeout_ms into inbuf, through the
 * UART throttle and the byte faults.  FALSE when the board must stop. */
static gboolean
fill_input (DsSimBoard *self,
            int         timeout_ms)
{
  struct pollfd pfd = { .fd = self->master, .events = POLLIN };
  guint8 buf[512];
  gssize n;
  gsize kept;

  if (g_atomic_int_get (&self->stop) || self->master < 0)
    return FALSE;
  if (poll (&pfd, 1, timeout_ms) <= 0)
    return TRUE;
  n = read (self->master, buf, sizeof buf);
  if (n <= 0)
    {
      if (!(n < 0 && (errno == EAGAIN || errno == EINTR)))
        g_usleep (10000);
      return TRUE;
    }
  /* The bytes that were already waiting at the last read were sent before
   * it: on the line they follow the ones read then.  Whatever came after
   * starts no earlier than now. */
  {
    gsize follow = MIN ((gsize) n, self->in_waiting);
    int waiting = 0;

    if (follow > 0)
      wait_for_clock (self, &self->in_clock, follow, self->baud, TRUE);
    if ((gsize) n > follow)
      wait_for_clock (self, &self->in_clock, n - follow, self->baud, FALSE);
    self->in_waiting = ioctl (self->master, FIONREAD, &waiting) == 0 && waiting > 0 ? (gsize) waiting : 0;
  }
  if (g_get_monotonic_time () < self->quiet_until)
    return TRUE;
  kept = apply_byte_faults (self, buf, n);
  g_byte_array_append (self->inbuf, buf, kept);
  return TRUE;
}

/* The provisioning firmware: frames in, frames out. */
static void
serve_firmware (DsSimBoard    *self,
                DsFrameReader *reader)
{
  DsFrame frame;
  GBytes *payload = NULL;

  ds_frame_reader_push (reader, self->inbuf->data, self->inbuf->len);
  g_byte_array_set_size (self->inbuf, 0);
  while (self->master >= 0 && !self->in_bootloader && ds_frame_reader_next (reader, &frame, &payload))
    {
      g_autoptr(GBytes) owned = payload;
      const DsSimFault *stall = find_fault (self, DS_SIM_FAULT_STALL);
      const DsSimFault *unplug = find_fault (self, DS_SIM_FAULT_DISCONNECT);

      if (frame.flags & DS_FRAME_FLAG_RESPONSE)
        continue;
      if (unplug != NULL && unplug->command == frame.command)
        {
          disconnect (self);
          break;
        }
      if (stall != NULL && stall->command == frame.command)
        {
          g_debug ("%s: stalling on %s (injected fault)", self->name, ds_command_to_string (frame.command));
          continue;
        }
      if (!(self->have_last && self->last_seq == frame.seq && self->last_cmd == frame.command))
        {
          gint64 t0 = g_get_monotonic_time ();

          g_clear_pointer (&self->last_answer, g_bytes_unref);
          self->last_answer = handle (self, &frame, owned);
          self->compute_us += g_get_monotonic_time () - t0;
          self->have_last = TRUE;
          self->last_seq = frame.seq;
          self->last_cmd = frame.command;
        }
      else
        g_debug ("%s: repeating the answer to %s (seq %u)", self->name,
                 ds_command_to_string (frame.command), frame.seq);
      send_bytes (self, self->last_answer);
      if (frame.command == DS_CMD_REBOOT)
        {
          ds_frame_reader_reset (reader);
          if (self->in_bootloader)
            self->bl_synced = FALSE;
        }
    }
}

/* ---- the ROM bootloader, ST AN3155 ---------------------------------------- */

#define BL_ACK  0x79
#define BL_NACK 0x1F
#define BL_VERSION 0x31
#define BL_TIMEOUT_MS 1000
/* Realistic flash timings, kept short: a page erase and a 256-byte write. */
#define BL_ERASE_US_PER_PAGE 5000
#define BL_WRITE_US 400

static const guint8 bl_commands[] = { 0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x44, 0x63, 0x73, 0x82, 0x92 };
/* An older bootloader (STM32F1): Erase instead of Extended Erase. */
static const guint8 bl_commands_legacy[] = { 0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x43, 0x63, 0x73, 0x82, 0x92 };

static void
bl_send (DsSimBoard   *self,
         const guint8 *data,
         gsize         len)
{
  g_autoptr(GBytes) b = g_bytes_new (data, len);

  send_bytes (self, b);
}

static void
bl_byte (DsSimBoard *self,
         guint8      byte)
{
  bl_send (self, &byte, 1);
}

/* Takes @n bytes from the line, waiting up to BL_TIMEOUT_MS for them: a
 * host that goes quiet mid-command abandons the command. */
static gboolean
bl_read (DsSimBoard *self,
         guint8     *out,
         gsize       n)
{
  gint64 deadline = g_get_monotonic_time () + BL_TIMEOUT_MS * 1000;

  while (self->inbuf->len < n)
    {
      if (g_get_monotonic_time () > deadline || !fill_input (self, 50))
        return FALSE;
    }
  memcpy (out, self->inbuf->data, n);
  g_byte_array_remove_range (self->inbuf, 0, n);
  return TRUE;
}

static guint8
xor_of (const guint8 *p,
        gsize         n)
{
  guint8 x = 0;

  for (gsize i = 0; i < n; i++)
    x ^= p[i];
  return x;
}

/* Reads a 4-byte big-endian address and its XOR checksum. */
static gboolean
bl_read_address (DsSimBoard *self,
                 guint32    *address)
{
  guint8 a[5];

  if (!bl_read (self, a, 5))
    return FALSE;
  if (xor_of (a, 4) != a[4])
    return FALSE;
  *address = (guint32) a[0] << 24 | (guint32) a[1] << 16 | (guint32) a[2] << 8 | a[3];
  return TRUE;
}

static gboolean
in_flash (DsSimBoard *self,
          guint32     address,
          gsize       len)
{
  return address >= DS_SIM_FLASH_BASE && (guint64) address + len <= (guint64) DS_SIM_FLASH_BASE + self->flash_size;
}

static void
flash_persist (DsSimBoard *self,
               guint32     offset,
               gsize       len)
{
  if (pwrite (self->flash_fd, self->flash + offset, len, offset) != (gssize) len)
    g_warning ("%s: cannot write its flash file: %s", self->name, g_strerror (errno));
}

static void
bl_go (DsSimBoard *self,
       guint32     address)
{
  g_autofree char *version = ds_fw_image_get_version (self->flash, self->flash_size);

  /* The reset vector is the image at the start of flash: only a valid
   * provisioning firmware image starts. */
  if (address != DS_SIM_FLASH_BASE || version == NULL)
    {
      g_message ("%s: Go 0x%08X: no valid provisioning firmware there, staying in the bootloader",
                 self->name, address);
      self->bl_synced = FALSE;
      return;
    }
  g_message ("%s: starting provisioning firmware %s", self->name, version);
  g_free (self->fw_version);
  self->fw_version = g_steal_pointer (&version);
  self->in_bootloader = FALSE;
  self->bl_synced = FALSE;
  self->have_last = FALSE;
  if (self->announce_dir != NULL)
    {
      DsSimAnnouncement a = { self->name, self->port, self->uid, self->fw_version, getpid () };
      ds_sim_announce_write (self->announce_dir, &a, NULL);
    }
}

static void
bl_erase (DsSimBoard *self)
{
  guint8 nb[3];
  guint n_pages;
  g_autofree guint8 *list = NULL;
  guint32 total_pages = self->flash_size / self->page_size;

  /* N on two bytes; then either a checksum (N >= 0xFFF0: special erases)
   * or N+1 page numbers and one checksum over everything. */
  if (!bl_read (self, nb, 2))
    {
      bl_byte (self, BL_NACK);
      return;
    }
  n_pages = (guint) nb[0] << 8 | nb[1];
  if (n_pages >= 0xFFF0)
    {
      /* 0xFFFF mass erase, 0xFFFE/0xFFFD banks: the whole flash here. */
      if (!bl_read (self, nb + 2, 1) || (nb[0] ^ nb[1]) != nb[2] || n_pages < 0xFFFD)
        {
          bl_byte (self, BL_NACK);
          return;
        }
      gint64 t0 = g_get_monotonic_time ();

      g_usleep ((gulong) total_pages * BL_ERASE_US_PER_PAGE / 8);
      memset (self->flash, 0xFF, self->flash_size);
      flash_persist (self, 0, self->flash_size);
      self->compute_us += g_get_monotonic_time () - t0;
      bl_byte (self, BL_ACK);
      return;
    }
  n_pages += 1;
  list = g_malloc (2 * n_pages + 1);
  if (!bl_read (self, list, 2 * n_pages + 1) || (xor_of (nb, 2) ^ xor_of (list, 2 * n_pages)) != list[2 * n_pages])
    {
      bl_byte (self, BL_NACK);
      return;
    }
  for (guint i = 0; i < n_pages; i++)
    if (((guint) list[2 * i] << 8 | list[2 * i + 1]) >= total_pages)
      {
        bl_byte (self, BL_NACK);
        return;
      }
  for (guint i = 0; i < n_pages; i++)
    {
      guint page = (guint) list[2 * i] << 8 | list[2 * i + 1];
      gint64 t0 = g_get_monotonic_time ();

      memset (self->flash + page * self->page_size, 0xFF, self->page_size);
      flash_persist (self, page * self->page_size, self->page_size);
      g_usleep (BL_ERASE_US_PER_PAGE);
      self->compute_us += g_get_monotonic_time () - t0;
    }
  bl_byte (self, BL_ACK);
}

/* Erase (0x43): N-1 then N one-byte page numbers and a checksum, or 0xFF
 * with its complement for the whole flash. */
static void
bl_erase_legacy (DsSimBoard *self)
{
  guint8 n;
  guint8 list[257];
  guint32 total_pages = self->flash_size / self->page_size;

  if (!bl_read (self, &n, 1))
    {
      bl_byte (self, BL_NACK);
      return;
    }
  if (n == 0xFF)
    {
      guint8 c;

      if (!bl_read (self, &c, 1) || c != 0x00)
        {
          bl_byte (self, BL_NACK);
          return;
        }
      memset (self->flash, 0xFF, self->flash_size);
      flash_persist (self, 0, self->flash_size);
      bl_byte (self, BL_ACK);
      return;
    }
  if (!bl_read (self, list, (gsize) n + 2) || (n ^ xor_of (list, (gsize) n + 1)) != list[n + 1])
    {
      bl_byte (self, BL_NACK);
      return;
    }
  for (guint i = 0; i <= n; i++)
    if (list[i] >= total_pages)
      {
        bl_byte (self, BL_NACK);
        return;
      }
  for (guint i = 0; i <= n; i++)
    {
      gint64 t0 = g_get_monotonic_time ();

      memset (self->flash + list[i] * self->page_size, 0xFF, self->page_size);
      flash_persist (self, list[i] * self->page_size, self->page_size);
      g_usleep (BL_ERASE_US_PER_PAGE);
      self->compute_us += g_get_monotonic_time () - t0;
    }
  bl_byte (self, BL_ACK);
}

static void
bl_write (DsSimBoard *self)
{
  guint32 address;
  guint8 n;
  guint8 data[257];
  guint32 off;

  if (!bl_read_address (self, &address))
    {
      bl_byte (self, BL_NACK);
      return;
    }
  bl_byte (self, BL_ACK);
  if (!bl_read (self, &n, 1) || !bl_read (self, data, (gsize) n + 2))
    {
      bl_byte (self, BL_NACK);
      return;
    }
  /* N, N+1 data bytes, then the XOR of N and the data. */
  if ((n ^ xor_of (data, (gsize) n + 1)) != data[n + 1] || !in_flash (self, address, (gsize) n + 1) ||
      address % 4 != 0)
    {
      bl_byte (self, BL_NACK);
      return;
    }
  off = address - DS_SIM_FLASH_BASE;
  {
    const DsSimFault *nack = find_fault (self, DS_SIM_FAULT_NACK_WRITE);
    const DsSimFault *unplug = find_fault (self, DS_SIM_FAULT_UNPLUG_FLASHING);

    if (nack != NULL && nack->address >= address && nack->address <= address + n)
      {
        bl_byte (self, BL_NACK);
        return;
      }
    /* Half the first 8 KiB written: the cable comes out. */
    if (unplug != NULL && off >= 4096)
      {
        disconnect (self);
        return;
      }
  }
  /* Flash programs ones to zeros only: writing over data that was not
   * erased fails, as on the real part. */
  for (guint i = 0; i <= n; i++)
    if ((self->flash[off + i] & data[i]) != data[i])
      {
        g_message ("%s: write at 0x%08X over data that was not erased", self->name, address + i);
        bl_byte (self, BL_NACK);
        return;
      }
  {
    gint64 t0 = g_get_monotonic_time ();

    memcpy (self->flash + off, data, (gsize) n + 1);
    flash_persist (self, off, (gsize) n + 1);
    g_usleep (BL_WRITE_US);
    self->compute_us += g_get_monotonic_time () - t0;
  }
  bl_byte (self, BL_ACK);
}

static void
bl_read_memory (DsSimBoard *self)
{
  guint32 address;
  guint8 nn[2];

  if (!bl_read_address (self, &address) || !in_flash (self, address, 1))
    {
      bl_byte (self, BL_NACK);
      return;
    }
  bl_byte (self, BL_ACK);
  if (!bl_read (self, nn, 2) || (nn[0] ^ nn[1]) != 0xFF || !in_flash (self, address, (gsize) nn[0] + 1))
    {
      bl_byte (self, BL_NACK);
      return;
    }
  bl_byte (self, BL_ACK);
  bl_send (self, self->flash + (address - DS_SIM_FLASH_BASE), (gsize) nn[0] + 1);
}

/* One bootloader exchange: the sync byte, or one command. */
static void
serve_bootloader (DsSimBoard *self)
{
  guint8 cmd[2];

  if (self->inbuf->len == 0)
    return;
  if (!self->bl_synced)
    {
      guint8 b;

      bl_read (self, &b, 1);
      if (b == 0x7F)
        {
          self->bl_synced = TRUE;
          bl_byte (self, BL_ACK);
        }
      return;
    }
  if (!bl_read (self, cmd, 1))
    return;
  if (cmd[0] == 0x7F)
    {
      /* A second sync byte: "already synchronised", at once, as the ROM
       * does (stm32flash relies on it). */
      bl_byte (self, BL_NACK);
      return;
    }
  if (!bl_read (self, cmd + 1, 1) || (cmd[0] ^ cmd[1]) != 0xFF)
    {
      bl_byte (self, BL_NACK);
      return;
    }
  if (cmd[0] != 0x00 && cmd[0] != 0x01 && cmd[0] != 0x02 && cmd[0] != 0x11 && cmd[0] != 0x21 &&
      cmd[0] != 0x31 && cmd[0] != (self->legacy_erase ? 0x43 : 0x44))
    {
      bl_byte (self, BL_NACK);
      return;
    }
  bl_byte (self, BL_ACK);
  switch (cmd[0])
    {
    case 0x00:
      {
        guint8 out[2 + sizeof bl_commands + 1] = { sizeof bl_commands, BL_VERSION };

        memcpy (out + 2, self->legacy_erase ? bl_commands_legacy : bl_commands, sizeof bl_commands);
        out[sizeof out - 1] = BL_ACK;
        bl_send (self, out, sizeof out);
      }
      break;
    case 0x01:
      {
        const guint8 out[] = { BL_VERSION, 0x00, 0x00, BL_ACK };
        bl_send (self, out, sizeof out);
      }
      break;
    case 0x02:
      {
        const guint8 out[] = { 0x01, self->product_id >> 8, self->product_id & 0xFF, BL_ACK };
        bl_send (self, out, sizeof out);
      }
      break;
    case 0x11:
      bl_read_memory (self);
      break;
    case 0x21:
      {
        guint32 address;

        if (!bl_read_address (self, &address))
          {
            bl_byte (self, BL_NACK);
            break;
          }
        bl_byte (self, BL_ACK);
        bl_go (self, address);
      }
      break;
    case 0x31:
      bl_write (self);
      break;
    case 0x43:
      bl_erase_legacy (self);
      break;
    case 0x44:
      bl_erase (self);
      break;
    default:
      break;
    }
}

static gpointer
serve (gpointer data)
{
  DsSimBoard *self = data;
  g_autoptr(DsFrameReader) reader = ds_frame_reader_new ();

  while (fill_input (self, 100))
    {
      if (self->in_bootloader)
        {
          while (self->master >= 0 && self->in_bootloader && self->inbuf->len > 0)
            serve_bootloader (self);
        }
      else
        serve_firmware (self, reader);
    }
  return NULL;
}

gboolean
ds_sim_board_start (DsSimBoard  *self,
                    const char  *announce_dir,
                    GError     **error)
{
  DsSimAnnouncement a = { 0 };
  struct termios tio;
  const char *slave;

  self->master = posix_openpt (O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (self->master < 0 || grantpt (self->master) != 0 || unlockpt (self->master) != 0 ||
      (slave = ptsname (self->master)) == NULL)
    {
      int errsv = errno;
      g_set_error (error, DS_ERROR, DS_ERROR_IO, "cannot make a pseudo-terminal: %s", g_strerror (errsv));
      return FALSE;
    }
  self->port = g_strdup (slave);
  /* Holding the slave open keeps the master from seeing a hang-up each time
   * the station closes the port, as a real UART would not. */
  self->slave_keep = open (self->port, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (self->slave_keep < 0 || tcgetattr (self->slave_keep, &tio) != 0)
    {
      int errsv = errno;
      g_set_error (error, DS_ERROR, DS_ERROR_IO, "cannot open %s: %s", self->port, g_strerror (errsv));
      return FALSE;
    }
  cfmakeraw (&tio);
  tcsetattr (self->slave_keep, TCSANOW, &tio);

  self->announce_dir = g_strdup (announce_dir);
  a.name = self->name;
  a.port = self->port;
  a.uid = self->uid;
  a.fw_version = self->fw_version;
  a.pid = getpid ();
  if (!ds_sim_announce_write (announce_dir, &a, error))
    return FALSE;
  self->thread = g_thread_new (self->name, serve, self);
  return TRUE;
}

void
ds_sim_board_stop (DsSimBoard *self)
{
  g_atomic_int_set (&self->stop, TRUE);
  if (self->thread != NULL)
    {
      g_autofree char *timing = NULL;

      g_thread_join (g_steal_pointer (&self->thread));
      /* For bench/run's overhead benchmark: written once, at the end, so
       * that writing it never delays an answer. */
      timing = g_strdup_printf ("wire_us %" G_GINT64_FORMAT "\ncompute_us %" G_GINT64_FORMAT
                                "\npacing_slack_us %" G_GINT64_FORMAT
                                "\nbytes_in %" G_GUINT64_FORMAT "\nbytes_out %" G_GUINT64_FORMAT "\n",
                                self->wire_us, self->compute_us,
                                self->pacing_slack_us + self->in_late + self->out_late,
                                self->bytes_in, self->bytes_out);
      store_file (self, "timing", timing, strlen (timing), 0600);
    }
  if (self->announce_dir != NULL)
    ds_sim_announce_remove (self->announce_dir, self->name);
  g_clear_pointer (&self->announce_dir, g_free);
  if (self->master >= 0)
    close (self->master);
  if (self->slave_keep >= 0)
    close (self->slave_keep);
  self->master = -1;
  self->slave_keep = -1;
}
