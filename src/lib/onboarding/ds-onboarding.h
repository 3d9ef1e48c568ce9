/* Matter onboarding data for one board: setup passcode, discriminator,
 * SPAKE2+ verifier, QR payload, manual pairing code, device instance data;
 * and parsing the codes back. Pure functions over values and bytes. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define DS_PASSCODE_MIN            1u
#define DS_PASSCODE_MAX            99999998u
#define DS_DISCRIMINATOR_MAX       4095u
#define DS_SPAKE2P_SALT_MIN        16u
#define DS_SPAKE2P_SALT_MAX        32u
#define DS_SPAKE2P_ITERATIONS_MIN  1000u
#define DS_SPAKE2P_ITERATIONS_MAX  100000u
/* What the station uses when a product does not say (docs/onboarding.md
 * says why). */
#define DS_SPAKE2P_DEFAULT_SALT_LEN    32u
#define DS_SPAKE2P_DEFAULT_ITERATIONS  10000u
/* w0 (32 bytes) followed by L (65 bytes, an uncompressed P-256 point). */
#define DS_SPAKE2P_VERIFIER_LEN    97u
#define DS_ROTATING_ID_MIN         16u
#define DS_ROTATING_ID_MAX         32u

/* The Matter core specification's names (5.1.3.1, table 38). */
typedef enum {
  DS_FLOW_STANDARD = 0,
  DS_FLOW_USER_INTENT = 1,
  DS_FLOW_CUSTOM = 2,
} DsCommissioningFlow;

/* Discovery capabilities bits (5.1.3.1, table 39). */
#define DS_DISCOVERY_SOFT_AP     (1u << 0)
#define DS_DISCOVERY_BLE         (1u << 1)
#define DS_DISCOVERY_ON_NETWORK  (1u << 2)
#define DS_DISCOVERY_WIFI_PAF    (1u << 3)

/**
 * DsSetupPayload:
 * What a QR code or a manual pairing code carries. A manual code carries
 * only the discriminator's upper four bits (@short_discriminator is then
 * TRUE and @discriminator holds those four bits), and the vendor and
 * product IDs only in its 21-digit form (@has_vid_pid).
 */
typedef struct {
  guint8              version;
  gboolean            has_vid_pid;
  guint16             vid;
  guint16             pid;
  DsCommissioningFlow flow;
  gboolean            has_discovery;
  guint8              discovery;
  gboolean            short_discriminator;
  guint16             discriminator;
  guint32             passcode;
  gsize               tlv_len;   /* QR: optional TLV data after the 88 bits */
} DsSetupPayload;

/* FALSE, with a message saying why, when @passcode is out of range or one
 * the Matter specification forbids (5.1.7.1). */
gboolean  ds_passcode_check         (guint32        passcode,
                                     GError       **error);
/* A passcode from OpenSSL's CSPRNG, uniform over the valid ones. */
gboolean  ds_passcode_random        (guint32       *out,
                                     GError       **error);
/* A discriminator uniform over [@lo, @hi] (both at most 4095). */
gboolean  ds_discriminator_random   (guint16        lo,
                                     guint16        hi,
                                     guint16       *out,
                                     GError       **error);
gboolean  ds_discriminator_check    (guint          discriminator,
                                     GError       **error);
gboolean  ds_spake2p_check          (gsize          salt_len,
                                     guint          iterations,
                                     GError       **error);
/* Fills @buf with @len bytes from OpenSSL's CSPRNG. */
gboolean  ds_random_bytes           (guint8        *buf,
                                     gsize          len,
                                     GError       **error);
/* The SPAKE2+ verifier w0 ‖ L (Matter core 3.10), as the Matter SDK's
 * Spake2pVerifier::Generate computes it. */
gboolean  ds_spake2p_verifier       (guint32        passcode,
                                     const guint8  *salt,
                                     gsize          salt_len,
                                     guint          iterations,
                                     guint8         out[DS_SPAKE2P_VERIFIER_LEN],
                                     GError       **error);

/* "MT:" and Base-38 of the 88-bit payload; NULL when a field is out of range. */
char     *ds_setup_payload_to_qr     (const DsSetupPayload *payload,
                                      GError              **error);
/* 11 digits, or 21 with the vendor and product IDs when the flow is custom. */
char     *ds_setup_payload_to_manual (const DsSetupPayload *payload,
                                      GError              **error);
/* A QR string ("MT:…") or a manual code (digits, dashes and spaces allowed). */
gboolean  ds_setup_payload_parse     (const char           *text,
                                      DsSetupPayload       *out,
                                      GError              **error);
/* The Verhoeff check digit ('0'..'9') of a string of digits. */
char      ds_verhoeff_check_digit    (const char           *digits);
/* Groups a manual code for reading: 1234-567-8901 or 1234-5678-9012-3456-7890-1. */
char     *ds_manual_code_format      (const char           *code);

/**
 * ds_serial_format:
 * Expands a serial number pattern: {yyyy} {yy} {mm} {dd} from @when (UTC),
 * {seq} and {seq:0N} (zero-padded to N digits) from @seq, {{ and }} for
 * braces; everything else is copied. E.g. "DS-{yyyy}{mm}{dd}-{seq:06}".
 * The result must fit Matter's 32 characters.
 */
char     *ds_serial_format           (const char           *pattern,
                                      guint64               seq,
                                      GDateTime            *when,
                                      GError              **error);

/* What the station asks for; zero fields are chosen at random. */
typedef struct {
  guint32        passcode;          /* 0: random */
  gboolean       has_discriminator;
  guint16        discriminator;
  guint16        discriminator_lo;  /* random range when !has_discriminator; */
  guint16        discriminator_hi;  /* lo = hi = 0 means the whole 0..4095 */
  const guint8  *salt;              /* NULL: random salt of salt_len bytes */
  gsize          salt_len;          /* 0: DS_SPAKE2P_DEFAULT_SALT_LEN */
  guint          iterations;        /* 0: DS_SPAKE2P_DEFAULT_ITERATIONS */
} DsOnboardingRequest;

/* One board's commissioning data. */
typedef struct {
  guint32  passcode;
  guint16  discriminator;
  guint    iterations;
  guint8   salt[DS_SPAKE2P_SALT_MAX];
  gsize    salt_len;
  guint8   verifier[DS_SPAKE2P_VERIFIER_LEN];
} DsOnboarding;

gboolean  ds_onboarding_make         (const DsOnboardingRequest *request,
                                      DsOnboarding              *out,
                                      GError                   **error);
/* Overwrites the passcode and the verifier. */
void      ds_onboarding_clear        (DsOnboarding              *onboarding);

G_END_DECLS
