/* A simulated board: the provisioning firmware's portable core
 * (src/firmware/core) on a host board whose flash is a file in the state
 * directory, behind a UART-speed throttle, faults and a ROM bootloader. */
#define _GNU_SOURCE
#include "config.h"

#include "ds-sim-board.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <termios.h>
#include <unistd.h>

#include "ds-board.h"
#include "ds-crypto.h"
#include "ds-error.h"
#include "ds-firmware-image.h"
#include "ds-frame.h"
#include "ds-sim-announce.h"
#include "ds-stm32-parts.h"
#include "fw-core.h"

/* Bits on the wire per byte for 8E1: start, 8 data, parity, stop. */
#define BITS_PER_BYTE 11
#define REBOOT_QUIET_US (200 * 1000)
/* The credential store's two copies, as two 4 KiB flash pages each on an
 * STM32WB55. */
#define STORE_SLOT_SIZE 8192

struct _DsSimBoard
{
  GObject       parent_instance;

  guint         index;
  char         *name;
  char         *dir;         /* STATE_DIR/sim-N */
  char         *uid;         /* 24 hex digits */
  char         *usb_path;    /* announced by-path name, or NULL */
  char         *probe_serial; /* announced probe serial (hex of its bytes), or NULL */
  guint8        uid_bytes[DS_UID_LEN];
  char         *fw_version;
  guint         baud;
  GPtrArray    *faults;      /* DsSimFault */
  GRand        *rand;        /* faults' randomness, seeded */

  /* The firmware's core on its host board; the store's flash is the
   * file secure-storage.bin, written through. */
  fw_core      *core;
  fw_board      board;
  guint8       *storage;
  int           storage_fd;
  guint32       mirrored_seq;  /* the store record the readable copies show */
  int           mirrored_slot;
  GByteArray   *outbuf;        /* the core's answer, sent after it returns */

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
  guint8       *fd_flash;     /* the factory-data region (external flash) */
  int           fd_flash_fd;
  gboolean      in_bootloader;
  gboolean      legacy_erase;
  gboolean      bl_synced;
  GByteArray   *inbuf;        /* bytes received, not yet consumed */
};

G_DEFINE_FINAL_TYPE (DsSimBoard, ds_sim_board, G_TYPE_OBJECT)

static const char *state_names[] = { "empty", "key-pending", "installed", "locked" };

static void send_bytes (DsSimBoard *self, GBytes *frame);
static void disconnect (DsSimBoard *self);

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
      for (guint8 c = DS_CMD_INFO; c <= DS_CMD_IDENTIFY; c++)
        if (arg != NULL && g_ascii_strcasecmp (arg, ds_command_to_string (c)) == 0)
          {
            fault->command = c;
            return TRUE;
          }
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   "%s needs a command: INFO, GENERATE_CSR, INSTALL, READ, ATTEST, LOCK, REBOOT, "
                   "FACTORY_DATA_WRITE, FACTORY_DATA_READ, ATTESTATION or IDENTIFY", kind);
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
  if (arg == NULL && (g_str_equal (kind, "protocol-v1") || g_str_equal (kind, "fd-readback")))
    {
      fault->kind = g_str_equal (kind, "protocol-v1") ? DS_SIM_FAULT_PROTOCOL_V1 : DS_SIM_FAULT_FD_READBACK;
      return TRUE;
    }
  if (arg == NULL && g_str_equal (kind, "tamper-attestation"))
    {
      fault->kind = DS_SIM_FAULT_TAMPER_ATTESTATION;
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
               "nack-write:ADDR, unplug-flashing, claim-locked, uid-after-lock, escape-text, protocol-v1, fd-readback "
               "or tamper-attestation",
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
  g_free (self->usb_path);
  g_free (self->probe_serial);
  g_free (self->fw_version);
  g_ptr_array_unref (self->faults);
  g_rand_free (self->rand);
  if (self->core != NULL)
    fw_core_deinit (self->core);
  g_free (self->core);
  g_free (self->storage);
  if (self->storage_fd >= 0)
    close (self->storage_fd);
  g_byte_array_unref (self->outbuf);
  g_byte_array_unref (self->inbuf);
  g_free (self->flash);
  if (self->flash_fd >= 0)
    close (self->flash_fd);
  g_free (self->fd_flash);
  if (self->fd_flash_fd >= 0)
    close (self->fd_flash_fd);
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
  self->outbuf = g_byte_array_new ();
  self->flash_fd = -1;
  self->fd_flash_fd = -1;
  self->storage_fd = -1;
  self->mirrored_slot = -1;
  self->master = -1;
  self->slave_keep = -1;
}

