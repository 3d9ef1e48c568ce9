/* A test helper for the matter.js peer test: asks the board on a port for
 * its attestation (ATTESTATION with the nonce and challenge given on the
 * command line) and reads its DAC and PAI, then prints it all as one JSON
 * object of hex strings.  It checks nothing: the peer does the commissioner's
 * check itself.
 *
 *   ds-attestation-dump PORT NONCE-HEX CHALLENGE-HEX */
#include "config.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "ds-attestation.h"
#include "ds-device.h"
#include "ds-pty-transport.h"
#include "ds-util.h"

static guint8 *
hex_decode (const char *hex,
            gsize       expected)
{
  g_autofree guint8 *out = g_malloc0 (expected);

  if (strlen (hex) != expected * 2)
    return NULL;
  for (gsize i = 0; i < expected; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);

      if (hi < 0 || lo < 0)
        return NULL;
      out[i] = (guint8) (hi << 4 | lo);
    }
  return g_steal_pointer (&out);
}

static void
add_hex (JsonBuilder *b,
         const char  *name,
         GBytes      *bytes)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  g_autofree char *hex = ds_hex_encode (data, len);

  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, hex);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsTransport) transport = NULL;
  g_autoptr(DsDevice) device = NULL;
  g_autofree guint8 *nonce = NULL;
  g_autofree guint8 *challenge = NULL;
  g_autoptr(GBytes) elements = NULL;
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(GBytes) dac = NULL;
  g_autoptr(GBytes) pai = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *out = NULL;

  if (argc != 4 ||
      (nonce = hex_decode (argv[2], DS_ATTESTATION_NONCE_LEN)) == NULL ||
      (challenge = hex_decode (argv[3], DS_ATTESTATION_CHALLENGE_LEN)) == NULL)
    {
      g_printerr ("usage: %s PORT NONCE-HEX(32 bytes) CHALLENGE-HEX(16 bytes)\n", argv[0]);
      return 2;
    }
  transport = DS_TRANSPORT (ds_pty_transport_new (argv[1]));
  if (!ds_transport_open (transport, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  device = ds_device_new (transport);
  if (!ds_device_attestation (device, nonce, DS_ATTESTATION_NONCE_LEN, challenge, DS_ATTESTATION_CHALLENGE_LEN,
                              &elements, &signature, NULL, &error) ||
      (raw = ds_attestation_signature_to_raw (signature, &error)) == NULL ||
      (dac = ds_device_read (device, DS_OBJECT_DAC, NULL, &error)) == NULL ||
      (pai = ds_device_read (device, DS_OBJECT_PAI, NULL, &error)) == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  json_builder_begin_object (b);
  add_hex (b, "elements", elements);
  /* As Matter's AttestationResponse carries it: raw r || s. */
  add_hex (b, "signature", raw);
  add_hex (b, "dac", dac);
  add_hex (b, "pai", pai);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  out = json_generator_to_data (gen, NULL);
  printf ("%s\n", out);
  return 0;
}
