/* The qemu-m4 board: the provisioning firmware on QEMU's netduinoplus2
 * machine (STM32F405, Cortex-M4).  It exists to run the real Cortex-M code
 * in the tests.  USART1 is the station's line (QEMU: -serial pty); the
 * credential store and the UID are host files and the entropy is the host's
 * /dev/urandom, through ARM semihosting (QEMU: -semihosting-config
 * enable=on,target=native), relative to the directory QEMU runs in. */
#include <stdint.h>
#include <string.h>

#include "fw-core.h"
#include "fw-startup.h"

#ifndef FW_VERSION
#define FW_VERSION "1.0.0"
#endif

#define SLOT_SIZE 8192
/* The factory-data region (protocol 2): where ST's Matter application on
 * the STM32WB5MM-DK reads it, here 8 KiB in factory-data-flash.bin. */
#define FD_BASE   0x901C0000u
#define FD_SIZE   8192u
#define FD_SECTOR 4096u

/* RM0090: RCC and USART1 of the STM32F405. */
#define RCC_APB2ENR   0x40023844u
#define USART1_BASE   0x40011000u
#define USART_SR      (USART1_BASE + 0x00)
#define USART_DR      (USART1_BASE + 0x04)
#define USART_BRR     (USART1_BASE + 0x08)
#define USART_CR1     (USART1_BASE + 0x0C)
#define SR_RXNE       (1u << 5)
#define SR_TXE        (1u << 7)
#define CR1_UE        (1u << 13)
#define CR1_TE        (1u << 3)
#define CR1_RE        (1u << 2)
#define CR1_RXNEIE    (1u << 5)
#define USART1_IRQN   37
#define NVIC_ISER(n)  (0xE000E100u + 4u * (n))

/* ARM semihosting operations. */
#define SYS_OPEN   0x01
#define SYS_CLOSE  0x02
#define SYS_WRITE0 0x04
#define SYS_WRITE  0x05
#define SYS_READ   0x06
#define SYS_SEEK   0x0A
#define SYS_FLEN   0x0C
#define SYS_EXIT   0x18
#define MODE_RB    1
#define MODE_RPB   3
#define MODE_WPB   7

static int
semihost (int op, void *arg)
{
  register int r0 __asm__ ("r0") = op;
  register void *r1 __asm__ ("r1") = arg;

  __asm__ volatile ("bkpt 0xAB" : "+r" (r0) : "r" (r1) : "memory");
  return r0;
}

static int
sh_open (const char *path, int mode)
{
  uint32_t args[3] = { (uint32_t) path, (uint32_t) mode, (uint32_t) strlen (path) };

  return semihost (SYS_OPEN, args);
}

/* Each returns 0 when all @len bytes moved. */
static int
sh_read (int fd, void *buf, size_t len)
{
  uint32_t args[3] = { (uint32_t) fd, (uint32_t) buf, (uint32_t) len };

  return semihost (SYS_READ, args) == 0 ? 0 : -1;
}

static int
sh_write (int fd, const void *buf, size_t len)
{
  uint32_t args[3] = { (uint32_t) fd, (uint32_t) buf, (uint32_t) len };

  return semihost (SYS_WRITE, args) == 0 ? 0 : -1;
}

static int
sh_seek (int fd, size_t pos)
{
  uint32_t args[2] = { (uint32_t) fd, (uint32_t) pos };

  return semihost (SYS_SEEK, args) == 0 ? 0 : -1;
}

static void
sh_puts (const char *s)
{
  semihost (SYS_WRITE0, (void *) s);
}

static void __attribute__ ((noreturn))
sh_exit_error (const char *why)
{
  /* ADP_Stopped_RunTimeErrorUnknown: QEMU exits with status 1. */
  sh_puts (why);
  semihost (SYS_EXIT, (void *) 0x20023);
  for (;;)
    ;
}

typedef struct {
  int     storage_fd;
  int     fd_flash_fd;
  int     random_fd;
  uint8_t uid[FW_UID_LEN];
} QemuBoard;

static QemuBoard qb;
static fw_core core;

/* Received bytes, from the interrupt: the main loop sleeps (WFI) instead of
 * spinning, so an idle emulated board costs the host no CPU. */