/* The host board under the firmware's core.  Its secure storage is
 * secure-storage.bin, flash as the core expects it (erase to 0xFF, program
 * clears bits), written through before the core answers.  Not synced to
 * disk: a simulated board's storage must survive the simulator being killed
 * (the page cache does), not a power cut of the host, and syncing would have
 * sixteen simulated boards queue on the station's own disk, which real
 * boards never do.  The core's own two-copy store is what survives a power
 * cut of the board; its unit tests cut the power at every step. */

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
      g_warning ("%s: cannot write %s: %s", self->name, name, error->message);
      return FALSE;
    }
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

static void
board_write (void          *ctx,
             const uint8_t *data,
             size_t         len)
{
  DsSimBoard *self = ctx;

  g_byte_array_append (self->outbuf, data, len);
}

static int
board_entropy (void    *ctx,
               uint8_t *out,
               size_t   len)
{
  while (len > 0)
    {
      ssize_t n = getrandom (out, len, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return -1;
      out += n;
      len -= (size_t) n;
    }
  return 0;
}

static int
board_storage_read (void    *ctx,
                    unsigned slot,
                    size_t   offset,
                    uint8_t *out,
                    size_t   len)
{
  DsSimBoard *self = ctx;

  if (slot > 1 || offset > STORE_SLOT_SIZE || len > STORE_SLOT_SIZE - offset)
    return -1;
  memcpy (out, self->storage + slot * STORE_SLOT_SIZE + offset, len);
  return 0;
}

static int
storage_persist (DsSimBoard *self,
                 gsize       offset,
                 gsize       len)
{
  if (pwrite (self->storage_fd, self->storage + offset, len, (off_t) offset) != (gssize) len)
    {
      g_warning ("%s: secure storage write failed: %s", self->name, g_strerror (errno));
      return -1;
    }
  return 0;
}

static int
board_storage_erase (void    *ctx,
                     unsigned slot)
{
  DsSimBoard *self = ctx;

  if (slot > 1)
    return -1;
  memset (self->storage + slot * STORE_SLOT_SIZE, 0xFF, STORE_SLOT_SIZE);
  return storage_persist (self, slot * STORE_SLOT_SIZE, STORE_SLOT_SIZE);
}

static int
board_storage_program (void          *ctx,
                       unsigned       slot,
                       size_t         offset,
                       const uint8_t *data,
                       size_t         len)
{
  DsSimBoard *self = ctx;
  guint8 *p;

  if (slot > 1 || offset % 8 != 0 || len % 8 != 0 || offset > STORE_SLOT_SIZE || len > STORE_SLOT_SIZE - offset)
    return -1;
  p = self->storage + slot * STORE_SLOT_SIZE + offset;
  /* Flash only clears bits. */
  for (gsize i = 0; i < len; i++)
    p[i] &= data[i];
  return storage_persist (self, slot * STORE_SLOT_SIZE + offset, len);
}

/* The factory-data region: NOR flash erased in 4 KiB sectors, written
 * through to factory-data-flash.bin. */
static int
board_fd_write (void          *ctx,
                uint32_t       address,
                const uint8_t *data,
                size_t         len)
{
  DsSimBoard *self = ctx;
  gsize offset = address - DS_SIM_FACTORY_DATA_BASE;
  gsize first, end;

  if (address < DS_SIM_FACTORY_DATA_BASE || offset > DS_SIM_FACTORY_DATA_SIZE ||
      len > DS_SIM_FACTORY_DATA_SIZE - offset)
    return -1;
  first = offset / DS_SIM_FACTORY_DATA_SECTOR * DS_SIM_FACTORY_DATA_SECTOR;
  end = (offset + len + DS_SIM_FACTORY_DATA_SECTOR - 1) / DS_SIM_FACTORY_DATA_SECTOR * DS_SIM_FACTORY_DATA_SECTOR;
  memset (self->fd_flash + first, 0xFF, end - first);
  for (gsize i = 0; i < len; i++)
    self->fd_flash[offset + i] &= data[i];
  if (pwrite (self->fd_flash_fd, self->fd_flash + first, end - first, (off_t) first) != (gssize) (end - first))
    {
      g_warning ("%s: factory-data flash write failed: %s", self->name, g_strerror (errno));
      return -1;
    }
  return 0;
}

static int
board_fd_read (void    *ctx,
               uint32_t address,
               uint8_t *out,
               size_t   len)
{
  DsSimBoard *self = ctx;
  gsize offset = address - DS_SIM_FACTORY_DATA_BASE;

  if (address < DS_SIM_FACTORY_DATA_BASE || offset > DS_SIM_FACTORY_DATA_SIZE ||
      len > DS_SIM_FACTORY_DATA_SIZE - offset)
    return -1;
  memcpy (out, self->fd_flash + offset, len);
  return 0;
}

static void
board_uid (void    *ctx,
           uint8_t  uid[FW_UID_LEN])
{
  DsSimBoard *self = ctx;

  memcpy (uid, self->uid_bytes, FW_UID_LEN);
}

static void
board_reboot (void    *ctx,
              uint8_t  target)
{
  DsSimBoard *self = ctx;

  /* The board ignores input while it restarts. */
  self->quiet_until = g_get_monotonic_time () + REBOOT_QUIET_US;
  if (target == 1)
    {
      g_message ("%s: rebooting into the ROM bootloader", self->name);
      self->in_bootloader = TRUE;
      self->bl_synced = FALSE;
    }
}

/* The simulated board "shows" its LED: a line on the simulator's log for
 * a person, and one line per request appended to STATE_DIR/sim-N/led.log
 * ("blink N", or "off" for 0) for tests.  A real board's blinking ends by
 * itself; nothing here needs to. */
static void
board_identify (void    *ctx,
                uint8_t  seconds)
{
  DsSimBoard *self = ctx;
  g_autofree char *path = state_path (self, "led.log");
  g_autofree char *line = seconds > 0 ? g_strdup_printf ("blink %u\n", seconds) : g_strdup ("off\n");
  int fd;

  if (seconds > 0)
    g_message ("%s: LED blinking for %u s", self->name, seconds);
  else
    g_message ("%s: LED blinking stopped", self->name);
  fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0 || write (fd, line, strlen (line)) != (gssize) strlen (line))
    g_warning ("%s: cannot write %s: %s", self->name, path, g_strerror (errno));
  if (fd >= 0)
    close (fd);
}

