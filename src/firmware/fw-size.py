#!/usr/bin/env python3
"""Prints a firmware image's flash and RAM use and fails above the budget.

  fw-size.py SIZE-TOOL ELF FLASH-BUDGET-KIB RAM-BUDGET-KIB REPORT

Flash: the vector table, code, constants and the initial values of .data.
RAM: .data, .bss, the heap Mbed TLS allocates from, and the stack, all
reserved by the linker script.  docs/firmware.md explains the budgets."""
import os
import subprocess
import sys

size_tool, elf, flash_kib, ram_kib, report = sys.argv[1:6]
out = subprocess.run([size_tool, "-A", elf], check=True, capture_output=True, text=True).stdout
sections = {}
for line in out.splitlines():
    parts = line.split()
    if len(parts) == 3 and parts[1].isdigit():
        sections[parts[0]] = int(parts[1])
flash = sum(sections.get(s, 0) for s in (".isr_vector", ".text", ".ARM.exidx", ".data"))
ram = sum(sections.get(s, 0) for s in (".data", ".bss", ".noinit", ".heap", ".stack"))
name = os.path.basename(elf)
flash_budget = int(flash_kib) * 1024
ram_budget = int(ram_kib) * 1024
text = (f"{name}: flash {flash} bytes ({flash / 1024:.1f} KiB of a {flash_kib} KiB budget), "
        f"RAM {ram} bytes ({ram / 1024:.1f} KiB of a {ram_kib} KiB budget: "
        f"data+bss {sections.get('.data', 0) + sections.get('.bss', 0) + sections.get('.noinit', 0)}, "
        f"heap {sections.get('.heap', 0)}, stack {sections.get('.stack', 0)})\n")
sys.stdout.write(text)
if flash > flash_budget or ram > ram_budget:
    sys.stderr.write(f"{name} is over its budget (docs/firmware.md)\n")
    sys.exit(1)
with open(report, "w") as f:
    f.write(text)