static volatile uint8_t rx_ring[256];
static volatile uint32_t rx_head, rx_tail;

static void
usart1_irq (void)
{
  while (REG32 (USART_SR) & SR_RXNE)
    {
      uint32_t next = (rx_head + 1) % sizeof rx_ring;

      if (next == rx_tail)
        {
          /* Full: leave RXNE set and mask the interrupt; QEMU holds back
           * further bytes until the main loop has made room. */
          REG32 (USART_CR1) &= ~CR1_RXNEIE;
          return;
        }
      rx_ring[rx_head] = (uint8_t) REG32 (USART_DR);
      rx_head = next;
    }
}

static void
uart_write (void *ctx, const uint8_t *data, size_t len)
{
  for (size_t i = 0; i < len; i++)
    {
      while (!(REG32 (USART_SR) & SR_TXE))
        ;
      REG32 (USART_DR) = data[i];
    }
}

static int
entropy (void *ctx, uint8_t *out, size_t len)
{
  return qb.random_fd >= 0 ? sh_read (qb.random_fd, out, len) : -1;
}

static int
storage_read (void *ctx, unsigned slot, size_t offset, uint8_t *out, size_t len)
{
  if (slot > 1 || offset > SLOT_SIZE || len > SLOT_SIZE - offset)
    return -1;
  if (sh_seek (qb.storage_fd, slot * SLOT_SIZE + offset) != 0)
    return -1;
  return sh_read (qb.storage_fd, out, len);
}

static int
storage_erase (void *ctx, unsigned slot)
{
  uint8_t ff[256];

  if (slot > 1)
    return -1;
  memset (ff, 0xFF, sizeof ff);
  if (sh_seek (qb.storage_fd, slot * SLOT_SIZE) != 0)
    return -1;
  for (size_t off = 0; off < SLOT_SIZE; off += sizeof ff)
    if (sh_write (qb.storage_fd, ff, sizeof ff) != 0)
      return -1;
  return 0;
}

/* Flash semantics over the file: programming only clears bits. */
static int
storage_program (void *ctx, unsigned slot, size_t offset, const uint8_t *data, size_t len)
{
  uint8_t buf[256];

  if (slot > 1 || offset % 8 || len % 8 || offset > SLOT_SIZE || len > SLOT_SIZE - offset)
    return -1;
  while (len > 0)
    {
      size_t n = len < sizeof buf ? len : sizeof buf;

      if (storage_read (ctx, slot, offset, buf, n) != 0)
        return -1;
      for (size_t i = 0; i < n; i++)
        buf[i] &= data[i];
      if (sh_seek (qb.storage_fd, slot * SLOT_SIZE + offset) != 0 || sh_write (qb.storage_fd, buf, n) != 0)
        return -1;
      offset += n;
      data += n;
      len -= n;
    }
  return 0;
}

/* The factory-data region: sectors erased, then written, over the file. */
static int
fd_erase_sector (uint32_t offset)
{
  uint8_t ff[256];

  memset (ff, 0xFF, sizeof ff);
  if (sh_seek (qb.fd_flash_fd, offset) != 0)
    return -1;
  for (uint32_t off = 0; off < FD_SECTOR; off += sizeof ff)
    if (sh_write (qb.fd_flash_fd, ff, sizeof ff) != 0)
      return -1;
  return 0;
}

static int
fd_write (void *ctx, uint32_t address, const uint8_t *data, size_t len)
{
  uint32_t offset = address - FD_BASE;

  if (qb.fd_flash_fd < 0 || address < FD_BASE || offset > FD_SIZE || len > FD_SIZE - offset)
    return -1;
  for (uint32_t s = offset / FD_SECTOR * FD_SECTOR; s < offset + len; s += FD_SECTOR)
    if (fd_erase_sector (s) != 0)
      return -1;
  if (sh_seek (qb.fd_flash_fd, offset) != 0)
    return -1;
  return sh_write (qb.fd_flash_fd, data, len);
}

