/* The frame and credential-store checksums (docs/protocol.md). */
#include "fw-crc.h"

uint8_t
fw_crc8 (const uint8_t *data, size_t len)
{
  uint8_t crc = 0;

  for (size_t i = 0; i < len; i++)
    {
      crc ^= data[i];
      for (int b = 0; b < 8; b++)
        crc = (uint8_t) (crc & 0x80 ? (crc << 1) ^ 0x07 : crc << 1);
    }
  return crc;
}

uint32_t
fw_crc32 (uint32_t crc, const uint8_t *data, size_t len)
{
  crc = ~crc;
  for (size_t i = 0; i < len; i++)
    {
      crc ^= data[i];
      for (int b = 0; b < 8; b++)
        crc = crc & 1 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
  return ~crc;
}
