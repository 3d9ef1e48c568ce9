/* Start-up and board helpers shared by the Cortex-M boards. */
#pragma once

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *) (uintptr_t) (addr))

void fw_reset_handler (void);
/* Resets the chip (AIRCR SYSRESETREQ). */
void fw_system_reset  (void) __attribute__ ((noreturn));
