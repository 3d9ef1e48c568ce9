/* Protocol 2 through the station's device API (ds-device) against the real
 * simulator over its pseudo-terminal: factory data written with the
 * board's own key and read back without it, the commissioner's
 * attestation, and what the station says about a protocol-1 board, a
 * read-back that differs and factory data too large for its region. */
#include "config.h"

#include <openssl/x509.h>
#include <string.h>

#include "ds-attestation.h"
#include "ds-crypto.h"
#include "ds-device.h"
#include "ds-error.h"
#include "ds-factory-data.h"
#include "ds-onboarding.h"
#include "ds-pty-transport.h"
#include "ds-sim-announce.h"
#include "ds-test-util.h"
#include "ds-util.h"

/* The simulator's factory-data region (src/sim/ds-sim-board.h). */
#define FD_BASE 0x901C0000u
#define FD_SIZE 0x10000u

typedef struct {
  char        *tmp;
  char        *state_dir;
  char        *announce_dir;
  GPid         sim_pid;
  DsTransport *transport;
  DsDevice    *device;
  GBytes      *dac;
  GBytes      *pai;
  GBytes      *cd;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  const char *fault = data;
  const char *extra[] = { "--fault", fault, NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *announce = NULL;
  g_autoptr(DsSimAnnouncement) a = NULL;
  guint8 cd[300];

  f->tmp = g_dir_make_tmp ("ds-test-device-v2-XXXXXX", &error);
  g_assert_no_error (error);
  f->state_dir = g_build_filename (f->tmp, "boards", NULL);
  f->announce_dir = g_build_filename (f->tmp, "announce", NULL);
  f->sim_pid = ds_test_start_sim (f->state_dir, f->announce_dir, 1, fault != NULL ? extra : NULL);
  announce = g_build_filename (f->announce_dir, "sim-0.json", NULL);
  a = ds_sim_announce_read (announce, &error);
  g_assert_no_error (error);
  f->transport = DS_TRANSPORT (ds_pty_transport_new (a->port));
  g_assert_true (ds_transport_open (f->transport, &error));
  g_assert_no_error (error);
  f->device = ds_device_new (f->transport);
  /* Only the outer DER SEQUENCE matters to the board. */
  memset (cd, 0x5A, sizeof cd);
  memcpy (cd, "\x30\x82\x01\x28", 4);
  f->cd = g_bytes_new (cd, sizeof cd);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->device);
  g_clear_object (&f->transport);
  ds_test_stop (&f->sim_pid, 0);
  ds_test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->state_dir);
  g_free (f->announce_dir);
  g_clear_pointer (&f->dac, g_bytes_unref);
  g_clear_pointer (&f->pai, g_bytes_unref);
  g_clear_pointer (&f->cd, g_bytes_unref);
}

/* GENERATE_CSR, a DAC for the board's key, INSTALL with a CD. */
static void
provision (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) csr = ds_device_generate_csr (f->device, 0xFFF1, 0x8001, "Board", NULL, &error);
  g_autoptr(X509_REQ) req = NULL;
  g_autoptr(EVP_PKEY) key = NULL;
  g_autoptr(EVP_PKEY) ca = EVP_EC_gen ("P-256");

  g_assert_no_error (error);
  req = ds_csr_parse (csr, &error);
  g_assert_no_error (error);
  key = X509_REQ_get_pubkey (req);
  f->dac = ds_test_make_cert (key, ca, "DAC", 1);
  f->pai = ds_test_make_cert (ca, ca, "PAI", 1);
  g_assert_true (ds_device_install (f->device, f->dac, f->pai, f->cd, NULL, &error));
  g_assert_no_error (error);
}

/* The station's blob for this board (ds_factory_data_build). */
static GBytes *
station_blob (Fixture *f, gsize region)
{
  DsOnboardingRequest req = { .passcode = 20202021, .has_discriminator = TRUE, .discriminator = 3840,
                              .iterations = 1000 };
  DsOnboarding onb = { 0 };
  g_autoptr(GBytes) salt = NULL;
  g_autoptr(GBytes) verifier = NULL;
  g_autoptr(GBytes) rid = g_bytes_new_static ("0123456789abcdef", 16);
  g_autoptr(GError) error = NULL;
  DsFactoryDataInfo info;
  GBytes *blob;

  g_assert_true (ds_onboarding_make (&req, &onb, &error));
  g_assert_no_error (error);
  salt = g_bytes_new (onb.salt, onb.salt_len);
  verifier = g_bytes_new (onb.verifier, sizeof onb.verifier);
  info = (DsFactoryDataInfo) {
    .cd = f->cd, .dac = f->dac, .pai = f->pai,
    .discriminator = onb.discriminator, .iterations = onb.iterations,
    .salt = salt, .verifier = verifier,
    .vendor_name = "Test Vendor", .vid = 0xFFF1, .product_name = "Test Lamp", .pid = 0x8001,
    .serial_number = "DS-000001", .manufacturing_date = "2026-12-02",
    .hardware_version = 1, .hardware_version_string = "rev A", .rotating_id = rid,
  };
  blob = ds_factory_data_build (&info, region, &error);
  g_assert_no_error (error);
  ds_onboarding_clear (&onb);
  return blob;
}