static const DsSimFault *find_fault (DsSimBoard *self, DsSimFaultKind kind);

/* The simulator's faults around the core. */
static int
board_before_command (void    *ctx,
                      uint8_t  command)
{
  DsSimBoard *self = ctx;
  const DsSimFault *stall = find_fault (self, DS_SIM_FAULT_STALL);
  const DsSimFault *unplug = find_fault (self, DS_SIM_FAULT_DISCONNECT);

  if (unplug != NULL && unplug->command == command)
    {
      disconnect (self);
      return 1;
    }
  if (stall != NULL && stall->command == command)
    {
      g_debug ("%s: stalling on %s (injected fault)", self->name, ds_command_to_string (command));
      return 1;
    }
  return 0;
}

static int
board_fault (void *ctx,
             int   which)
{
  DsSimBoard *self = ctx;

  switch (which)
    {
    case FW_FAULT_WRONG_KEY:
      return find_fault (self, DS_SIM_FAULT_WRONG_KEY) != NULL;
    case FW_FAULT_REFUSE_INSTALL:
      return find_fault (self, DS_SIM_FAULT_REFUSE_INSTALL) != NULL;
    case FW_FAULT_CLAIM_LOCKED:
      return find_fault (self, DS_SIM_FAULT_CLAIM_LOCKED) != NULL;
    case FW_FAULT_UID_AFTER_LOCK:
      return find_fault (self, DS_SIM_FAULT_UID_AFTER_LOCK) != NULL;
    case FW_FAULT_ESCAPE_TEXT:
      return find_fault (self, DS_SIM_FAULT_ESCAPE_TEXT) != NULL;
    case FW_FAULT_PROTOCOL_V1:
      return find_fault (self, DS_SIM_FAULT_PROTOCOL_V1) != NULL;
    case FW_FAULT_FD_READBACK:
      return find_fault (self, DS_SIM_FAULT_FD_READBACK) != NULL;
    case FW_FAULT_TAMPER_ATTESTATION:
      return find_fault (self, DS_SIM_FAULT_TAMPER_ATTESTATION) != NULL;
    default:
      return 0;
    }
}

