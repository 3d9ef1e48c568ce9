/* The station <-> provisioning firmware wire protocol: frames, TLV payloads,
 * command and status codes.  Pure functions over bytes; see docs/protocol.md. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define DS_FRAME_MAGIC0          0xD5
#define DS_FRAME_MAGIC1          0xAC
/* The version byte of every frame: the frame format, which protocol 2
 * keeps. */
#define DS_FRAME_VERSION         1
/* The protocol the station speaks, as a board reports its own in INFO. */
#define DS_PROTOCOL_VERSION      2
/* From this version a board knows FACTORY_DATA_WRITE, FACTORY_DATA_READ
 * and ATTESTATION. */
#define DS_PROTOCOL_VERSION_2    2
#define DS_FRAME_HEADER_LEN      11
#define DS_FRAME_TRAILER_LEN     4
#define DS_FRAME_OVERHEAD        (DS_FRAME_HEADER_LEN + DS_FRAME_TRAILER_LEN)
#define DS_FRAME_MAX_PAYLOAD     4096
#define DS_FRAME_MAX_LEN         (DS_FRAME_OVERHEAD + DS_FRAME_MAX_PAYLOAD)

#define DS_FRAME_FLAG_RESPONSE   0x01

typedef enum {
  DS_CMD_INFO         = 0x01,
  DS_CMD_GENERATE_CSR = 0x02,
  DS_CMD_INSTALL      = 0x03,
  DS_CMD_READ         = 0x04,
  DS_CMD_ATTEST       = 0x05,
  DS_CMD_LOCK         = 0x06,
  DS_CMD_REBOOT       = 0x07,
  /* Protocol 2 */
  DS_CMD_FACTORY_DATA_WRITE = 0x08,
  DS_CMD_FACTORY_DATA_READ  = 0x09,
  DS_CMD_ATTESTATION  = 0x0A,
  DS_CMD_IDENTIFY     = 0x0B, /* blink the LED; optional: older firmware answers UNKNOWN_COMMAND */
} DsCommand;

typedef enum {
  DS_STATUS_OK              = 0x00,
  DS_STATUS_UNKNOWN_COMMAND = 0x02,
  DS_STATUS_BAD_PAYLOAD     = 0x03,
  DS_STATUS_WRONG_STATE     = 0x04,
  DS_STATUS_LOCKED          = 0x05,
  DS_STATUS_KEY_MISMATCH    = 0x06,
  DS_STATUS_STORAGE         = 0x07,
  DS_STATUS_NOT_FOUND       = 0x08,
  DS_STATUS_BUSY            = 0x09,
  DS_STATUS_INTERNAL        = 0x0A,
  DS_STATUS_REFUSED         = 0x0B,
  DS_STATUS_UNSUPPORTED_VERSION = 0x0C,
} DsStatus;

/* Board credential state, as INFO reports it. */
typedef enum {
  DS_BOARD_STATE_EMPTY       = 0, /* no key pair yet */
  DS_BOARD_STATE_KEY_PENDING = 1, /* key pair made, no DAC installed */
  DS_BOARD_STATE_INSTALLED   = 2, /* DAC installed, not locked */
  DS_BOARD_STATE_LOCKED      = 3, /* credentials read-only: provisioned */
} DsBoardState;

/* TLV tags used in payloads. */
typedef enum {
  DS_TAG_UID          = 0x01, /* 12 bytes: the 96-bit chip unique ID */
  DS_TAG_FW_VERSION   = 0x02, /* UTF-8 string */
  DS_TAG_STATE        = 0x03, /* u8, DsBoardState */
  DS_TAG_PROTO_VERSION = 0x04, /* u8 */
  DS_TAG_HW_MODEL     = 0x05, /* UTF-8 string */
  DS_TAG_VID          = 0x10, /* u16 */
  DS_TAG_PID          = 0x11, /* u16 */
  DS_TAG_SUBJECT_CN   = 0x12, /* UTF-8 string */
  DS_TAG_CSR          = 0x20, /* DER PKCS#10 */
  DS_TAG_DAC          = 0x21, /* DER X.509 */
  DS_TAG_PAI          = 0x22, /* DER X.509 */
  DS_TAG_CD           = 0x23, /* DER CMS */
  DS_TAG_OBJECT       = 0x24, /* u8, DsObject */
  DS_TAG_NONCE        = 0x30, /* 32 bytes */
  DS_TAG_SIGNATURE    = 0x31, /* DER ECDSA-Sig-Value */
  DS_TAG_CHALLENGE    = 0x32, /* 16 bytes: the attestation challenge */
  DS_TAG_ATTESTATION_ELEMENTS = 0x33, /* Matter TLV */
  DS_TAG_REBOOT_TARGET = 0x40, /* u8: 0 firmware (default), 1 ROM bootloader */
  DS_TAG_FD_ADDRESS   = 0x50, /* u32: where the factory data goes */
  DS_TAG_FACTORY_DATA = 0x51, /* ST X-CUBE-MATTER records */
  DS_TAG_IDENTIFY_SECONDS = 0x60, /* u8: how long IDENTIFY blinks, 0 stops */
  DS_TAG_ERROR_TEXT   = 0x7F, /* UTF-8 string */
} DsTag;

