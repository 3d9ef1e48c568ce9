/* Unit tests of the onboarding data: the Matter SDK's known answers for the
 * verifier, the QR payload and the manual code; parsing them back; the
 * range checks; random passcodes and discriminators; serial patterns. */
#include <string.h>

#include "ds-error.h"
#include "ds-onboarding.h"

/* The Matter SDK's test commissioning data (CHIPDeviceConfig.h and the
 * spake2p tool's test vectors). */
#define TEST_PASSCODE 20202021u
#define TEST_DISCRIMINATOR 3840u
#define TEST_SALT "SPAKE2P Key Salt"
#define TEST_VERIFIER_B64 "uWFwqugDNGiEck/po7KHwwMwwqZgN10XuyBajPGuyzUEV/iree4lOrao5GuwnlQ65CJzbeUB49s31EH+NEkg0JVI5MGCQGMMT/SRPFNRODm3wH/MBiehuFc6FJ/NH6Rmzw=="

static void
test_verifier_known_answer (void)
{
  g_autoptr(GError) error = NULL;
  guint8 verifier[DS_SPAKE2P_VERIFIER_LEN];
  g_autofree char *b64 = NULL;

  g_assert_true (ds_spake2p_verifier (TEST_PASSCODE, (const guint8 *) TEST_SALT, strlen (TEST_SALT), 1000,
                                      verifier, &error));
  g_assert_no_error (error);
  b64 = g_base64_encode (verifier, sizeof verifier);
  g_assert_cmpstr (b64, ==, TEST_VERIFIER_B64);
}

