/* What a product says about the onboarding data and factory data the
 * Install step writes to each of its boards: passcode, discriminator,
 * SPAKE2+ parameters, serial number pattern, device instance data and
 * where the factory data goes.  Unset fields take the defaults below. */
#pragma once

#include <glib.h>

#include "ds-onboarding.h"

G_BEGIN_DECLS

/* DS-20261202-000042: the date and the store's sequence number. */
#define DS_SERIAL_PATTERN_DEFAULT      "DS-{yyyy}{mm}{dd}-{seq:06}"
/* Where ST's Matter application on the STM32WB5MM-DK reads its factory
 * data: external flash 0x901C0000-0x901CFFFF (docs/onboarding.md). */
#define DS_FACTORY_DATA_ADDRESS_DEFAULT  0x901C0000u
#define DS_FACTORY_DATA_SIZE_DEFAULT     0x10000u
#define DS_HARDWARE_VERSION_STRING_DEFAULT "1.0"

typedef struct {
  guint32   passcode;           /* 0: random per board */
  gboolean  has_discriminator;  /* a fixed discriminator */
  guint     discriminator;
  guint     discriminator_lo;   /* a random one in [lo, hi] when !has_discriminator; */
  guint     discriminator_hi;   /* lo = hi = 0: the whole 0..4095 */
  guint     salt_len;           /* 0: DS_SPAKE2P_DEFAULT_SALT_LEN */
  guint     iterations;         /* 0: DS_SPAKE2P_DEFAULT_ITERATIONS */
  char     *serial_pattern;     /* NULL: DS_SERIAL_PATTERN_DEFAULT */
  guint32   fd_address;         /* 0: DS_FACTORY_DATA_ADDRESS_DEFAULT */
  guint32   fd_size;            /* 0: DS_FACTORY_DATA_SIZE_DEFAULT */
  char     *vendor_name;        /* NULL: "Vendor XXXX" (the VID) */
  char     *product_name;       /* NULL: "Product XXXX" (the PID) */
  guint16   hardware_version;
  char     *hardware_version_string; /* NULL: DS_HARDWARE_VERSION_STRING_DEFAULT */
  guint8    discovery;          /* 0: BLE (DS_DISCOVERY_BLE) */
  DsCommissioningFlow flow;
  gboolean  no_passcode_tag;    /* leave tag 15 out of the factory data */
} DsOnboardingConfig;

DsOnboardingConfig *ds_onboarding_config_new   (void);
DsOnboardingConfig *ds_onboarding_config_copy  (const DsOnboardingConfig *config);
void                ds_onboarding_config_free  (DsOnboardingConfig       *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsOnboardingConfig, ds_onboarding_config_free)

/* "N" (a fixed discriminator) or "LO-HI" (random in the range); FALSE with
 * DS_ERROR_CONFIG when not numbers or over 4095. */
gboolean    ds_onboarding_config_set_discriminator (DsOnboardingConfig *config,
                                                    const char         *text,
                                                    GError            **error);
/* Every rule a configured value must keep, DS_ERROR_CONFIG otherwise: a
 * fixed passcode that is valid, discriminators at most 4095, the SPAKE2+
 * salt length and iteration count in Matter's ranges, a serial pattern
 * with {seq} that expands to at most 32 characters, the names' lengths.
 * @config may be NULL (the defaults). */
gboolean    ds_onboarding_config_check     (const DsOnboardingConfig *config,
                                            GError                  **error);
const char *ds_onboarding_config_get_serial_pattern (const DsOnboardingConfig *config);
guint32     ds_onboarding_config_get_fd_address     (const DsOnboardingConfig *config);
guint32     ds_onboarding_config_get_fd_size        (const DsOnboardingConfig *config);
/* The request ds_onboarding_make() takes. */
void        ds_onboarding_config_get_request        (const DsOnboardingConfig *config,
                                                     DsOnboardingRequest      *request);
/* "key value" lines for the station's configuration record, with nothing
 * secret: a fixed passcode is said to be fixed, never given. */
void        ds_onboarding_config_describe           (const DsOnboardingConfig *config,
                                                     GString                  *out);

G_END_DECLS