/* For tests and inspection, the simulator shows what the store holds as
 * readable files (state, key.pem, dac.der, pai.der, cd.der) each time the
 * store's current record changes.  It never reads them back: the store is
 * the board's only memory.  key.pem stands for looking inside the chip with
 * a debugger; the station never sees it. */
static void
mirror_store (DsSimBoard *self)
{
  fw_creds creds;
  const char *state;
  mbedtls_pk_context pk;
  unsigned char pem[512];
  struct { const char *name; const guint8 *data; gsize len; } objects[3];

  if (self->core->store.slot == self->mirrored_slot && self->core->store.seq == self->mirrored_seq)
    return;
  self->mirrored_slot = self->core->store.slot;
  self->mirrored_seq = self->core->store.seq;
  fw_store_get (&self->core->store, &creds);
  state = state_names[MIN (creds.state, G_N_ELEMENTS (state_names) - 1)];
  store_file (self, "state", state, strlen (state), 0600);
  if (creds.state != FW_STATE_EMPTY)
    {
      mbedtls_pk_init (&pk);
      if (mbedtls_pk_setup (&pk, mbedtls_pk_info_from_type (MBEDTLS_PK_ECKEY)) == 0 &&
          mbedtls_ecp_group_load (&mbedtls_pk_ec (pk)->grp, MBEDTLS_ECP_DP_SECP256R1) == 0 &&
          mbedtls_mpi_read_binary (&mbedtls_pk_ec (pk)->d, creds.priv, 32) == 0 &&
          mbedtls_ecp_point_read_binary (&mbedtls_pk_ec (pk)->grp, &mbedtls_pk_ec (pk)->Q, creds.pub, 65) == 0 &&
          mbedtls_pk_write_key_pem (&pk, pem, sizeof pem) == 0)
        store_file (self, "key.pem", pem, strlen ((const char *) pem), 0600);
      mbedtls_pk_free (&pk);
      mbedtls_platform_zeroize (pem, sizeof pem);
    }
  mbedtls_platform_zeroize (creds.priv, sizeof creds.priv);
  objects[0].name = "dac.der", objects[0].data = creds.dac, objects[0].len = creds.dac_len;
  objects[1].name = "pai.der", objects[1].data = creds.pai, objects[1].len = creds.pai_len;
  objects[2].name = "cd.der", objects[2].data = creds.cd, objects[2].len = creds.cd_len;
  for (guint i = 0; i < G_N_ELEMENTS (objects); i++)
    {
      if (objects[i].data != NULL)
        store_file (self, objects[i].name, objects[i].data, objects[i].len, 0600);
      else
        {
          g_autofree char *path = state_path (self, objects[i].name);
          g_unlink (path);
        }
    }
}

/* A state directory from before the simulator ran the firmware's core kept
 * the credentials as files (state, key.pem, dac.der, pai.der, cd.der): they
 * become the store's first record, so those boards come back as they were. */
