/* The stm32wb55 board: the provisioning firmware on CPU1 (Cortex-M4) of an
 * STM32WB55, for the Nucleo-WB55 and the STM32WB5MM-DK, written against the
 * registers of RM0434 (no vendor HAL).  Clocks: 64 MHz from the 32 MHz HSE
 * through the PLL.  The station's line: USART1 on PB6/PB7 (AF7), the
 * ST-LINK virtual COM port, 115200 8N1.  Entropy: the RNG.  Storage: four
 * 4 KiB flash pages below the wireless stack's area (SFSA), programmed by
 * double words under the CPU2 flash semaphore rules.  Lock: WRP area A over
 * those pages.  The UID is the 96-bit unique ID.  LED: PB5 (LD1, blue, on
 * the Nucleo-WB55, MB1355; UM2435 table "LEDs"): lit while idle, dark
 * while a request is handled, blinking at 2 Hz for IDENTIFY, timed by
 * SysTick.  On the STM32WB5MM-DK PB5 is not known to be an LED (its RGB
 * LED sits behind an LED driver): to be checked against its user manual.
 * docs/firmware.md says what has run on silicon: nothing yet. */
#include <stdint.h>
#include <string.h>

#include "fw-core.h"
#include "fw-startup.h"

#ifndef FW_VERSION
#define FW_VERSION "1.0.0"
#endif

/* ---- registers (RM0434) ------------------------------------------------ */

#define RCC            0x58000000u
#define RCC_CR         (RCC + 0x000)
#define RCC_CFGR       (RCC + 0x008)
#define RCC_PLLCFGR    (RCC + 0x00C)
#define RCC_AHB2ENR    (RCC + 0x04C)
#define RCC_AHB3ENR    (RCC + 0x050)
#define RCC_APB2ENR    (RCC + 0x060)
#define RCC_CCIPR      (RCC + 0x088)
#define RCC_CRRCR      (RCC + 0x098)
#define RCC_EXTCFGR    (RCC + 0x108)

#define FLASH          0x58004000u
#define FLASH_ACR      (FLASH + 0x00)
#define FLASH_KEYR     (FLASH + 0x08)
#define FLASH_OPTKEYR  (FLASH + 0x0C)
#define FLASH_SR       (FLASH + 0x10)
#define FLASH_CR       (FLASH + 0x14)
#define FLASH_WRP1AR   (FLASH + 0x2C)
#define FLASH_SFR      (FLASH + 0x80)
#define FLASH_SR_BSY    (1u << 16)
#define FLASH_SR_CFGBSY (1u << 18)
#define FLASH_SR_PESD   (1u << 19)
#define FLASH_SR_ERRORS 0xC3FAu   /* OPERR PROGERR WRPERR PGAERR SIZERR PGSERR MISSERR FASTERR RDERR OPTVERR */
#define FLASH_CR_PG      (1u << 0)
#define FLASH_CR_PER     (1u << 1)
#define FLASH_CR_STRT    (1u << 16)
#define FLASH_CR_OPTSTRT (1u << 17)
#define FLASH_CR_OPTLOCK (1u << 30)
#define FLASH_CR_LOCK    (1u << 31)

#define HSEM           0x58001400u
#define HSEM_R(n)      (HSEM + 0x000 + 4u * (n))
#define HSEM_RLR(n)    (HSEM + 0x080 + 4u * (n))
#define HSEM_COREID_CPU1 (4u << 8)
#define HSEM_LOCK      (1u << 31)
/* STM32CubeWB's allocation, which the wireless stack on CPU2 follows. */
#define SEM_FLASH                 2u
#define SEM_BLOCK_FLASH_BY_CPU2   7u

#define RNG            0x58001000u
#define RNG_CR         (RNG + 0x00)
#define RNG_SR         (RNG + 0x04)
#define RNG_DR         (RNG + 0x08)

#define GPIOB          0x48000400u
#define GPIO_MODER     0x00
#define GPIO_OSPEEDR   0x08
#define GPIO_PUPDR     0x0C
#define GPIO_ODR       0x14
#define GPIO_BSRR      0x18
#define GPIO_AFRL      0x20

