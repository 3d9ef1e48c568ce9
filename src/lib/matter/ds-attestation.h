/* The commissioner's attestation check (Matter core 6.2.3.1) as pure
 * logic: the attestation elements (Matter TLV) a board returns to the
 * ATTESTATION command of protocol 2, and the signature over elements ||
 * challenge made with the DAC key. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define DS_ATTESTATION_NONCE_LEN      32
#define DS_ATTESTATION_CHALLENGE_LEN  16
/* Matter's limit on attestation elements (kMaxResponseLength). */
#define DS_ATTESTATION_ELEMENTS_MAX   900
/* Matter's limit on a Certification Declaration. */
#define DS_ATTESTATION_CD_MAX         600

/**
 * DsAttestationElements:
 * @cd: certification_declaration (tag 1), the CMS signed CD in DER
 * @nonce: attestation_nonce (tag 2), 32 bytes
 * @timestamp: timestamp (tag 3), epoch seconds, 0 when the board keeps no time
 * @firmware_info: firmware_information (tag 4), or NULL when absent
 */
typedef struct {
  GBytes  *cd;
  GBytes  *nonce;
  guint32  timestamp;
  GBytes  *firmware_info;
} DsAttestationElements;

void      ds_attestation_elements_clear (DsAttestationElements *elements);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DsAttestationElements, ds_attestation_elements_clear)

/* The attestation-elements TLV: an anonymous structure with context tags
 * 1 (CD), 2 (nonce), 3 (timestamp, 4-byte unsigned) and optionally 4
 * (firmware information), in that order. */
GBytes   *ds_attestation_elements_build (GBytes                *cd,
                                         const guint8          *nonce,
                                         gsize                  nonce_len,
                                         guint32                timestamp,
                                         GBytes                *firmware_info,
                                         GError               **error);
/* Parses @tlv strictly: one anonymous structure and nothing after it,
 * context tags 1–4 ascending and unique, tags 1–3 present, the CD 1–600
 * bytes, the nonce 32 bytes, the timestamp an unsigned integer of at most
 * 32 bits; fully-qualified (vendor-reserved) elements of primitive types
 * are skipped; at most 900 bytes in all. */
gboolean  ds_attestation_elements_parse (GBytes                *tlv,
                                         DsAttestationElements *out,
                                         GError               **error);
/* What a commissioner checks of an attestation response: @elements parse,
 * carry @nonce (the one sent) and, when @expected_cd is not NULL, exactly
 * that CD; @signature (DER ECDSA-Sig-Value) verifies over elements ||
 * @challenge with the public key of @dac (DER X.509).  @out (may be NULL)
 * receives the parsed elements.  The chain, the CD's own signature and
 * VID/PID agreement are ds-matter-validator's. */
gboolean  ds_attestation_verify         (GBytes                *elements,
                                         GBytes                *signature,
                                         const guint8          *nonce,
                                         const guint8          *challenge,
                                         GBytes                *dac,
                                         GBytes                *expected_cd,
                                         DsAttestationElements *out,
                                         GError               **error);
/* A DER ECDSA-Sig-Value as Matter's raw r || s (64 bytes), the form of the
 * signature in a Matter AttestationResponse. */
GBytes   *ds_attestation_signature_to_raw (GBytes              *der,
                                           GError             **error);

G_END_DECLS