static int
fd_read (void *ctx, uint32_t address, uint8_t *out, size_t len)
{
  uint32_t offset = address - FD_BASE;

  if (qb.fd_flash_fd < 0 || address < FD_BASE || offset > FD_SIZE || len > FD_SIZE - offset)
    return -1;
  if (sh_seek (qb.fd_flash_fd, offset) != 0)
    return -1;
  return sh_read (qb.fd_flash_fd, out, len);
}

static void
uid (void *ctx, uint8_t out[FW_UID_LEN])
{
  memcpy (out, qb.uid, FW_UID_LEN);
}

static void
reboot (void *ctx, uint8_t target)
{
  /* There is no ROM bootloader under QEMU: both targets restart the
   * firmware (QEMU resets the machine). */
  fw_system_reset ();
}

static void append_number (char *s, size_t v);

/* The Netduino Plus 2's LED (PA10) is not modelled by QEMU 7.2, so the
 * board says on the semihosting console what it would show; the QEMU
 * test reads that line. */
static void
identify (void *ctx, uint8_t seconds)
{
  char line[48] = "qemu-m4: LED blinking for ";

  if (seconds == 0)
    {
      sh_puts ("qemu-m4: LED blinking stopped\n");
      return;
    }
  append_number (line, seconds);
  strcat (line, " s\n");
  sh_puts (line);
}

static const fw_board board = {
  .ctx = &qb,
  .hw_model = "STM32F405 (QEMU netduinoplus2)",
  .fw_version = FW_VERSION,
  .write = uart_write,
  .entropy = entropy,
  .slot_size = SLOT_SIZE,
  .storage_read = storage_read,
  .storage_erase = storage_erase,
  .storage_program = storage_program,
  .uid = uid,
  .lock = NULL,
  .reboot = reboot,
  .fd_base = FD_BASE,
  .fd_size = FD_SIZE,
  .fd_write = fd_write,
  .fd_read = fd_read,
  .identify = identify,
};