#define USART1         0x40013800u
#define USART_CR1      (USART1 + 0x00)
#define USART_BRR      (USART1 + 0x0C)
#define USART_ISR      (USART1 + 0x1C)
#define USART_ICR      (USART1 + 0x20)
#define USART_RDR      (USART1 + 0x24)
#define USART_TDR      (USART1 + 0x28)
#define USART1_IRQN    36

#define NVIC_ISER(n)   (0xE000E100u + 4u * (n))

#define SYST_CSR       0xE000E010u
#define SYST_RVR       0xE000E014u
#define SYST_CVR       0xE000E018u

#define UID_BASE       0x1FFF7590u   /* 96-bit unique device ID */
#define SYSMEM_BASE    0x1FFF0000u   /* the ROM bootloader */
#define SYSCFG_MEMRMP  0x40010000u

#define FLASH_BASE     0x08000000u
#define PAGE_SIZE      4096u
#define STORE_PAGES    4u            /* two copies of two pages */
#define SLOT_SIZE      (2u * PAGE_SIZE)

#define BOOTLOADER_MAGIC 0x424F4F54u /* "BOOT": restart in the ROM bootloader */

/* Survives a system reset: not zeroed by the start-up code. */
__attribute__ ((section (".noinit"))) static uint32_t reboot_request;

extern uint8_t _flash_end_used;

static fw_core core;
static uint32_t store_base;          /* 0 when there is no room for the store */
static uint32_t sysclk_hz = 4000000u; /* MSI at reset; 64 MHz once the PLL runs */
/* IDENTIFY: LED toggles left, counted down by SysTick every 250 ms. */
static volatile uint32_t blink_toggles;

/* ---- the UART's receive ring, filled by the interrupt ---------------- */

static volatile uint8_t rx_ring[512];
static volatile uint32_t rx_head, rx_tail;

void
fw_usart1_irq (void)
{
  uint32_t isr = REG32 (USART_ISR);

  if (isr & (1u << 5))               /* RXNE */
    {
      uint8_t b = (uint8_t) REG32 (USART_RDR);
      uint32_t next = (rx_head + 1) % sizeof rx_ring;

      /* A full ring drops the byte: the protocol's CRCs and retries
       * recover, as from noise on the line. */
      if (next != rx_tail)
        {
          rx_ring[rx_head] = b;
          rx_head = next;
        }
    }
  if (isr & 0xEu)                    /* FE NE ORE: counted as lost bytes */
    REG32 (USART_ICR) = 0xEu;
}

/* ---- clocks ----------------------------------------------------------- */

static int
wait_set (uint32_t reg, uint32_t mask, uint32_t loops)
{
  while (loops-- > 0)
    if ((REG32 (reg) & mask) == mask)
      return 0;
  return -1;
}

static void
clocks_init (void)
{
  /* HSE 32 MHz on (no prescaler), PLL: /2 -> 16 MHz in, x8 -> 128 MHz
   * VCO, /2 -> 64 MHz SYSCLK.  CPU2's clock (HCLK2) /2 = 32 MHz, its
   * maximum; the shared HCLK4 stays at 64 MHz. */
  REG32 (RCC_CR) |= 1u << 16;                               /* HSEON */
  if (wait_set (RCC_CR, 1u << 17, 1000000) != 0)            /* HSERDY */
    return;                                                 /* stay on MSI 4 MHz */
  REG32 (RCC_EXTCFGR) = (REG32 (RCC_EXTCFGR) & ~0xF0u) | (0x8u << 4); /* C2HPRE /2 */
  REG32 (FLASH_ACR) = (REG32 (FLASH_ACR) & ~7u) | 3u | (1u << 8) | (1u << 9) | (1u << 10); /* 3 WS, PRFT, IC, DC */
  while ((REG32 (FLASH_ACR) & 7u) != 3u)
    ;
  REG32 (RCC_PLLCFGR) = 3u                                  /* PLLSRC HSE */
                        | (1u << 4)                         /* PLLM /2 */
                        | (8u << 8)                         /* PLLN x8 */
                        | (1u << 28) | (1u << 29);          /* PLLREN, PLLR /2 */
  REG32 (RCC_CR) |= 1u << 24;                               /* PLLON */
  if (wait_set (RCC_CR, 1u << 25, 1000000) != 0)
    return;
  REG32 (RCC_CFGR) = (REG32 (RCC_CFGR) & ~3u) | 3u;         /* SW = PLL */
  while (((REG32 (RCC_CFGR) >> 2) & 3u) != 3u)
    ;
  sysclk_hz = 64000000u;
  /* HSI48 for the RNG's kernel clock (CLK48SEL 00, RNGSEL 00). */
  REG32 (RCC_CRRCR) |= 1u;
  wait_set (RCC_CRRCR, 1u << 1, 1000000);
  REG32 (RCC_CCIPR) &= ~((3u << 26) | (3u << 30));
}

