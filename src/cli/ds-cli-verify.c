/* dac-station-cli verify --dac FILE --pai FILE (--paa FILE | --trust-store PATH)
 *   [--cd FILE] [--product VID:PID] [--production] [--json]
 * Exit 0: valid; 1: rules violated (all listed); 2: unreadable input. */
#include "config.h"

#include "ds-cli-verify.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "ds-cd.h"
#include "ds-cli-common.h"
#include "ds-crypto.h"
#include "ds-matter-validator.h"
#include "ds-trust-store.h"
#include "ds-util.h"

static GBytes *
read_file (const char *path,
           GError    **error)
{
  /* Certificates and CDs are a few KiB; a FIFO or /dev/zero is refused. */
  return ds_util_read_bytes (path, DS_UTIL_MAX_CERT_FILE, error);
}

/* Reads a Certification Declaration; NULL with a message when it cannot be
 * read or is not a CD at all (not DER, not CMS, a payload that does not
 * decode): an unusable input, not a broken rule. */
static GBytes *
read_cd (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = read_file (path, &error);
  g_autoptr(DsVerdict) verdict = NULL;
  g_autoptr(DsCd) cd = NULL;

  if (bytes == NULL)
    {
      g_printerr (_("Cannot read the Certification Declaration: %s\n"), error->message);
      return NULL;
    }
  verdict = ds_verdict_new ();
  cd = ds_cd_parse (bytes, NULL, verdict);
  if (cd == NULL)
    {
      const DsViolation *v = verdict->violations->len > 0 ? verdict->violations->pdata[0] : NULL;

      g_printerr (_("Cannot use the Certification Declaration %s: %s\n"), path,
                  v != NULL ? v->message : _("it does not decode"));
      return NULL;
    }
  return g_steal_pointer (&bytes);
}

/* Reads a certificate file; NULL with a message when it is not one. */
static GBytes *
read_cert (const char *path,
           const char *what)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = read_file (path, &error);
  g_autoptr(X509) cert = NULL;

  if (bytes != NULL)
    cert = ds_cert_parse (bytes, &error);
  if (cert == NULL)
    {
      g_printerr (_("Cannot read the %s from %s: %s\n"), what, path, error->message);
      return NULL;
    }
  return g_steal_pointer (&bytes);
}

static gboolean
parse_product (const char *text,
               guint16    *vid,
               guint16    *pid)
{
  g_auto(GStrv) parts = g_strsplit (text, ":", 2);

  return g_strv_length (parts) == 2 && parse_hex16 (parts[0], vid) && parse_hex16 (parts[1], pid);
}

static void
print_ids (JsonBuilder       *b,
           const char        *name,
           const DsMatterIds *ids)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  if (ids->has_vid)
    json_add_int (b, "vid", ids->vid);
  if (ids->has_pid)
    json_add_int (b, "pid", ids->pid);
  json_builder_end_object (b);
}

static void
print_verdict (const DsVerdict *verdict)
{
  if (opt_json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "valid");
      json_builder_add_boolean_value (b, ds_verdict_is_valid (verdict));
      json_builder_set_member_name (b, "test_material");
      json_builder_add_boolean_value (b, verdict->test_material);
      print_ids (b, "dac", &verdict->dac_ids);
      print_ids (b, "pai", &verdict->pai_ids);
      if (verdict->paa_found)
        json_add_string (b, "paa", verdict->paa_subject);
      json_builder_set_member_name (b, "violations");
      json_builder_begin_array (b);
      for (guint i = 0; i < verdict->violations->len; i++)
        {
          DsViolation *v = verdict->violations->pdata[i];

          json_builder_begin_object (b);
          json_add_string (b, "rule", v->rule);
          json_add_string (b, "message", v->message);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "notes");
      json_builder_begin_array (b);
      for (guint i = 0; i < verdict->notes->len; i++)
        json_builder_add_string_value (b, verdict->notes->pdata[i]);
      json_builder_end_array (b);
      json_builder_end_object (b);
      print_json (b);
      return;
    }

  if (verdict->test_material)
    {
      g_printerr (_("TEST MATERIAL: this chain is not valid for production devices.\n"));
      for (guint i = 0; i < verdict->notes->len; i++)
        g_printerr ("  %s\n", (const char *) verdict->notes->pdata[i]);
    }
  if (ds_verdict_is_valid (verdict))
    {
      g_print (_("VALID: the DAC chains to %s and meets every Matter rule\n"), verdict->paa_subject);
      return;
    }
  g_print (g_dngettext (GETTEXT_PACKAGE, "INVALID: %u rule violated\n", "INVALID: %u rules violated\n",
                        verdict->violations->len),
           verdict->violations->len);
  for (guint i = 0; i < verdict->violations->len; i++)
    {
      DsViolation *v = verdict->violations->pdata[i];
      g_print ("  %-32s %s\n", v->rule, v->message);
    }
}