static void
import_legacy_files (DsSimBoard *self)
{
  g_autoptr(GBytes) pem = load_bytes (self, "key.pem");
  g_autoptr(GBytes) state = load_bytes (self, "state");
  g_autoptr(GBytes) dac = load_bytes (self, "dac.der");
  g_autoptr(GBytes) pai = load_bytes (self, "pai.der");
  g_autoptr(GBytes) cd = load_bytes (self, "cd.der");
  g_autofree char *text = NULL;
  mbedtls_pk_context pk;
  fw_creds creds = { 0 };
  size_t olen = 0;
  gboolean ok;

  if (pem == NULL)
    return;
  /* Mbed TLS wants PEM text with its NUL. */
  text = g_strndup (g_bytes_get_data (pem, NULL), g_bytes_get_size (pem));
  mbedtls_pk_init (&pk);
  ok = mbedtls_pk_parse_key (&pk, (const unsigned char *) text, strlen (text) + 1, NULL, 0) == 0 &&
       mbedtls_pk_get_type (&pk) == MBEDTLS_PK_ECKEY &&
       mbedtls_pk_ec (pk)->grp.id == MBEDTLS_ECP_DP_SECP256R1 &&
       mbedtls_mpi_write_binary (&mbedtls_pk_ec (pk)->d, creds.priv, 32) == 0 &&
       mbedtls_ecp_point_write_binary (&mbedtls_pk_ec (pk)->grp, &mbedtls_pk_ec (pk)->Q,
                                       MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, creds.pub, 65) == 0 && olen == 65;
  mbedtls_pk_free (&pk);
  if (!ok)
    {
      g_warning ("%s: key.pem from an older simulator is not a P-256 key: the board starts empty", self->name);
      return;
    }
  creds.state = FW_STATE_KEY_PENDING;
  for (guint8 st = FW_STATE_KEY_PENDING; st <= FW_STATE_LOCKED; st++)
    if (state != NULL && g_bytes_get_size (state) == strlen (state_names[st]) &&
        memcmp (g_bytes_get_data (state, NULL), state_names[st], strlen (state_names[st])) == 0)
      creds.state = st;
  if (creds.state >= FW_STATE_INSTALLED && (dac == NULL || pai == NULL))
    creds.state = FW_STATE_KEY_PENDING;
  if (creds.state >= FW_STATE_INSTALLED)
    {
      creds.dac = g_bytes_get_data (dac, &creds.dac_len);
      creds.pai = g_bytes_get_data (pai, &creds.pai_len);
      if (cd != NULL)
        creds.cd = g_bytes_get_data (cd, &creds.cd_len);
    }
  if (fw_store_put (&self->core->store, &creds) != 0)
    g_warning ("%s: cannot import the credentials of an older simulator", self->name);
  else
    g_message ("%s: imported the credentials an older simulator kept as files", self->name);
  mbedtls_platform_zeroize (creds.priv, sizeof creds.priv);
}