/* ---- USART1 and the LED --------------------------------------------- */

static void
gpio_init (void)
{
  REG32 (RCC_AHB2ENR) |= 1u << 1;                           /* GPIOBEN */
  (void) REG32 (RCC_AHB2ENR);
  /* PB6 TX, PB7 RX: alternate function 7; PB7 pulled up (idle high). */
  REG32 (GPIOB + GPIO_MODER) = (REG32 (GPIOB + GPIO_MODER) & ~(0xFu << 12)) | (0xAu << 12);
  REG32 (GPIOB + GPIO_AFRL) = (REG32 (GPIOB + GPIO_AFRL) & ~(0xFFu << 24)) | (0x77u << 24);
  REG32 (GPIOB + GPIO_PUPDR) = (REG32 (GPIOB + GPIO_PUPDR) & ~(3u << 14)) | (1u << 14);
  /* PB5, LD1: output. */
  REG32 (GPIOB + GPIO_MODER) = (REG32 (GPIOB + GPIO_MODER) & ~(3u << 10)) | (1u << 10);
}

static void
led (int on)
{
  REG32 (GPIOB + GPIO_BSRR) = on ? 1u << 5 : 1u << (5 + 16);
}

/* SysTick, every 250 ms while blinking: toggles the LED, and when the
 * time is up stops itself and leaves the LED lit, as when idle. */
static void
systick_irq (void)
{
  if (blink_toggles > 0 && --blink_toggles > 0)
    {
      REG32 (GPIOB + GPIO_BSRR) = (REG32 (GPIOB + GPIO_ODR) & (1u << 5)) ? 1u << (5 + 16) : 1u << 5;
      return;
    }
  REG32 (SYST_CSR) = 0;
  led (1);
}

static void
identify (void *ctx, uint8_t seconds)
{
  REG32 (SYST_CSR) = 0;
  blink_toggles = (uint32_t) seconds * 4u;
  if (seconds == 0)
    {
      led (1);
      return;
    }
  /* 250 ms at 64 MHz is 16 000 000 cycles, inside SysTick's 24 bits. */
  REG32 (SYST_RVR) = sysclk_hz / 4u - 1u;
  REG32 (SYST_CVR) = 0;
  REG32 (SYST_CSR) = 7u;                                    /* processor clock, interrupt, enable */
  led (0);
}

static void
usart_init (void)
{
  REG32 (RCC_APB2ENR) |= 1u << 14;                          /* USART1EN; kernel clock PCLK2 */
  (void) REG32 (RCC_APB2ENR);
  REG32 (USART_CR1) = 0;
  REG32 (USART_BRR) = (64000000u + 115200u / 2) / 115200u;  /* 8N1 at 115200 */
  REG32 (USART_CR1) = (1u << 5) | (1u << 3) | (1u << 2) | 1u; /* RXNEIE TE RE UE */
  REG32 (NVIC_ISER (USART1_IRQN / 32)) = 1u << (USART1_IRQN % 32);
}

