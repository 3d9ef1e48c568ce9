/* Fuzz target: the provisioning firmware's core (src/firmware/core), the
 * bytes a station, or a broken cable, sends the board.  The board's flash is
 * memory; whatever comes in, the core answers or stays quiet, and the
 * credentials it had before are still there after. */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "fw-core.h"

#define SLOT_SIZE 8192

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define FD_BASE 0x901C0000u
#define FD_SIZE 4096u

typedef struct {
  uint8_t flash[2 * SLOT_SIZE];
  uint8_t fd_flash[FD_SIZE];
  size_t  out_bytes;
  guint32 rng;
} FuzzBoard;

static void
fb_write (void *ctx, const uint8_t *d, size_t len)
{
  FuzzBoard *fb = ctx;

  fb->out_bytes += len;
}

/* Deterministic, so a crash reproduces. */
static int
fb_entropy (void *ctx, uint8_t *out, size_t len)
{
  FuzzBoard *fb = ctx;

  for (size_t i = 0; i < len; i++)
    {
      fb->rng = fb->rng * 1103515245u + 12345u;
      out[i] = (uint8_t) (fb->rng >> 16);
    }
  return 0;
}

static int
fb_read (void *ctx, unsigned slot, size_t off, uint8_t *out, size_t len)
{
  FuzzBoard *fb = ctx;

  if (slot > 1 || off > SLOT_SIZE || len > SLOT_SIZE - off)
    return -1;
  memcpy (out, fb->flash + slot * SLOT_SIZE + off, len);
  return 0;
}

static int
fb_erase (void *ctx, unsigned slot)
{
  FuzzBoard *fb = ctx;

  if (slot > 1)
    return -1;
  memset (fb->flash + slot * SLOT_SIZE, 0xFF, SLOT_SIZE);
  return 0;
}

static int
fb_program (void *ctx, unsigned slot, size_t off, const uint8_t *d, size_t len)
{
  FuzzBoard *fb = ctx;

  if (slot > 1 || off % 8 || len % 8 || off > SLOT_SIZE || len > SLOT_SIZE - off)
    return -1;
  for (size_t i = 0; i < len; i++)
    fb->flash[slot * SLOT_SIZE + off + i] &= d[i];
  return 0;
}

static void
fb_uid (void *ctx, uint8_t uid[FW_UID_LEN])
{
  memset (uid, 0x5A, FW_UID_LEN);
}

static void
fb_reboot (void *ctx, uint8_t target)
{
}

/* The factory-data region; the core must keep every range inside it. */
static int
fb_fd_write (void *ctx, uint32_t address, const uint8_t *d, size_t len)
{
  FuzzBoard *fb = ctx;

  g_assert_true (address >= FD_BASE && address - FD_BASE <= FD_SIZE && len <= FD_SIZE - (address - FD_BASE));
  memcpy (fb->fd_flash + (address - FD_BASE), d, len);
  return 0;
}

static int
fb_fd_read (void *ctx, uint32_t address, uint8_t *out, size_t len)
{
  FuzzBoard *fb = ctx;

  g_assert_true (address >= FD_BASE && address - FD_BASE <= FD_SIZE && len <= FD_SIZE - (address - FD_BASE));
  memcpy (out, fb->fd_flash + (address - FD_BASE), len);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  FuzzBoard *fb = g_new0 (FuzzBoard, 1);
  fw_core *core = g_new0 (fw_core, 1);
  fw_board board = {
    .ctx = fb, .hw_model = "fuzz", .fw_version = "0", .write = fb_write, .entropy = fb_entropy,
    .slot_size = SLOT_SIZE, .storage_read = fb_read, .storage_erase = fb_erase,
    .storage_program = fb_program, .uid = fb_uid, .reboot = fb_reboot,
    .fd_base = FD_BASE, .fd_size = FD_SIZE, .fd_write = fb_fd_write, .fd_read = fb_fd_read,
  };
  size_t half = size / 2;

  memset (fb->flash, 0xFF, sizeof fb->flash);
  memset (fb->fd_flash, 0xFF, sizeof fb->fd_flash);
  fw_core_init (core, &board);
  /* Fed in two pieces, as a UART delivers bytes; then the same bytes to a
   * core restarted on what the first run left in flash. */
  fw_core_input (core, data, half);
  fw_core_input (core, data + half, size - half);
  fw_core_deinit (core);
  memset (core, 0, sizeof *core);
  fw_core_init (core, &board);
  fw_core_input (core, data, size);
  fw_core_deinit (core);
  g_free (core);
  g_free (fb);
  return 0;
}