static int
hexval (uint8_t c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* The board's UID: the file "uid" (24 hex digits), made once from the
 * host's entropy, as the STM32F405's own UID is not modelled by QEMU. */
static void
load_uid (void)
{
  static const char digits[] = "0123456789ABCDEF";
  uint8_t hex[24];
  int fd = sh_open ("uid", MODE_RB);

  if (fd >= 0 && sh_read (fd, hex, sizeof hex) == 0)
    {
      int ok = 1;

      for (int i = 0; i < FW_UID_LEN; i++)
        {
          int hi = hexval (hex[2 * i]), lo = hexval (hex[2 * i + 1]);

          ok &= hi >= 0 && lo >= 0;
          qb.uid[i] = (uint8_t) (hi << 4 | lo);
        }
      semihost (SYS_CLOSE, (uint32_t[]) { (uint32_t) fd });
      if (ok)
        return;
    }
  if (entropy (NULL, qb.uid, sizeof qb.uid) != 0)
    sh_exit_error ("qemu-m4: no entropy for the UID\n");
  for (int i = 0; i < FW_UID_LEN; i++)
    {
      hex[2 * i] = (uint8_t) digits[qb.uid[i] >> 4];
      hex[2 * i + 1] = (uint8_t) digits[qb.uid[i] & 0xF];
    }
  fd = sh_open ("uid", MODE_WPB);
  if (fd < 0 || sh_write (fd, hex, sizeof hex) != 0)
    sh_exit_error ("qemu-m4: cannot write uid\n");
  semihost (SYS_CLOSE, (uint32_t[]) { (uint32_t) fd });
}

static void
open_storage (void)
{
  uint32_t flen_args[1];

  qb.storage_fd = sh_open ("secure-storage.bin", MODE_RPB);
  if (qb.storage_fd >= 0)
    {
      flen_args[0] = (uint32_t) qb.storage_fd;
      if (semihost (SYS_FLEN, flen_args) >= 2 * SLOT_SIZE)
        return;
    }
  else
    qb.storage_fd = sh_open ("secure-storage.bin", MODE_WPB);
  if (qb.storage_fd < 0 || storage_erase (NULL, 0) != 0 || storage_erase (NULL, 1) != 0)
    sh_exit_error ("qemu-m4: cannot open secure-storage.bin\n");
}

/* factory-data-flash.bin, erased the first time. */
static void
open_fd_flash (void)
{
  uint32_t flen_args[1];

  qb.fd_flash_fd = sh_open ("factory-data-flash.bin", MODE_RPB);
  if (qb.fd_flash_fd >= 0)
    {
      flen_args[0] = (uint32_t) qb.fd_flash_fd;
      if (semihost (SYS_FLEN, flen_args) >= (int) FD_SIZE)
        return;
    }
  else
    qb.fd_flash_fd = sh_open ("factory-data-flash.bin", MODE_WPB);
  for (uint32_t s = 0; qb.fd_flash_fd >= 0 && s < FD_SIZE; s += FD_SECTOR)
    if (fd_erase_sector (s) != 0)
      qb.fd_flash_fd = -1;
}

static void
append_number (char *s, size_t v)
{
  char digits[12];
  int n = 0;

  do
    digits[n++] = (char) ('0' + v % 10);
  while ((v /= 10) > 0);
  s += strlen (s);
  while (n > 0)
    *s++ = digits[--n];
  *s = 0;
}

int
main (void)
{
  REG32 (RCC_APB2ENR) |= 1u << 4; /* USART1EN */
  REG32 (USART_BRR) = 0x2D9;      /* 115200 at 84 MHz; QEMU does not care */
  REG32 (USART_CR1) = CR1_UE | CR1_TE | CR1_RE | CR1_RXNEIE;
  REG32 (NVIC_ISER (USART1_IRQN / 32)) = 1u << (USART1_IRQN % 32);

  qb.random_fd = sh_open ("/dev/urandom", MODE_RB);
  load_uid ();
  open_storage ();
  open_fd_flash ();
  fw_core_init (&core, &board);
  sh_puts ("qemu-m4: provisioning firmware " FW_VERSION " ready\n");
  for (;;)
    {
      static size_t heap_seen, stack_seen;
      uint8_t buf[64];
      size_t n = 0;

      /* QEMU holds back further bytes while RXNE is set: nothing is lost
       * while the core computes. */
      __asm__ volatile ("cpsid i" ::: "memory");
      while (rx_tail == rx_head)
        {
          /* Interrupts masked around the check: WFI still wakes on the one
           * that comes, and it runs once they are unmasked. */
          __asm__ volatile ("wfi" ::: "memory");
          __asm__ volatile ("cpsie i\n isb\n cpsid i" ::: "memory");
        }
      __asm__ volatile ("cpsie i" ::: "memory");
      while (n < sizeof buf && rx_tail != rx_head)
        {
          buf[n++] = rx_ring[rx_tail];
          rx_tail = (rx_tail + 1) % sizeof rx_ring;
        }
      REG32 (USART_CR1) |= CR1_RXNEIE;
      fw_core_input (&core, buf, n);
      /* For the memory budget in docs/firmware.md: the most heap and stack
       * used so far, whenever it grows. */
      if (fw_heap_high_water () > heap_seen || fw_stack_high_water () > stack_seen)
        {
          char line[64] = "qemu-m4: high water: heap ";

          heap_seen = fw_heap_high_water ();
          stack_seen = fw_stack_high_water ();
          append_number (line, heap_seen);
          strcat (line, " stack ");
          append_number (line, stack_seen);
          strcat (line, "\n");
          sh_puts (line);
        }
    }
}

static void
hard_fault (void)
{
  sh_exit_error ("qemu-m4: HardFault\n");
}

static void
other_fault (void)
{
  sh_exit_error ("qemu-m4: unexpected exception\n");
}

extern uint32_t _estack;

__attribute__ ((section (".isr_vector"), used))
static const void *const vectors[16 + USART1_IRQN + 1] = {
  &_estack,
  fw_reset_handler,
  other_fault,  /* NMI */
  hard_fault,
  hard_fault,   /* MemManage */
  hard_fault,   /* BusFault */
  hard_fault,   /* UsageFault */
  0, 0, 0, 0,
  other_fault,  /* SVCall */
  other_fault,  /* DebugMon */
  0,
  other_fault,  /* PendSV */
  other_fault,  /* SysTick */
  [16 + USART1_IRQN] = usart1_irq,
};