static void
uart_write (void *ctx, const uint8_t *data, size_t len)
{
  for (size_t i = 0; i < len; i++)
    {
      while (!(REG32 (USART_ISR) & (1u << 7)))             /* TXE */
        ;
      REG32 (USART_TDR) = data[i];
    }
  while (!(REG32 (USART_ISR) & (1u << 6)))                 /* TC: all out before a reset */
    ;
}

/* ---- entropy: the RNG ------------------------------------------------ */

static int
rng_word (uint32_t *out)
{
  for (int attempt = 0; attempt < 8; attempt++)
    {
      uint32_t sr;
      uint32_t loops = 100000;

      while (!((sr = REG32 (RNG_SR)) & 0x67u) && loops-- > 0)
        ;
      if (sr & (1u << 6))
        {
          /* Seed error (SEIS): clear it, restart the RNG and drop what is
           * in its pipeline, as RM0434 describes. */
          REG32 (RNG_SR) = ~(1u << 6) & 0x61u;
          REG32 (RNG_CR) &= ~(1u << 2);
          REG32 (RNG_CR) |= 1u << 2;
          for (int i = 0; i < 12; i++)
            (void) REG32 (RNG_DR);
          continue;
        }
      if (sr & (1u << 5))
        {
          /* Clock error (CEIS): the RNG clock is too slow against HCLK.
           * Clear it and try again once the clock is back (CECS clear). */
          REG32 (RNG_SR) = ~(1u << 5) & 0x61u;
          for (uint32_t i = 0; i < 100000 && (REG32 (RNG_SR) & (1u << 1)); i++)
            ;
          continue;
        }
      if (sr & 1u)
        {
          uint32_t v = REG32 (RNG_DR);

          /* A zero word right after an error is not trusted. */
          if (v == 0)
            continue;
          *out = v;
          return 0;
        }
    }
  return -1;
}

static int
entropy (void *ctx, uint8_t *out, size_t len)
{
  while (len > 0)
    {
      uint32_t w;
      size_t n = len < 4 ? len : 4;

      if (rng_word (&w) != 0)
        return -1;
      memcpy (out, &w, n);
      out += n;
      len -= n;
    }
  return 0;
}

static void
rng_init (void)
{
  REG32 (RCC_AHB3ENR) |= 1u << 18;                          /* RNGEN */
  (void) REG32 (RCC_AHB3ENR);
  REG32 (RNG_CR) = 1u << 2;                                 /* RNGEN, clock error detection on */
}

/* ---- flash: the credential store ------------------------------------- */

static int
hsem_take (uint32_t n)
{
  for (uint32_t loops = 0; loops < 10000000u; loops++)
    if (REG32 (HSEM_RLR (n)) == (HSEM_LOCK | HSEM_COREID_CPU1))
      return 0;
  return -1;
}

static void
hsem_release (uint32_t n)
{
  REG32 (HSEM_R (n)) = HSEM_COREID_CPU1;
}

static void
flush_caches (void)
{
  uint32_t acr = REG32 (FLASH_ACR);

  REG32 (FLASH_ACR) = acr & ~((1u << 9) | (1u << 10));
  REG32 (FLASH_ACR) = (acr & ~((1u << 9) | (1u << 10))) | (1u << 11) | (1u << 12);
  REG32 (FLASH_ACR) = acr & ~((1u << 11) | (1u << 12));
}

/* The rules for CPU1 with CPU2 present (RM0434, "Flash memory access by
 * CPU1 and CPU2"): hold the flash semaphore for the whole operation, wait
 * while CPU2 has it suspended (PESD) and while the flash is busy, and do
 * it with interrupts off so nothing runs from flash meanwhile.  This
 * firmware does not start CPU2, but follows the rules all the same. */
static int
flash_begin (void)
{
  if (hsem_take (SEM_FLASH) != 0)
    return -1;
  __asm__ volatile ("cpsid i" ::: "memory");
  while (REG32 (FLASH_SR) & (FLASH_SR_BSY | FLASH_SR_CFGBSY | FLASH_SR_PESD))
    ;
  REG32 (FLASH_SR) = FLASH_SR_ERRORS | 1u;                  /* clear errors and EOP */
  if (REG32 (FLASH_CR) & FLASH_CR_LOCK)
    {
      REG32 (FLASH_KEYR) = 0x45670123u;
      REG32 (FLASH_KEYR) = 0xCDEF89ABu;
    }
  return (REG32 (FLASH_CR) & FLASH_CR_LOCK) ? -1 : 0;
}

