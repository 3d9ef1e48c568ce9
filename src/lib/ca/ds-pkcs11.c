/* PKCS#11 client keys through OpenSSL's pkcs11 engine. */
#include "config.h"

/* Engines are deprecated in OpenSSL 3, but libcurl 7.88 (Debian 12) reaches
 * a key in a token only through one (CURLOPT_SSLENGINE); there is no
 * provider path in it yet.  This file is the only one that touches them. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "ds-pkcs11.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ds-error.h"
#include "ds-util.h"

gboolean
ds_pkcs11_is_uri (const char *key)
{
  return key != NULL && g_ascii_strncasecmp (key, "pkcs11:", 7) == 0;
}

/* TRUE for an attribute name, percent-encoded or not, that carries a PIN. */
static gboolean
is_pin_attribute (const char *name,
                  gsize       len)
{
  g_autofree char *raw = g_strndup (name, len);
  g_autofree char *decoded = g_uri_unescape_string (raw, NULL);
  const char *n = decoded != NULL ? decoded : raw;

  return g_ascii_strcasecmp (n, "pin-value") == 0;
}

char *
ds_pkcs11_display_uri (const char *uri)
{
  GString *s;
  const char *p;

  if (uri == NULL)
    return NULL;
  if (!ds_pkcs11_is_uri (uri))
    return g_strdup (uri);
  /* Attributes are separated by ';' in the path and '&' in the query. */
  s = g_string_new_len (uri, 7);
  p = uri + 7;
  while (*p != '\0')
    {
      gsize len = strcspn (p, ";?&");
      gsize name_len = strcspn (p, "=;?&");

      if (name_len < len && is_pin_attribute (p, name_len))
        {
          g_string_append_len (s, p, name_len + 1);
          g_string_append (s, "***");
        }
      else
        g_string_append_len (s, p, len);
      p += len;
      if (*p != '\0')
        g_string_append_c (s, *p++);
    }
  return g_string_free (s, FALSE);
}

/* One "name=value" attribute of the URI; percent-encoding is left to the
 * engine, only the names matter here. */
static gboolean
check_attribute (const char *uri,
                 const char *attr,
                 gboolean    in_query,
                 GError    **error)
{
  g_autofree char *name = g_strndup (attr, strcspn (attr, "="));
  const char *value = strchr (attr, '=');
  g_autofree char *shown = ds_pkcs11_display_uri (uri);

  if (*attr == '\0')
    return TRUE;
  if (is_pin_attribute (name, strlen (name)) || g_ascii_strcasecmp (name, "pin-source") == 0)
    {
      /* Not the URI itself in the message: it holds the PIN. */
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("The PKCS#11 key URI carries the token PIN (%s); take it out and give the PIN with --client-key-pin-file or DS_PKCS11_PIN"),
                   name);
      return FALSE;
    }
  if (value == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("The PKCS#11 key URI %s is not RFC 7512: “%s” has no value"), shown, name);
      return FALSE;
    }
  if (!in_query && g_ascii_strcasecmp (name, "type") == 0 && g_ascii_strcasecmp (value + 1, "private") != 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("The PKCS#11 key URI %s names a “%s” object; the client key is type=private"),
                   shown, value + 1);
      return FALSE;
    }
  return TRUE;
}

gboolean
ds_pkcs11_check_uri (const char *uri,
                     GError    **error)
{
  const char *rest;
  const char *query;
  g_autofree char *path = NULL;
  g_auto(GStrv) attrs = NULL;
  g_auto(GStrv) qattrs = NULL;
  g_autofree char *shown = NULL;

  if (!ds_pkcs11_is_uri (uri))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("“%s” is not a PKCS#11 URI (pkcs11:...)"), uri);
      return FALSE;
    }
  rest = uri + 7;
  query = strchr (rest, '?');
  path = query != NULL ? g_strndup (rest, query - rest) : g_strdup (rest);
  attrs = g_strsplit (path, ";", -1);
  if (query != NULL)
    qattrs = g_strsplit (query + 1, "&", -1);
  /* Whatever else is wrong, a PIN in the URI is reported first and the URI
   * is never repeated. */
  for (guint i = 0; attrs[i] != NULL; i++)
    if ((g_ascii_strncasecmp (attrs[i], "pin", 3) == 0 || strchr (attrs[i], '%') != NULL) &&
        !check_attribute (uri, attrs[i], FALSE, error))
      return FALSE;
  for (guint i = 0; qattrs != NULL && qattrs[i] != NULL; i++)
    if ((g_ascii_strncasecmp (qattrs[i], "pin", 3) == 0 || strchr (qattrs[i], '%') != NULL) &&
        !check_attribute (uri, qattrs[i], TRUE, error))
      return FALSE;
  if (*path == '\0')
    {
      shown = ds_pkcs11_display_uri (uri);
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("The PKCS#11 key URI %s names no object; say which, e.g. pkcs11:token=station;object=tls;type=private"),
                   shown);
      return FALSE;
    }
  for (guint i = 0; attrs[i] != NULL; i++)
    if (!check_attribute (uri, attrs[i], FALSE, error))
      return FALSE;
  for (guint i = 0; qattrs != NULL && qattrs[i] != NULL; i++)
    if (!check_attribute (uri, qattrs[i], TRUE, error))
      return FALSE;
  return TRUE;
}

