/* The checksums of the device protocol's frames (CRC-8 over the header,
 * CRC-32 over header and payload) and of the credential store's records.
 * A unit of its own so that the store does not depend on the protocol
 * core that uses it. */
#pragma once

#include <stddef.h>
#include <stdint.h>

uint8_t  fw_crc8  (const uint8_t *data, size_t len);
uint32_t fw_crc32 (uint32_t crc, const uint8_t *data, size_t len);