int
ds_cli_verify (int    argc,
               char **argv)
{
  g_autofree char *dac_path = NULL, *pai_path = NULL, *paa_path = NULL;
  g_autofree char *store_path = NULL, *cd_path = NULL, *product = NULL;
  g_auto(GStrv) cd_signer_paths = NULL;
  gboolean production = FALSE;
  GOptionEntry entries[] = {
    { "dac", 0, 0, G_OPTION_ARG_FILENAME, &dac_path, N_("The DAC (PEM or DER)"), N_("FILE") },
    { "pai", 0, 0, G_OPTION_ARG_FILENAME, &pai_path, N_("The PAI that issued it (PEM or DER)"), N_("FILE") },
    { "paa", 0, 0, G_OPTION_ARG_FILENAME, &paa_path, N_("Trust this one PAA"), N_("FILE") },
    { "trust-store", 0, 0, G_OPTION_ARG_FILENAME, &store_path, N_("Trust the PAAs of this directory or PEM bundle"), N_("PATH") },
    { "cd", 0, 0, G_OPTION_ARG_FILENAME, &cd_path, N_("The product's Certification Declaration (DER)"), N_("FILE") },
    { "cd-signer", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &cd_signer_paths, N_("A CD-signing certificate to accept besides the Matter test key (repeatable)"), N_("FILE") },
    { "product", 0, 0, G_OPTION_ARG_STRING, &product, N_("The product being built, in hex (default: the DAC's own)"), N_("VID:PID") },
    { "production", 0, 0, G_OPTION_ARG_NONE, &production, N_("Refuse test vendor IDs, test PAAs and the test CD key"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(DsTrustStore) store = ds_trust_store_new ();
  g_autoptr(GPtrArray) cd_signers = g_ptr_array_new_with_free_func ((GDestroyNotify) X509_free);
  g_autoptr(GBytes) dac = NULL, pai = NULL, cd = NULL;
  g_autoptr(DsVerdict) verdict = NULL;
  DsVerifyRequest request = { 0 };

  g_option_context_set_summary (context, _("Checks a DAC and its PAI against every Matter attestation rule.\n"
                                           "Exit status: 0 valid, 1 rules violated, 2 unreadable input."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, common_entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (dac_path == NULL || pai_path == NULL)
    return usage_error (context, _("--dac and --pai are required"));
  if ((paa_path == NULL) == (store_path == NULL))
    return usage_error (context, _("Give either --paa or --trust-store"));
  if (product != NULL && !parse_product (product, &request.product_vid, &request.product_pid))
    return usage_error (context, _("--product takes VID:PID in hex, for example FFF1:8000"));

  dac = read_cert (dac_path, _("DAC"));
  pai = read_cert (pai_path, _("PAI"));
  if (dac == NULL || pai == NULL)
    return EXIT_USAGE;
  if (!ds_trust_store_add_path (store, paa_path != NULL ? paa_path : store_path, &error))
    {
      g_printerr (_("Cannot load the trust store: %s\n"), error->message);
      return EXIT_USAGE;
    }
  if (cd_path != NULL && (cd = read_cd (cd_path)) == NULL)
    return EXIT_USAGE;
  for (guint i = 0; cd_signer_paths != NULL && cd_signer_paths[i] != NULL; i++)
    {
      g_autoptr(GBytes) bytes = read_cert (cd_signer_paths[i], _("CD-signing certificate"));
      X509 *cert;

      if (bytes == NULL || (cert = ds_cert_parse (bytes, &error)) == NULL)
        return EXIT_USAGE;
      g_ptr_array_add (cd_signers, cert);
    }

  request.dac = dac;
  request.pai = pai;
  request.cd = cd;
  request.trust_store = store;
  request.cd_signers = cd_signers;
  request.has_product = product != NULL;
  request.production = production;
  verdict = ds_matter_verify (&request);
  print_verdict (verdict);
  return ds_verdict_is_valid (verdict) ? EXIT_OK : EXIT_FAILED;
}

/* ---- the gate's options for provision and demo --------------------------- */

static char *gate_trust_store = NULL;
static char *gate_cd = NULL;
static char **gate_cd_signers = NULL;
static gboolean gate_production = FALSE;

GOptionEntry ds_cli_gate_entries[] = {
  { "trust-store", 0, 0, G_OPTION_ARG_FILENAME, &gate_trust_store, N_("PAAs a DAC may chain to: a directory or PEM bundle (default: the CA's own PAA)"), N_("PATH") },
  { "cd", 0, 0, G_OPTION_ARG_FILENAME, &gate_cd, N_("The product's Certification Declaration, checked and installed with every DAC (default with the test CA: a test CD signed with the Matter test key; “none”: no CD)"), N_("FILE") },
  { "cd-signer", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &gate_cd_signers, N_("A CD-signing certificate to accept besides the Matter test key (repeatable)"), N_("FILE") },
  { "production", 0, 0, G_OPTION_ARG_NONE, &gate_production, N_("Production mode: refuse test CAs, test vendor IDs, test PAAs and the test CD key"), NULL },
  { NULL }
};

void
ds_cli_gate_apply (DsProfile *profile)
{
  /* --production can make a profile stricter, never looser. */
  profile->production = profile->production || gate_production;
  if (gate_trust_store != NULL)
    {
      g_free (profile->trust_store);
      profile->trust_store = g_canonicalize_filename (gate_trust_store, NULL);
    }
  if (gate_cd != NULL)
    {
      g_free (profile->cd);
      profile->cd = g_str_equal (gate_cd, DS_PROFILE_CD_NONE) ? g_strdup (DS_PROFILE_CD_NONE)
                                                              : g_canonicalize_filename (gate_cd, NULL);
    }
  if (gate_cd_signers != NULL && gate_cd_signers[0] != NULL)
    {
      g_strfreev (profile->cd_signers);
      profile->cd_signers = g_strdupv (gate_cd_signers);
    }
}
