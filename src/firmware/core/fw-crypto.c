/* The firmware's cryptography on Mbed TLS 2.28 (see fw-crypto.h).  Only the
 * modules named in src/firmware/mbedtls-config.h are used, so the same code
 * builds with Debian's libmbedtls on the host and with the minimal
 * configuration on Cortex-M. */
#include "fw-crypto.h"

#include <string.h>

#include "mbedtls/asn1write.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"
#include "mbedtls/oid.h"
#include "mbedtls/pk.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/sha256.h"
#include "mbedtls/x509_crt.h"
#include "mbedtls/x509_csr.h"

/* Matter's DN attributes: 1.3.6.1.4.1.37244.2.1 (VID) and .2.2 (PID). */
static const char oid_matter_vid[] = "\x2B\x06\x01\x04\x01\x82\xA2\x7C\x02\x01";
static const char oid_matter_pid[] = "\x2B\x06\x01\x04\x01\x82\xA2\x7C\x02\x02";

static int
board_entropy (void *ctx, unsigned char *out, size_t len)
{
  const fw_board *board = ctx;

  return board->entropy (board->ctx, out, len) == 0 ? 0 : MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
}

void
fw_crypto_init (fw_crypto *c)
{
  mbedtls_ctr_drbg_init (&c->drbg);
  c->seeded = 0;
}

void
fw_crypto_free (fw_crypto *c)
{
  mbedtls_ctr_drbg_free (&c->drbg);
}

int
fw_crypto_seed (fw_crypto *c, const fw_board *board)
{
  static const unsigned char pers[] = "dac-station-fw";

  if (c->seeded)
    return 0;
  /* CTR_DRBG pulls its entropy straight from the board's true RNG. */
  if (mbedtls_ctr_drbg_seed (&c->drbg, board_entropy, (void *) board, pers, sizeof pers - 1) != 0)
    return -1;
  c->seeded = 1;
  return 0;
}

static int
load_key (mbedtls_ecp_keypair *kp, const uint8_t priv[32], const uint8_t pub[65])
{
  if (mbedtls_ecp_group_load (&kp->grp, MBEDTLS_ECP_DP_SECP256R1) != 0 ||
      mbedtls_mpi_read_binary (&kp->d, priv, 32) != 0 ||
      mbedtls_ecp_point_read_binary (&kp->grp, &kp->Q, pub, 65) != 0)
    return -1;
  return 0;
}

int
fw_crypto_keygen (fw_crypto *c, uint8_t priv[32], uint8_t pub[65])
{
  mbedtls_ecp_keypair kp;
  size_t olen = 0;
  int ret = -1;

  mbedtls_ecp_keypair_init (&kp);
  /* Fresh entropy for the key that lives as long as the board. */
  if (mbedtls_ctr_drbg_reseed (&c->drbg, NULL, 0) == 0 &&
      mbedtls_ecp_gen_key (MBEDTLS_ECP_DP_SECP256R1, &kp, mbedtls_ctr_drbg_random, &c->drbg) == 0 &&
      mbedtls_mpi_write_binary (&kp.d, priv, 32) == 0 &&
      mbedtls_ecp_point_write_binary (&kp.grp, &kp.Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, pub, 65) == 0 &&
      olen == 65)
    ret = 0;
  mbedtls_ecp_keypair_free (&kp);
  return ret;
}

static void
hex4 (uint16_t v, unsigned char out[4])
{
  static const char digits[] = "0123456789ABCDEF";

  for (int i = 3; i >= 0; i--, v >>= 4)
    out[i] = (unsigned char) digits[v & 0xF];
}

