/* Start-up and board helpers shared by the Cortex-M boards. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *) (uintptr_t) (addr))

void fw_reset_handler (void);
/* Resets the chip (AIRCR SYSRESETREQ). */
void fw_system_reset  (void) __attribute__ ((noreturn));
/* The most heap and stack used since reset, in bytes. */
size_t fw_heap_high_water  (void);
size_t fw_stack_high_water (void);