G_LOCK_DEFINE_STATIC (engine);
/* Held for the life of the process: a structural reference keeps the
 * engine (and its MODULE_PATH) in OpenSSL's list, a functional one keeps
 * the module loaded between libcurl's handles. */
static ENGINE *engine;
static char *engine_module;

gboolean
ds_pkcs11_engine_prepare (const char *module,
                          GError    **error)
{
  gboolean ok = TRUE;

  G_LOCK (engine);
  if (engine == NULL)
    {
      ENGINE *e = ENGINE_by_id (DS_PKCS11_ENGINE);

      if (e == NULL)
        {
          ERR_clear_error ();
          g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                       _("OpenSSL has no “%s” engine, which a client key in a PKCS#11 token needs; install the package %s"),
                       DS_PKCS11_ENGINE, DS_PKCS11_ENGINE_PACKAGE);
          ok = FALSE;
        }
      else if (module != NULL && !ENGINE_ctrl_cmd_string (e, "MODULE_PATH", module, 0))
        {
          ERR_clear_error ();
          ENGINE_free (e);
          g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                       _("The %s engine does not take the PKCS#11 module %s"), DS_PKCS11_ENGINE, module);
          ok = FALSE;
        }
      else if (!ENGINE_init (e))
        {
          ERR_clear_error ();
          ENGINE_free (e);
          g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                       _("The OpenSSL engine “%s” does not start; check the package %s"),
                       DS_PKCS11_ENGINE, DS_PKCS11_ENGINE_PACKAGE);
          ok = FALSE;
        }
      else
        {
          /* Only the key the station names goes to the token.  libcurl's
           * global init (OPENSSL_init_crypto with the built-in engines, on
           * every call) makes each engine in OpenSSL's list the default for
           * all it implements; this one would then take every EC operation
           * of the process, key generation and CSR checks included, and
           * fail them.  It opts out, and stops being a default if it was. */
          ENGINE_set_flags (e, ENGINE_get_flags (e) | ENGINE_FLAGS_NO_REGISTER_ALL);
          ENGINE_unregister_EC (e);
          ENGINE_unregister_RSA (e);
          ENGINE_unregister_pkey_meths (e);
          engine = e;
          engine_module = g_strdup (module);
          g_debug ("PKCS#11 engine loaded, module %s", module != NULL ? module : "(p11-kit proxy)");
        }
    }
  else if (g_strcmp0 (module, engine_module) != 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("The PKCS#11 engine already uses the module %s; one station process uses one module"),
                   engine_module != NULL ? engine_module : _("(the default)"));
      ok = FALSE;
    }
  G_UNLOCK (engine);
  return ok;
}

char *
ds_pkcs11_read_pin_file (const char *path,
                         GError    **error)
{
  return ds_util_read_secret_file (path, error);
}

void
ds_pkcs11_secret_free (char *secret)
{
  if (secret != NULL)
    {
      explicit_bzero (secret, strlen (secret));
      g_free (secret);
    }
}

char *
ds_pkcs11_take_engine_error (void)
{
  g_autoptr(GString) s = g_string_new (NULL);
  unsigned long e;

  /* The oldest first: libp11's own reason comes before the engine's
   * "cannot load key" summary. */
  while ((e = ERR_get_error ()) != 0)
    {
      const char *reason = ERR_reason_error_string (e);

      if (reason == NULL || strstr (s->str, reason) != NULL)
        continue;
      if (s->len > 0)
        g_string_append (s, "; ");
      g_string_append (s, reason);
    }
  return s->len > 0 ? g_string_free (g_steal_pointer (&s), FALSE) : NULL;
}
