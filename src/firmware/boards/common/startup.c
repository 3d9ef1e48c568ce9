/* Cortex-M4 start-up shared by the boards: the vector table's first
 * entries, copying .data and zeroing .bss, and the heap Mbed TLS allocates
 * from, bounded by the linker script. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "fw-startup.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern uint8_t __heap_start, __heap_end, __stack_start;

#define STACK_PAINT 0xA5u

static uint8_t *heap_brk = &__heap_start;

int main (void);

void
fw_reset_handler (void)
{
  uint32_t *src = &_sidata;

  for (uint32_t *dst = &_sdata; dst < &_edata;)
    *dst++ = *src++;
  for (uint32_t *dst = &_sbss; dst < &_ebss;)
    *dst++ = 0;
  /* Paint the stack below this frame, to measure how deep it gets. */
  {
    uint8_t *sp;

    __asm__ volatile ("mov %0, sp" : "=r" (sp));
    for (uint8_t *p = &__stack_start; p < sp - 64; p++)
      *p = STACK_PAINT;
  }
  main ();
  fw_system_reset ();
}

void
fw_system_reset (void)
{
  /* AIRCR: VECTKEY and SYSRESETREQ. */
  __asm__ volatile ("dsb" ::: "memory");
  *(volatile uint32_t *) 0xE000ED0Cu = 0x05FA0004u;
  __asm__ volatile ("dsb" ::: "memory");
  for (;;)
    ;
}

/* newlib's malloc grows the heap through _sbrk: never past __heap_end,
 * so a heap that runs out is a failed allocation (Mbed TLS then fails
 * cleanly), never a heap over the stack. */
void *
_sbrk (ptrdiff_t incr)
{
  uint8_t *prev = heap_brk;

  if (incr < 0 ? (size_t) (heap_brk - &__heap_start) < (size_t) -incr
               : (size_t) (&__heap_end - heap_brk) < (size_t) incr)
    {
      errno = ENOMEM;
      return (void *) -1;
    }
  heap_brk += incr;
  return prev;
}

size_t
fw_heap_high_water (void)
{
  /* newlib-nano's malloc never gives memory back to _sbrk. */
  return (size_t) (heap_brk - &__heap_start);
}

size_t
fw_stack_high_water (void)
{
  uint8_t *p = &__stack_start;

  while (p < (uint8_t *) &_estack && *p == STACK_PAINT)
    p++;
  return (size_t) ((uint8_t *) &_estack - p);
}

/* What newlib asks for besides, on a board with no operating system. */
int _close (int fd) { return -1; }
int _lseek (int fd, int off, int whence) { return -1; }
int _read (int fd, char *buf, int len) { return -1; }
int _write (int fd, const char *buf, int len) { return len; }
int _fstat (int fd, void *st) { return -1; }
int _isatty (int fd) { return 0; }
int _getpid (void) { return 1; }
int _kill (int pid, int sig) { return -1; }
void _exit (int status) { fw_system_reset (); for (;;) ; }