static void
test_qr_known_answer (void)
{
  g_autoptr(GError) error = NULL;
  DsSetupPayload p = {
    .vid = 0xFFF1, .pid = 0x8001, .flow = DS_FLOW_STANDARD,
    .discovery = DS_DISCOVERY_ON_NETWORK, .discriminator = TEST_DISCRIMINATOR, .passcode = TEST_PASSCODE,
  };
  g_autofree char *qr = ds_setup_payload_to_qr (&p, &error);
  DsSetupPayload back;

  g_assert_no_error (error);
  g_assert_cmpstr (qr, ==, "MT:-24J0AFN00KA0648G00");

  g_assert_true (ds_setup_payload_parse (qr, &back, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (back.version, ==, 0);
  g_assert_true (back.has_vid_pid);
  g_assert_cmpuint (back.vid, ==, 0xFFF1);
  g_assert_cmpuint (back.pid, ==, 0x8001);
  g_assert_cmpuint (back.flow, ==, DS_FLOW_STANDARD);
  g_assert_cmpuint (back.discovery, ==, DS_DISCOVERY_ON_NETWORK);
  g_assert_false (back.short_discriminator);
  g_assert_cmpuint (back.discriminator, ==, TEST_DISCRIMINATOR);
  g_assert_cmpuint (back.passcode, ==, TEST_PASSCODE);
  g_assert_cmpuint (back.tlv_len, ==, 0);
}

static void
test_manual_known_answer (void)
{
  g_autoptr(GError) error = NULL;
  DsSetupPayload p = { .discriminator = TEST_DISCRIMINATOR, .passcode = TEST_PASSCODE };
  g_autofree char *code = ds_setup_payload_to_manual (&p, &error);
  g_autofree char *formatted = NULL;
  DsSetupPayload back;

  g_assert_no_error (error);
  g_assert_cmpstr (code, ==, "34970112332");
  formatted = ds_manual_code_format (code);
  g_assert_cmpstr (formatted, ==, "3497-011-2332");

  /* With dashes, as printed on a label. */
  g_assert_true (ds_setup_payload_parse (formatted, &back, &error));
  g_assert_no_error (error);
  g_assert_true (back.short_discriminator);
  g_assert_cmpuint (back.discriminator, ==, TEST_DISCRIMINATOR >> 8);
  g_assert_cmpuint (back.passcode, ==, TEST_PASSCODE);
  g_assert_false (back.has_vid_pid);
}

static void
test_manual_long_form (void)
{
  g_autoptr(GError) error = NULL;
  DsSetupPayload p = {
    .vid = 0xFFF1, .pid = 0x8001, .flow = DS_FLOW_CUSTOM,
    .discriminator = TEST_DISCRIMINATOR, .passcode = TEST_PASSCODE,
  };
  g_autofree char *code = ds_setup_payload_to_manual (&p, &error);
  DsSetupPayload back;

  g_assert_no_error (error);
  g_assert_cmpuint (strlen (code), ==, 21);
  /* Chunk 1 has the VID/PID bit (4) and the short discriminator's upper
   * bits (3); then 49701 1233 as in the short form; then 65521 32769. */
  g_assert_true (g_str_has_prefix (code, "7497011233" "65521" "32769"));
  g_assert_true (ds_setup_payload_parse (code, &back, &error));
  g_assert_no_error (error);
  g_assert_true (back.has_vid_pid);
  g_assert_cmpuint (back.vid, ==, 0xFFF1);
  g_assert_cmpuint (back.pid, ==, 0x8001);
  g_assert_cmpuint (back.passcode, ==, TEST_PASSCODE);
  g_assert_cmpuint (back.discriminator, ==, 15);
}

static void
test_verhoeff (void)
{
  /* The textbook example: 236 has check digit 3. */
  g_assert_cmpint (ds_verhoeff_check_digit ("236"), ==, '3');
  g_assert_cmpint (ds_verhoeff_check_digit ("3497011233"), ==, '2');
}

static void
test_parse_rejects (void)
{
  const char *bad[] = {
    "34970112333",               /* wrong check digit */
    "3497011233",                /* 10 digits */
    "84970112332",               /* first digit 8 */
    "MT:-24J0AFN00KA0648G0",     /* a chunk cut short */
    "MT:-24J0AFN00KA0648G0a",    /* lower case is not Base-38 */
    "MT:",                       /* nothing */
    "MT:0000000000000000000",    /* 11 zero bytes: passcode 0 */
    "MT:00000000000000000",      /* 10 bytes */
    "hello",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      DsSetupPayload p;

      g_test_message ("%s", bad[i]);
      g_assert_false (ds_setup_payload_parse (bad[i], &p, &error));
      g_assert_error (error, DS_ERROR, error->code);
      g_assert_true (error->code == DS_ERROR_INVALID_DATA || error->code == DS_ERROR_CONFIG);
    }
}

static void
test_passcode_rules (void)
{
  const guint32 forbidden[] = {
    0, 11111111, 22222222, 33333333, 44444444, 55555555, 66666666, 77777777,
    88888888, 99999999, 12345678, 87654321, 99999999, 100000000, G_MAXUINT32,
  };

  for (guint i = 0; i < G_N_ELEMENTS (forbidden); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (ds_passcode_check (forbidden[i], &error));
      g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
    }
  g_assert_true (ds_passcode_check (1, NULL));
  g_assert_true (ds_passcode_check (99999998, NULL));
  g_assert_true (ds_passcode_check (TEST_PASSCODE, NULL));
}

static void
test_ranges (void)
{
  g_autoptr(GError) error = NULL;
  guint8 salt[33] = { 0 };
  guint8 v[DS_SPAKE2P_VERIFIER_LEN];
  guint16 d;

  g_assert_false (ds_discriminator_check (4096, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_clear_error (&error);
  g_assert_true (ds_discriminator_check (4095, NULL));

  g_assert_false (ds_spake2p_verifier (TEST_PASSCODE, salt, 15, 1000, v, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_clear_error (&error);
  g_assert_false (ds_spake2p_verifier (TEST_PASSCODE, salt, 33, 1000, v, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_clear_error (&error);
  g_assert_false (ds_spake2p_verifier (TEST_PASSCODE, salt, 16, 999, v, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_clear_error (&error);
  g_assert_false (ds_spake2p_verifier (TEST_PASSCODE, salt, 16, 100001, v, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_clear_error (&error);
  g_assert_false (ds_spake2p_verifier (12345678, salt, 16, 1000, v, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_clear_error (&error);

  g_assert_false (ds_discriminator_random (10, 4096, &d, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_clear_error (&error);
  g_assert_false (ds_discriminator_random (20, 10, &d, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
}

static void
test_random_passcodes (void)
{
  /* 20000 draws: every one valid, and they spread over the whole range
   * (each tenth of it gets about 2000; a modulo or a narrow mask would
   * leave some tenths nearly empty). */
  guint buckets[10] = { 0 };
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);

  for (guint i = 0; i < 20000; i++)
    {
      g_autoptr(GError) error = NULL;
      guint32 p = 0;

      g_assert_true (ds_passcode_random (&p, &error));
      g_assert_no_error (error);
      g_assert_true (ds_passcode_check (p, NULL));
      buckets[(p - 1) / 10000000u]++;
      g_hash_table_add (seen, GUINT_TO_POINTER (p));
    }
  for (guint b = 0; b < 10; b++)
    {
      g_test_message ("tenth %u: %u", b, buckets[b]);
      g_assert_cmpuint (buckets[b], >, 1700);
      g_assert_cmpuint (buckets[b], <, 2300);
    }
  /* Birthday bound: about 2 repeats expected in 20000 of 10^8. */
  g_assert_cmpuint (g_hash_table_size (seen), >, 19980);
}

static void
test_random_discriminators (void)
{
  guint hits[4] = { 0 };

  for (guint i = 0; i < 4000; i++)
    {
      guint16 d = 0;

      g_assert_true (ds_discriminator_random (100, 103, &d, NULL));
      g_assert_cmpuint (d, >=, 100);
      g_assert_cmpuint (d, <=, 103);
      hits[d - 100]++;
    }
  for (guint k = 0; k < 4; k++)
    {
      g_assert_cmpuint (hits[k], >, 800);
      g_assert_cmpuint (hits[k], <, 1200);
    }
}

static void
test_make (void)
{
  g_autoptr(GError) error = NULL;
  DsOnboardingRequest req = { .discriminator_lo = 3000, .discriminator_hi = 3007 };
  DsOnboarding a, b;
  guint8 v[DS_SPAKE2P_VERIFIER_LEN];

  g_assert_true (ds_onboarding_make (&req, &a, &error));
  g_assert_no_error (error);
  g_assert_true (ds_onboarding_make (&req, &b, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (a.salt_len, ==, DS_SPAKE2P_DEFAULT_SALT_LEN);
  g_assert_cmpuint (a.iterations, ==, DS_SPAKE2P_DEFAULT_ITERATIONS);
  g_assert_cmpuint (a.discriminator, >=, 3000);
  g_assert_cmpuint (a.discriminator, <=, 3007);
  g_assert_true (memcmp (a.salt, b.salt, a.salt_len) != 0);
  g_assert_true (ds_spake2p_verifier (a.passcode, a.salt, a.salt_len, a.iterations, v, NULL));
  g_assert_cmpmem (v, sizeof v, a.verifier, sizeof a.verifier);
  ds_onboarding_clear (&a);
  g_assert_cmpuint (a.passcode, ==, 0);

  {
    DsOnboardingRequest fixed = {
      .passcode = TEST_PASSCODE, .has_discriminator = TRUE, .discriminator = TEST_DISCRIMINATOR,
      .salt = (const guint8 *) TEST_SALT, .salt_len = strlen (TEST_SALT), .iterations = 1000,
    };
    g_autofree char *b64 = NULL;

    g_assert_true (ds_onboarding_make (&fixed, &a, &error));
    g_assert_no_error (error);
    b64 = g_base64_encode (a.verifier, sizeof a.verifier);
    g_assert_cmpstr (b64, ==, TEST_VERIFIER_B64);
  }
  {
    DsOnboardingRequest bad = { .passcode = 87654321 };

    g_assert_false (ds_onboarding_make (&bad, &a, &error));
    g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
    g_clear_error (&error);
    bad = (DsOnboardingRequest) { .has_discriminator = TRUE, .discriminator = 4096 };
    g_assert_false (ds_onboarding_make (&bad, &a, &error));
    g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
    g_clear_error (&error);
    bad = (DsOnboardingRequest) { .iterations = 200000 };
    g_assert_false (ds_onboarding_make (&bad, &a, &error));
    g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
    g_clear_error (&error);
    bad = (DsOnboardingRequest) { .salt_len = 8 };
    g_assert_false (ds_onboarding_make (&bad, &a, &error));
    g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  }
}

static void
test_round_trip_random (void)
{
  /* Random payloads of every flow go to QR and manual codes and back. */
  for (guint i = 0; i < 500; i++)
    {
      g_autoptr(GError) error = NULL;
      DsSetupPayload p = { 0 }, back;
      g_autofree char *qr = NULL;
      g_autofree char *manual = NULL;
      guint16 d;

      g_assert_true (ds_passcode_random (&p.passcode, NULL));
      g_assert_true (ds_discriminator_random (0, 4095, &d, NULL));
      p.discriminator = d;
      p.vid = g_random_int_range (0, 0x10000);
      p.pid = g_random_int_range (0, 0x10000);
      p.flow = i % 3;
      p.discovery = g_random_int_range (0, 0x100);
      qr = ds_setup_payload_to_qr (&p, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (strlen (qr), ==, 22);
      g_assert_true (ds_setup_payload_parse (qr, &back, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (back.vid, ==, p.vid);
      g_assert_cmpuint (back.pid, ==, p.pid);
      g_assert_cmpuint (back.flow, ==, p.flow);
      g_assert_cmpuint (back.discovery, ==, p.discovery);
      g_assert_cmpuint (back.discriminator, ==, p.discriminator);
      g_assert_cmpuint (back.passcode, ==, p.passcode);

      manual = ds_setup_payload_to_manual (&p, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (strlen (manual), ==, p.flow == DS_FLOW_CUSTOM ? 21 : 11);
      g_assert_true (ds_setup_payload_parse (manual, &back, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (back.discriminator, ==, p.discriminator >> 8);
      g_assert_cmpuint (back.passcode, ==, p.passcode);
      if (p.flow == DS_FLOW_CUSTOM)
        {
          g_assert_cmpuint (back.vid, ==, p.vid);
          g_assert_cmpuint (back.pid, ==, p.pid);
        }
    }
}

static void
test_serial_format (void)
{
  g_autoptr(GDateTime) when = g_date_time_new_utc (2026, 12, 2, 15, 40, 0);
  g_autoptr(GError) error = NULL;
  g_autofree char *a = ds_serial_format ("DS-{yyyy}{mm}{dd}-{seq:06}", 42, when, &error);
  g_autofree char *b = NULL;
  g_autofree char *c = NULL;
  g_autofree char *d = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (a, ==, "DS-20261202-000042");
  b = ds_serial_format ("{{{yy}}}-{seq}-{seq:03}", 12345, when, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (b, ==, "{26}-12345-12345");

  c = ds_serial_format ("{week}", 1, when, &error);
  g_assert_null (c);
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_clear_error (&error);
  d = ds_serial_format ("ABCDEFGHIJKLMNOPQRSTUVWXYZ-{seq:08}", 1, when, &error);
  g_assert_null (d);
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_clear_error (&error);
  g_assert_null (ds_serial_format ("DS-{seq", 1, when, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/onboarding/verifier/known-answer", test_verifier_known_answer);
  g_test_add_func ("/onboarding/qr/known-answer", test_qr_known_answer);
  g_test_add_func ("/onboarding/manual/known-answer", test_manual_known_answer);
  g_test_add_func ("/onboarding/manual/long-form", test_manual_long_form);
  g_test_add_func ("/onboarding/manual/verhoeff", test_verhoeff);
  g_test_add_func ("/onboarding/parse/rejects", test_parse_rejects);
  g_test_add_func ("/onboarding/passcode/rules", test_passcode_rules);
  g_test_add_func ("/onboarding/ranges", test_ranges);
  g_test_add_func ("/onboarding/passcode/random", test_random_passcodes);
  g_test_add_func ("/onboarding/discriminator/random", test_random_discriminators);
  g_test_add_func ("/onboarding/make", test_make);
  g_test_add_func ("/onboarding/round-trip", test_round_trip_random);
  g_test_add_func ("/onboarding/serial", test_serial_format);
  return g_test_run ();
}