/* Opens secure-storage.bin (erased the first time) and starts the core. */
static gboolean
start_core (DsSimBoard  *self,
            GError     **error)
{
  g_autofree char *path = state_path (self, "secure-storage.bin");
  gssize n = 0;

  self->storage = g_malloc (2 * STORE_SLOT_SIZE);
  memset (self->storage, 0xFF, 2 * STORE_SLOT_SIZE);
  self->storage_fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (self->storage_fd < 0 || (n = pread (self->storage_fd, self->storage, 2 * STORE_SLOT_SIZE, 0)) < 0 ||
      (n < 2 * STORE_SLOT_SIZE && storage_persist (self, 0, 2 * STORE_SLOT_SIZE) != 0))
    {
      int errsv = errno;
      g_set_error (error, DS_ERROR, DS_ERROR_IO, "cannot open %s: %s", path, g_strerror (errsv));
      return FALSE;
    }
  self->board.ctx = self;
  self->board.hw_model = "STM32WB55 (simulated)";
  self->board.fw_version = self->fw_version;
  self->board.write = board_write;
  self->board.entropy = board_entropy;
  self->board.slot_size = STORE_SLOT_SIZE;
  self->board.storage_read = board_storage_read;
  self->board.storage_erase = board_storage_erase;
  self->board.storage_program = board_storage_program;
  self->board.uid = board_uid;
  self->board.lock = NULL;
  self->board.reboot = board_reboot;
  self->board.before_command = board_before_command;
  self->board.fault = board_fault;
  self->board.fd_base = DS_SIM_FACTORY_DATA_BASE;
  self->board.fd_size = DS_SIM_FACTORY_DATA_SIZE;
  self->board.fd_write = board_fd_write;
  self->board.fd_read = board_fd_read;
  self->board.identify = board_identify;
  self->core = g_new0 (fw_core, 1);
  if (fw_core_init (self->core, &self->board) != 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_IO, "cannot read %s", path);
      return FALSE;
    }
  if (n == 0)
    import_legacy_files (self);
  mirror_store (self);
  return TRUE;
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

  /* The factory-data region, erased the first time. */
  {
    g_autofree char *fd_path = state_path (self, "factory-data-flash.bin");
    g_autofree char *fd_contents = NULL;
    gsize fd_len = 0;

    self->fd_flash = g_malloc (DS_SIM_FACTORY_DATA_SIZE);
    memset (self->fd_flash, 0xFF, DS_SIM_FACTORY_DATA_SIZE);
    if (g_file_get_contents (fd_path, &fd_contents, &fd_len, NULL))
      memcpy (self->fd_flash, fd_contents, MIN (fd_len, DS_SIM_FACTORY_DATA_SIZE));
    self->fd_flash_fd = open (fd_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (self->fd_flash_fd < 0 ||
        pwrite (self->fd_flash_fd, self->fd_flash, DS_SIM_FACTORY_DATA_SIZE, 0) != (gssize) DS_SIM_FACTORY_DATA_SIZE)
      {
        int errsv = errno;
        g_set_error (error, DS_ERROR, DS_ERROR_IO, "cannot write %s: %s", fd_path, g_strerror (errsv));
        return FALSE;
      }
  }
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
  {
    g_autofree char *text = g_strndup (g_bytes_get_data (uid, NULL), g_bytes_get_size (uid));

    if (!ds_sim_board_set_uid (self, g_strstrip (text), error))
      {
        g_prefix_error (error, "%s/uid: ", self->dir);
        return NULL;
      }
  }

  if (!load_flash (self, config, error) || !start_core (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

gboolean
ds_sim_board_set_uid (DsSimBoard  *self,
                      const char  *uid,
                      GError     **error)
{
  if (!ds_board_uid_is_valid (uid))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, "a UID is 24 hex digits");
      return FALSE;
    }
  g_free (self->uid);
  self->uid = g_ascii_strup (uid, -1);
  for (gsize i = 0; i < DS_UID_LEN; i++)
    {
      char byte[3] = { self->uid[2 * i], self->uid[2 * i + 1], 0 };
      self->uid_bytes[i] = (guint8) strtoul (byte, NULL, 16);
    }
  return TRUE;
}

void
ds_sim_board_set_usb (DsSimBoard *self,
                      const char *usb_path,
                      const char *probe_serial_hex)
{
  /* Either may be the board's own string. */
  char *path = g_strdup (usb_path);
  char *serial = g_strdup (probe_serial_hex);

  g_free (self->usb_path);
  self->usb_path = path;
  g_free (self->probe_serial);
  self->probe_serial = serial;
}

const char *
ds_sim_board_get_usb_path (DsSimBoard *self)
{
  return self->usb_path;
}

const char *
ds_sim_board_get_probe_serial (DsSimBoard *self)
{
  return self->probe_serial;
}

/* (Re)writes the board's announcement file. */
static gboolean
announce (DsSimBoard  *self,
          GError     **error)
{
  DsSimAnnouncement a = {
    .name = self->name, .port = self->port, .uid = self->uid, .fw_version = self->fw_version,
    .pid = getpid (), .usb_path = self->usb_path, .probe_serial = self->probe_serial,
  };

  return ds_sim_announce_write (self->announce_dir, &a, error);
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

/* The provisioning firmware: the core takes the bytes, its answers go out
 * through the throttle once it returns, so that its compute time and the
 * wire time are counted apart. */
static void
serve_firmware (DsSimBoard *self)
{
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr(GBytes) answer = NULL;

  fw_core_input (self->core, self->inbuf->data, self->inbuf->len);
  g_byte_array_set_size (self->inbuf, 0);
  mirror_store (self);
  self->compute_us += g_get_monotonic_time () - t0;
  if (self->outbuf->len == 0)
    return;
  answer = g_bytes_new (self->outbuf->data, self->outbuf->len);
  g_byte_array_set_size (self->outbuf, 0);
  send_bytes (self, answer);
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
  self->board.fw_version = self->fw_version;
  fw_core_reset_link (self->core);
  if (self->announce_dir != NULL)
    announce (self, NULL);
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

  while (fill_input (self, 100))
    {
      if (self->in_bootloader)
        {
          while (self->master >= 0 && self->in_bootloader && self->inbuf->len > 0)
            serve_bootloader (self);
        }
      else
        serve_firmware (self);
    }
  return NULL;
}

gboolean
ds_sim_board_start (DsSimBoard  *self,
                    const char  *announce_dir,
                    GError     **error)
{
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
  if (!announce (self, error))
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