static int
flash_wait (void)
{
  while (REG32 (FLASH_SR) & (FLASH_SR_BSY | FLASH_SR_CFGBSY))
    ;
  return (REG32 (FLASH_SR) & FLASH_SR_ERRORS) ? -1 : 0;
}

static int
flash_end (int ret)
{
  REG32 (FLASH_CR) &= ~(FLASH_CR_PG | FLASH_CR_PER);
  REG32 (FLASH_CR) |= FLASH_CR_LOCK;
  flush_caches ();
  __asm__ volatile ("cpsie i" ::: "memory");
  hsem_release (SEM_FLASH);
  return ret;
}

static int
storage_read (void *ctx, unsigned slot, size_t offset, uint8_t *out, size_t len)
{
  if (store_base == 0 || slot > 1 || offset > SLOT_SIZE || len > SLOT_SIZE - offset)
    return -1;
  memcpy (out, (const void *) (store_base + slot * SLOT_SIZE + offset), len);
  return 0;
}

static int
storage_erase (void *ctx, unsigned slot)
{
  int ret = 0;

  if (store_base == 0 || slot > 1 || flash_begin () != 0)
    return -1;
  for (uint32_t p = 0; p < SLOT_SIZE / PAGE_SIZE && ret == 0; p++)
    {
      uint32_t page = (store_base - FLASH_BASE) / PAGE_SIZE + slot * (SLOT_SIZE / PAGE_SIZE) + p;

      REG32 (FLASH_CR) = (REG32 (FLASH_CR) & ~(0xFFu << 3)) | FLASH_CR_PER | (page << 3);
      REG32 (FLASH_CR) |= FLASH_CR_STRT;
      ret = flash_wait ();
    }
  return flash_end (ret);
}

static int
storage_program (void *ctx, unsigned slot, size_t offset, const uint8_t *data, size_t len)
{
  int ret = 0;

  if (store_base == 0 || slot > 1 || offset % 8 || len % 8 || offset > SLOT_SIZE || len > SLOT_SIZE - offset ||
      flash_begin () != 0)
    return -1;
  REG32 (FLASH_CR) |= FLASH_CR_PG;
  for (size_t i = 0; i < len && ret == 0; i += 8)
    {
      volatile uint32_t *dst = (volatile uint32_t *) (store_base + slot * SLOT_SIZE + offset + i);
      uint32_t w[2];

      memcpy (w, data + i, 8);
      /* A double word of all ones is what erased flash holds already. */
      if (w[0] == 0xFFFFFFFFu && w[1] == 0xFFFFFFFFu)
        continue;
      dst[0] = w[0];
      dst[1] = w[1];
      ret = flash_wait ();
    }
  return flash_end (ret);
}

/* Write protection of the store's pages (WRP area A).  Programmed into the
 * option bytes now; the chip applies it at its next option byte load, i.e.
 * the next reset or power-on.  The core's LOCKED state refuses writes from
 * this moment on. */
static int
lock (void *ctx)
{
  uint32_t first = (store_base - FLASH_BASE) / PAGE_SIZE;
  uint32_t last = first + STORE_PAGES - 1;
  uint32_t want = first | (last << 16);
  int ret;

  if (store_base == 0)
    return -1;
  if ((REG32 (FLASH_WRP1AR) & 0x00FF00FFu) == want)
    return 0;
  if (flash_begin () != 0)
    return flash_end (-1);
  REG32 (FLASH_OPTKEYR) = 0x08192A3Bu;
  REG32 (FLASH_OPTKEYR) = 0x4C5D6E7Fu;
  REG32 (FLASH_WRP1AR) = (REG32 (FLASH_WRP1AR) & ~0x00FF00FFu) | want;
  REG32 (FLASH_CR) |= FLASH_CR_OPTSTRT;
  ret = flash_wait ();
  REG32 (FLASH_CR) |= FLASH_CR_OPTLOCK;
  return flash_end (ret);
}

