/* The firmware's cryptography on Mbed TLS 2.28: the key pair, the CSR, the
 * DAC/key match and attestation signatures. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/ctr_drbg.h"

#include "fw-board.h"

typedef struct {
  mbedtls_ctr_drbg_context drbg;
  int                      seeded;
} fw_crypto;

void fw_crypto_init   (fw_crypto *c);
void fw_crypto_free   (fw_crypto *c);
/* Seeds CTR_DRBG from the board's entropy source on first use; 0 on success. */
int  fw_crypto_seed   (fw_crypto *c, const fw_board *board);
/* A new P-256 key pair: the private scalar and the uncompressed point. */
int  fw_crypto_keygen (fw_crypto *c, uint8_t priv[32], uint8_t pub[65]);
/* A PKCS#10 CSR in DER for the key, subject CN plus the Matter VID and PID
 * attributes, signed with ecdsa-with-SHA256, at the start of @out. */
int  fw_crypto_csr    (fw_crypto *c, const uint8_t priv[32], const uint8_t pub[65],
                       const char *cn, size_t cn_len, uint16_t vid, uint16_t pid,
                       uint8_t *out, size_t out_size, size_t *out_len);
/* 0 when @dac is a DER X.509 certificate for the P-256 key @pub, 1 when it
 * is a certificate for another key, -1 when it is not a certificate, -2
 * when the board ran out of memory parsing it. */
int  fw_crypto_dac_matches (const uint8_t *dac, size_t dac_len, const uint8_t pub[65]);
/* ECDSA P-256 with SHA-256 over @msg: a DER ECDSA-Sig-Value. */
int  fw_crypto_sign   (fw_crypto *c, const uint8_t priv[32], const uint8_t pub[65],
                       const uint8_t *msg, size_t msg_len,
                       uint8_t *sig, size_t sig_size, size_t *sig_len);