typedef enum {
  DS_OBJECT_DAC = 1,
  DS_OBJECT_PAI = 2,
  DS_OBJECT_CD  = 3,
} DsObject;

#define DS_NONCE_LEN 32
#define DS_CHALLENGE_LEN 16
#define DS_UID_LEN   12
/* The longest IDENTIFY the firmware accepts. */
#define DS_IDENTIFY_MAX_SECONDS 60

typedef struct {
  guint8        version;
  guint8        flags;
  guint16       seq;
  guint8        command;
  guint8        status;
  const guint8 *payload;     /* points into the parsed buffer */
  gsize         payload_len;
} DsFrame;

typedef enum {
  DS_PARSE_NEED_MORE, /* no complete frame yet */
  DS_PARSE_FRAME,     /* *frame is valid */
} DsParseResult;

guint32        ds_crc32            (guint32       crc,
                                    const guint8 *data,
                                    gsize         len);
guint8         ds_crc8             (const guint8 *data,
                                    gsize         len);

/* Finds the first valid frame in @buf.  *@consumed is how many bytes at the
 * front of @buf the caller may drop: garbage before a frame (also when
 * returning NEED_MORE) plus the frame itself when one is returned.
 * *@garbage counts the bytes that were skipped as not being a frame. */
DsParseResult  ds_frame_parse      (const guint8 *buf,
                                    gsize         len,
                                    DsFrame      *frame,
                                    gsize        *consumed,
                                    gsize        *garbage);

GBytes        *ds_frame_encode     (guint8        flags,
                                    guint16       seq,
                                    guint8        command,
                                    guint8        status,
                                    const guint8 *payload,
                                    gsize         payload_len);

/* A byte accumulator that hands out whole frames. */
typedef struct _DsFrameReader DsFrameReader;

DsFrameReader *ds_frame_reader_new     (void);
void           ds_frame_reader_free    (DsFrameReader *reader);
void           ds_frame_reader_push    (DsFrameReader *reader,
                                        const guint8  *data,
                                        gsize          len);
/* Returns TRUE and fills @frame (payload copied into @payload) when a whole
 * frame is available. */
gboolean       ds_frame_reader_next    (DsFrameReader *reader,
                                        DsFrame       *frame,
                                        GBytes       **payload);
void           ds_frame_reader_reset   (DsFrameReader *reader);
gsize          ds_frame_reader_garbage (DsFrameReader *reader);
/* Bytes kept for a frame still arriving (garbage is dropped as it is
 * found, by ds_frame_reader_next()). */
gsize           ds_frame_reader_pending (DsFrameReader *reader);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsFrameReader, ds_frame_reader_free)

/* TLV payloads: tag (u8), length (u16 LE), value. */
void           ds_tlv_append        (GByteArray   *out,
                                     guint8        tag,
                                     const void   *value,
                                     gsize         len);
void           ds_tlv_append_u8     (GByteArray   *out,
                                     guint8        tag,
                                     guint8        value);
void           ds_tlv_append_u16    (GByteArray   *out,
                                     guint8        tag,
                                     guint16       value);
void           ds_tlv_append_string (GByteArray   *out,
                                     guint8        tag,
                                     const char   *value);
void           ds_tlv_append_bytes  (GByteArray   *out,
                                     guint8        tag,
                                     GBytes       *value);
/* TRUE when the payload is a well-formed TLV sequence. */
gboolean       ds_tlv_validate      (const guint8 *payload,
                                     gsize         len);
/* Finds the first element with @tag; FALSE if absent or malformed. */
gboolean       ds_tlv_find          (const guint8 *payload,
                                     gsize         len,
                                     guint8        tag,
                                     const guint8 **value,
                                     gsize        *value_len);
gboolean       ds_tlv_get_u8        (const guint8 *payload,
                                     gsize         len,
                                     guint8        tag,
                                     guint8       *value);
gboolean       ds_tlv_get_u16       (const guint8 *payload,
                                     gsize         len,
                                     guint8        tag,
                                     guint16      *value);
/* Returns a newly allocated, NUL-terminated, UTF-8-checked string or NULL. */
char          *ds_tlv_dup_string    (const guint8 *payload,
                                     gsize         len,
                                     guint8        tag);
GBytes        *ds_tlv_dup_bytes     (const guint8 *payload,
                                     gsize         len,
                                     guint8        tag);

const char    *ds_command_to_string (guint8 command);
/* A sentence for an operator. */
const char    *ds_status_to_string  (guint8 status);
const char    *ds_board_state_to_string (guint8 state);

G_END_DECLS