/* The store's four pages end where the wireless stack's area starts (SFSA,
 * in pages); never over this image. */
static uint32_t
find_store (void)
{
  uint32_t sfsa = REG32 (FLASH_SFR) & 0xFFu;
  uint32_t end = FLASH_BASE + (sfsa != 0 ? sfsa : 0x100u) * PAGE_SIZE;
  uint32_t base = end - STORE_PAGES * PAGE_SIZE;

  if (base < (((uint32_t) &_flash_end_used + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)))
    return 0;
  return base;
}

/* ---- the rest of the board ------------------------------------------- */

static void
uid (void *ctx, uint8_t out[FW_UID_LEN])
{
  memcpy (out, (const void *) UID_BASE, FW_UID_LEN);
}

static void
reboot (void *ctx, uint8_t target)
{
  /* The ROM bootloader is entered from a clean reset, before this
   * firmware sets up its clocks (see main). */
  reboot_request = target == 1 ? BOOTLOADER_MAGIC : 0;
  fw_system_reset ();
}

static const fw_board board = {
  .ctx = NULL,
  .hw_model = "STM32WB55",
  .fw_version = FW_VERSION,
  .write = uart_write,
  .entropy = entropy,
  .slot_size = SLOT_SIZE,
  .storage_read = storage_read,
  .storage_erase = storage_erase,
  .storage_program = storage_program,
  .uid = uid,
  .lock = lock,
  .reboot = reboot,
  .identify = identify,
};

static void __attribute__ ((noreturn))
jump_to_bootloader (void)
{
  uint32_t sp = REG32 (SYSMEM_BASE);
  uint32_t pc = REG32 (SYSMEM_BASE + 4);

  REG32 (RCC_APB2ENR) |= 1u << 0;                           /* SYSCFGEN */
  REG32 (SYSCFG_MEMRMP) = 1u;                               /* system memory at 0 */
  __asm__ volatile ("msr msp, %0\n bx %1" :: "r" (sp), "r" (pc) : "memory");
  for (;;)
    ;
}

int
main (void)
{
  if (reboot_request == BOOTLOADER_MAGIC)
    {
      reboot_request = 0;
      jump_to_bootloader ();
    }
  clocks_init ();
  gpio_init ();
  usart_init ();
  rng_init ();
  REG32 (RCC_AHB3ENR) |= 1u << 19;                          /* HSEMEN */
  store_base = find_store ();
  fw_core_init (&core, &board);
  led (1);
  for (;;)
    {
      uint8_t buf[64];
      size_t n = 0;

      while (rx_tail == rx_head)
        __asm__ volatile ("wfi");
      while (n < sizeof buf && rx_tail != rx_head)
        {
          buf[n++] = rx_ring[rx_tail];
          rx_tail = (rx_tail + 1) % sizeof rx_ring;
        }
      /* The activity light, unless IDENTIFY is blinking it. */
      if (blink_toggles == 0)
        led (0);
      fw_core_input (&core, buf, n);
      if (blink_toggles == 0)
        led (1);
    }
}

static void
fault (void)
{
  fw_system_reset ();
}

extern uint32_t _estack;

/* The Cortex-M4 exceptions, then the STM32WB55's interrupts up to USART1
 * (position 36). */
__attribute__ ((section (".isr_vector"), used))
static const void *const vectors[16 + USART1_IRQN + 1] = {
  [0] = &_estack,
  [1] = fw_reset_handler,
  [2] = fault,                 /* NMI */
  [3] = fault,                 /* HardFault */
  [4] = fault,                 /* MemManage */
  [5] = fault,                 /* BusFault */
  [6] = fault,                 /* UsageFault */
  [15] = systick_irq,          /* SysTick */
  [16 + USART1_IRQN] = fw_usart1_irq,
};