/* INFO says 2; the blob goes to the board, which adds its key pair; the
 * read-back has no private key and passes the station's comparison, and
 * the board's flash image holds the whole, key included, where ST's
 * application reads it. */
static void
test_factory_data (Fixture       *f,
                   gconstpointer  data)
{
  g_auto(DsDeviceInfo) info = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) blob = NULL;
  g_autoptr(GBytes) back = NULL;
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(GBytes) image = NULL;
  g_autoptr(GBytes) in_flash = NULL;
  g_autofree char *path = g_build_filename (f->state_dir, "sim-0", "factory-data-flash.bin", NULL);
  gboolean have_key = FALSE;

  g_assert_true (ds_device_info (f->device, &info, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (info.proto_version, ==, DS_PROTOCOL_VERSION_2);
  provision (f);
  blob = station_blob (f, FD_SIZE);
  g_assert_true (ds_device_write_factory_data (f->device, FD_BASE, blob, NULL, &error));
  g_assert_no_error (error);
  back = ds_device_read_factory_data (f->device, FD_BASE, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (back);
  g_assert_true (ds_factory_data_compare (blob, back, f->dac, FD_SIZE, &error));
  g_assert_no_error (error);

  /* The flash image: tag 5 is there (and only there). */
  {
    gchar *contents = NULL;
    gsize len = 0;

    g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
    g_assert_cmpuint (len, ==, FD_SIZE);
    image = g_bytes_new_take (contents, len);
  }
  in_flash = g_bytes_new_from_bytes (image, 0, g_bytes_get_size (back) + 8 + 32);
  records = ds_factory_data_parse (in_flash, FD_SIZE, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < records->len; i++)
    {
      DsFactoryRecord *r = records->pdata[i];

      if (r->tag == DS_FACTORY_TAG_DAC_PRIVATE_KEY)
        {
          gsize back_len = 0;
          const guint8 *b = g_bytes_get_data (back, &back_len);

          have_key = TRUE;
          g_assert_cmpuint (g_bytes_get_size (r->value), ==, 32);
          /* The key never crossed the wire. */
          for (gsize k = 0; k + 32 <= back_len; k++)
            g_assert_false (memcmp (b + k, g_bytes_get_data (r->value, NULL), 32) == 0);
        }
    }
  g_assert_true (have_key);
}

/* The commissioner's attestation against the board: verified with the
 * DAC, the installed CD and the nonce sent; a second request with another
 * nonce is fresh (the first answer does not verify against it). */
static void
test_attestation (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) elements = NULL;
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(GBytes) elements2 = NULL;
  g_autoptr(GBytes) signature2 = NULL;
  guint8 nonce[32], nonce2[32], challenge[16];

  provision (f);
  g_assert_true (ds_random_bytes (nonce, sizeof nonce, NULL));
  g_assert_true (ds_random_bytes (challenge, sizeof challenge, NULL));
  memcpy (nonce2, nonce, sizeof nonce);
  nonce2[0] ^= 0xFF;
  g_assert_true (ds_device_attestation (f->device, nonce, sizeof nonce, challenge, sizeof challenge,
                                        &elements, &signature, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ds_attestation_verify (elements, signature, nonce, challenge, f->dac, f->cd, NULL, &error));
  g_assert_no_error (error);

  g_assert_true (ds_device_attestation (f->device, nonce2, sizeof nonce2, challenge, sizeof challenge,
                                        &elements2, &signature2, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ds_attestation_verify (elements2, signature2, nonce2, challenge, f->dac, f->cd, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (ds_attestation_verify (elements, signature, nonce2, challenge, f->dac, f->cd, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
}

/* A board of protocol 1: the station says what it lacks before sending a
 * command the board does not know. */
static void
test_protocol_v1 (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) blob = NULL;
  g_autoptr(GBytes) elements = NULL;
  g_autoptr(GBytes) signature = NULL;
  guint8 nonce[32] = { 0 }, challenge[16] = { 0 };

  provision (f);
  blob = station_blob (f, FD_SIZE);
  g_assert_false (ds_device_write_factory_data (f->device, FD_BASE, blob, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
  g_assert_nonnull (strstr (error->message, "device protocol 1"));
  g_assert_nonnull (strstr (error->message, "factory-data commands"));
  g_assert_nonnull (strstr (error->message, "protocol 2 or later"));
  g_clear_error (&error);
  g_assert_null (ds_device_read_factory_data (f->device, FD_BASE, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
  g_clear_error (&error);
  g_assert_false (ds_device_attestation (f->device, nonce, 32, challenge, 16, &elements, &signature, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
  g_assert_nonnull (strstr (error->message, "attestation"));
  /* The station asked nothing it knew the board would not understand. */
  g_assert_cmpuint (ds_device_get_last_status (f->device), ==, DS_STATUS_OK);
}

/* A board whose read-back differs from what it was sent: the station's
 * comparison fails. */
static void
test_readback_differs (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) blob = NULL;
  g_autoptr(GBytes) back = NULL;

  provision (f);
  blob = station_blob (f, FD_SIZE);
  g_assert_true (ds_device_write_factory_data (f->device, FD_BASE, blob, NULL, &error));
  g_assert_no_error (error);
  back = ds_device_read_factory_data (f->device, FD_BASE, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (ds_factory_data_compare (blob, back, f->dac, FD_SIZE, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == DS_ERROR);
}

/* Factory data larger than its region: refused by the station when it
 * builds the blob, and by the board for a region's end; larger than a
 * frame: refused before it is sent. */
static void
test_too_large (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) blob = NULL;
  g_autoptr(GBytes) huge = NULL;
  gsize size;

  provision (f);
  blob = station_blob (f, FD_SIZE);
  size = g_bytes_get_size (blob);

  /* The station's own check, for a region smaller than the blob. */
  {
    DsOnboardingRequest req = { .passcode = 20202021, .has_discriminator = TRUE, .discriminator = 1,
                                .iterations = 1000 };
    DsOnboarding onb = { 0 };
    g_autoptr(GBytes) salt = NULL;
    g_autoptr(GBytes) verifier = NULL;
    g_autoptr(GBytes) rid = g_bytes_new_static ("0123456789abcdef", 16);
    DsFactoryDataInfo info;

    g_assert_true (ds_onboarding_make (&req, &onb, NULL));
    salt = g_bytes_new (onb.salt, onb.salt_len);
    verifier = g_bytes_new (onb.verifier, sizeof onb.verifier);
    info = (DsFactoryDataInfo) {
      .cd = f->cd, .dac = f->dac, .pai = f->pai, .discriminator = 1, .iterations = 1000,
      .salt = salt, .verifier = verifier, .vendor_name = "V", .vid = 0xFFF1, .product_name = "P",
      .pid = 0x8001, .serial_number = "S", .manufacturing_date = "2026-12-02", .hardware_version = 1,
      .hardware_version_string = "1", .rotating_id = rid,
    };
    g_assert_null (ds_factory_data_build (&info, 512, &error));
    g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
    g_clear_error (&error);
    ds_onboarding_clear (&onb);
  }

  /* The board: the blob with its key does not fit before the region's end. */
  g_assert_false (ds_device_write_factory_data (f->device, FD_BASE + FD_SIZE - (guint32) size, blob, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
  g_assert_nonnull (strstr (error->message, "does not fit its region"));
  g_clear_error (&error);
  /* Nothing was written there. */
  g_assert_null (ds_device_read_factory_data (f->device, FD_BASE + FD_SIZE - (guint32) size, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* More than one frame holds. */
  {
    g_autofree guint8 *big = g_malloc0 (DS_FRAME_MAX_PAYLOAD);
    huge = g_bytes_new (big, DS_FRAME_MAX_PAYLOAD);
  }
  g_assert_false (ds_device_write_factory_data (f->device, FD_BASE, huge, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fault, func) g_test_add (path, Fixture, fault, fixture_setup, func, fixture_teardown)
  ADD ("/device-v2/factory-data", NULL, test_factory_data);
  ADD ("/device-v2/attestation", NULL, test_attestation);
  ADD ("/device-v2/protocol-v1", "0:protocol-v1", test_protocol_v1);
  ADD ("/device-v2/readback-differs", "0:fd-readback", test_readback_differs);
  ADD ("/device-v2/too-large", NULL, test_too_large);
  return g_test_run ();
}
