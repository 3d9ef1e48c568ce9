/* Matter factory data in ST's X-CUBE-MATTER layout: build the blob the
 * station sends, parse a blob strictly, and compare a board's read-back. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The tags of ST's stm32_factorydata.h. */
typedef enum {
  DS_FACTORY_TAG_CD = 1,
  DS_FACTORY_TAG_FIRMWARE_INFO = 2,
  DS_FACTORY_TAG_DAC = 3,
  DS_FACTORY_TAG_PAI = 4,
  DS_FACTORY_TAG_DAC_PRIVATE_KEY = 5,
  DS_FACTORY_TAG_DAC_PUBLIC_KEY = 6,
  DS_FACTORY_TAG_DISCRIMINATOR = 11,
  DS_FACTORY_TAG_ITERATIONS = 12,
  DS_FACTORY_TAG_SALT = 13,
  DS_FACTORY_TAG_VERIFIER = 14,
  DS_FACTORY_TAG_PASSCODE = 15,
  DS_FACTORY_TAG_VENDOR_NAME = 21,
  DS_FACTORY_TAG_VID = 22,
  DS_FACTORY_TAG_PRODUCT_NAME = 23,
  DS_FACTORY_TAG_PID = 24,
  DS_FACTORY_TAG_SERIAL_NUMBER = 25,
  DS_FACTORY_TAG_MANUFACTURING_DATE = 26,
  DS_FACTORY_TAG_HARDWARE_VERSION = 27,
  DS_FACTORY_TAG_HARDWARE_VERSION_STRING = 28,
  DS_FACTORY_TAG_ROTATING_ID = 29,
  DS_FACTORY_TAG_ENABLE_KEY = 41,  /* ST platform-specific; never written by the station */
} DsFactoryTag;

/* The 32-bit word that closes the records. */
#define DS_FACTORY_DATA_TERMINATOR   0xACACACACu
/* ST's reader refuses a value of 0 bytes or of 603 bytes and more. */
#define DS_FACTORY_DATA_VALUE_MAX    602u
/* The STM32WB5MM-DK's region in external flash, 0x901C0000–0x901CFFFF. */
#define DS_FACTORY_DATA_REGION_STM32WB5MM_DK  0x10000u

/**
 * DsFactoryDataInfo:
 * What the station writes. @cd and @firmware_info are optional (NULL);
 * everything else is required. Strings are UTF-8 and written without a
 * terminating NUL, as ST's tools write them.
 */
typedef struct {
  GBytes     *cd;
  GBytes     *firmware_info;
  GBytes     *dac;
  GBytes     *pai;
  guint16     discriminator;
  guint32     iterations;
  GBytes     *salt;
  GBytes     *verifier;
  gboolean    has_passcode;   /* tag 15: only for products that show their own QR code */
  guint32     passcode;
  const char *vendor_name;
  guint16     vid;
  const char *product_name;
  guint16     pid;
  const char *serial_number;
  const char *manufacturing_date;  /* "YYYY-MM-DD" */
  guint16     hardware_version;
  const char *hardware_version_string;
  GBytes     *rotating_id;
} DsFactoryDataInfo;

typedef struct {
  guint32  tag;
  GBytes  *value;
} DsFactoryRecord;

void        ds_factory_record_free     (DsFactoryRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsFactoryRecord, ds_factory_record_free)

/* The blob, without the DAC key (tags 5 and 6); NULL when a field breaks a
 * rule or the blob is larger than @region_size. */
GBytes     *ds_factory_data_build      (const DsFactoryDataInfo *info,
                                        gsize                    region_size,
                                        GError                 **error);
/* The records of @blob, strictly: every header and value inside the blob,
 * lengths 1..602, tags ascending and unique, known tags with well-formed
 * values, the terminator, nothing after it but erased flash (0xFF), and
 * the whole at most @region_size bytes. A GPtrArray of DsFactoryRecord. */
GPtrArray  *ds_factory_data_parse      (GBytes                  *blob,
                                        gsize                    region_size,
                                        GError                 **error);
/* A board's read-back against what was sent: the DAC's private key must be
 * absent, its public key (tag 6) must be @dac's, uncompressed; every other
 * record must be byte for byte what was sent, and nothing else there. */
gboolean    ds_factory_data_compare    (GBytes                  *sent,
                                        GBytes                  *read_back,
                                        GBytes                  *dac,
                                        gsize                    region_size,
                                        GError                 **error);
/* The tag's name in ST's tools (e.g. "SPAKE2_VERIFIER"), or NULL. */
const char *ds_factory_tag_name        (guint32                  tag);
/* A value for people: numbers in decimal, strings quoted, bytes in hex. */
char       *ds_factory_record_describe (const DsFactoryRecord   *record);
/* The uncompressed P-256 public key (65 bytes) of a DER certificate. */
GBytes     *ds_factory_dac_public_key  (GBytes                  *dac,
                                        GError                 **error);

G_END_DECLS