int
fw_crypto_csr (fw_crypto *c, const uint8_t priv[32], const uint8_t pub[65],
               const char *cn, size_t cn_len, uint16_t vid, uint16_t pid,
               uint8_t *out, size_t out_size, size_t *out_len)
{
  mbedtls_pk_context pk;
  mbedtls_x509write_csr req;
  mbedtls_asn1_named_data *subject = NULL;
  mbedtls_asn1_named_data *e;
  unsigned char v[4], p[4];
  int len;
  int ret = -1;

  mbedtls_pk_init (&pk);
  mbedtls_x509write_csr_init (&req);
  hex4 (vid, v);
  hex4 (pid, p);
  if (mbedtls_pk_setup (&pk, mbedtls_pk_info_from_type (MBEDTLS_PK_ECKEY)) != 0 ||
      load_key (mbedtls_pk_ec (pk), priv, pub) != 0)
    goto done;
  /* The list is written from its tail: stored CN, VID, PID, it encodes as
   * CN, VID, PID, each a UTF8String. */
  if ((e = mbedtls_asn1_store_named_data (&subject, MBEDTLS_OID_AT_CN, MBEDTLS_OID_SIZE (MBEDTLS_OID_AT_CN),
                                          (const unsigned char *) cn, cn_len)) == NULL)
    goto done;
  e->val.tag = MBEDTLS_ASN1_UTF8_STRING;
  if ((e = mbedtls_asn1_store_named_data (&subject, oid_matter_vid, sizeof oid_matter_vid - 1, v, 4)) == NULL)
    goto done;
  e->val.tag = MBEDTLS_ASN1_UTF8_STRING;
  if ((e = mbedtls_asn1_store_named_data (&subject, oid_matter_pid, sizeof oid_matter_pid - 1, p, 4)) == NULL)
    goto done;
  e->val.tag = MBEDTLS_ASN1_UTF8_STRING;
  req.subject = subject;
  subject = NULL;
  mbedtls_x509write_csr_set_key (&req, &pk);
  mbedtls_x509write_csr_set_md_alg (&req, MBEDTLS_MD_SHA256);
  /* Written at the end of @out; moved to its start. */
  len = mbedtls_x509write_csr_der (&req, out, out_size, mbedtls_ctr_drbg_random, &c->drbg);
  if (len <= 0)
    goto done;
  memmove (out, out + out_size - (size_t) len, (size_t) len);
  *out_len = (size_t) len;
  ret = 0;
done:
  mbedtls_asn1_free_named_data_list (&subject);
  mbedtls_x509write_csr_free (&req);
  mbedtls_pk_free (&pk);
  return ret;
}

int
fw_crypto_dac_matches (const uint8_t *dac, size_t dac_len, const uint8_t pub[65])
{
  mbedtls_x509_crt crt;
  int ret = -1;
  int parsed;

  mbedtls_x509_crt_init (&crt);
  parsed = mbedtls_x509_crt_parse_der (&crt, dac, dac_len);
  /* Out of heap is the board's fault, not the DAC's.  Mbed TLS adds a
   * low-level code (bits 0-6) to a high-level one (bits 7-15). */
  if (parsed < 0)
    {
      int high = -((-parsed) & 0xFF80);
      int low = -((-parsed) & 0x7F);

      if (high == MBEDTLS_ERR_X509_ALLOC_FAILED || high == MBEDTLS_ERR_PK_ALLOC_FAILED ||
          high == MBEDTLS_ERR_ECP_ALLOC_FAILED || low == MBEDTLS_ERR_ASN1_ALLOC_FAILED ||
          low == MBEDTLS_ERR_MPI_ALLOC_FAILED)
        ret = -2;
    }
  if (ret == -2)
    ;
  else if (parsed == 0 && crt.next == NULL && crt.raw.len == dac_len)
    {
      ret = 1;
      if (mbedtls_pk_get_type (&crt.pk) == MBEDTLS_PK_ECKEY)
        {
          const mbedtls_ecp_keypair *kp = mbedtls_pk_ec (crt.pk);
          uint8_t q[65];
          size_t olen = 0;

          if (kp->grp.id == MBEDTLS_ECP_DP_SECP256R1 &&
              mbedtls_ecp_point_write_binary (&kp->grp, &kp->Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, q, sizeof q) == 0 &&
              olen == 65 && memcmp (q, pub, 65) == 0)
            ret = 0;
        }
    }
  mbedtls_x509_crt_free (&crt);
  return ret;
}

int
fw_crypto_sign (fw_crypto *c, const uint8_t priv[32], const uint8_t pub[65],
                const uint8_t *msg, size_t msg_len,
                uint8_t *sig, size_t sig_size, size_t *sig_len)
{
  mbedtls_ecp_keypair kp;
  unsigned char hash[32];
  int ret = -1;

  if (sig_size < MBEDTLS_ECDSA_MAX_LEN)
    return -1;
  mbedtls_ecp_keypair_init (&kp);
  if (load_key (&kp, priv, pub) == 0 &&
      mbedtls_sha256_ret (msg, msg_len, hash, 0) == 0 &&
      mbedtls_ecdsa_write_signature (&kp, MBEDTLS_MD_SHA256, hash, sizeof hash, sig, sig_len,
                                     mbedtls_ctr_drbg_random, &c->drbg) == 0)
    ret = 0;
  mbedtls_ecp_keypair_free (&kp);
  mbedtls_platform_zeroize (hash, sizeof hash);
  return ret;
}
