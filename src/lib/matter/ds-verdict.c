/* A verdict: the violations of stable-identifier rules that a check found,
 * and what is worth saying about the material checked. */
#include "config.h"

#include "ds-verdict.h"
static void
violation_free (DsViolation *v)
{
  g_free (v->rule);
  g_free (v->message);
  g_free (v);
}

DsVerdict *
ds_verdict_new (void)
{
  DsVerdict *verdict = g_new0 (DsVerdict, 1);

  verdict->violations = g_ptr_array_new_with_free_func ((GDestroyNotify) violation_free);
  verdict->notes = g_ptr_array_new_with_free_func (g_free);
  return verdict;
}

void
ds_verdict_free (DsVerdict *verdict)
{
  if (verdict == NULL)
    return;
  g_ptr_array_unref (verdict->violations);
  g_ptr_array_unref (verdict->notes);
  g_free (verdict->paa_subject);
  g_free (verdict);
}

gboolean
ds_verdict_is_valid (const DsVerdict *verdict)
{
  return verdict->violations->len == 0;
}

gboolean
ds_verdict_has_rule (const DsVerdict *verdict,
                     const char      *rule)
{
  for (guint i = 0; i < verdict->violations->len; i++)
    if (g_strcmp0 (((DsViolation *) verdict->violations->pdata[i])->rule, rule) == 0)
      return TRUE;
  return FALSE;
}

gboolean
ds_verdict_has_rule_prefix (const DsVerdict *verdict,
                 const char      *prefix)
{
  for (guint i = 0; i < verdict->violations->len; i++)
    if (g_str_has_prefix (((DsViolation *) verdict->violations->pdata[i])->rule, prefix))
      return TRUE;
  return FALSE;
}

void
ds_verdict_add (DsVerdict  *verdict,
                const char *rule,
                const char *message,
                ...)
{
  DsViolation *v;
  va_list args;

  if (ds_verdict_has_rule (verdict, rule))
    return;
  v = g_new0 (DsViolation, 1);
  v->rule = g_strdup (rule);
  va_start (args, message);
  v->message = g_strdup_vprintf (message, args);
  va_end (args);
  g_ptr_array_add (verdict->violations, v);
}

char *
ds_verdict_to_string (const DsVerdict *verdict,
                      const char      *separator)
{
  g_autoptr(GString) s = g_string_new (NULL);

  for (guint i = 0; i < verdict->violations->len; i++)
    {
      DsViolation *v = verdict->violations->pdata[i];

      if (i > 0)
        g_string_append (s, separator);
      g_string_append_printf (s, "%s: %s", v->rule, v->message);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}
