/* The commissioner's attestation check as the attest step applies it. */
#include "config.h"
#include "ds-attestation-check.h"
#include <glib/gi18n-lib.h>

#include "ds-attestation.h"
#include "ds-error.h"
#include "ds-verdict.h"

gboolean
ds_attestation_check_response (const DsVerifyRequest *gate,
                               GBytes                *elements,
                               GBytes                *signature,
                               const guint8          *nonce,
                               const guint8          *challenge,
                               GError               **error)
{
  g_auto(DsAttestationElements) parsed = { 0 };
  g_autoptr(GError) local_error = NULL;
  g_autoptr(DsVerdict) verdict = NULL;
  DsVerifyRequest request;
  DsViolation *first;

  g_return_val_if_fail (gate != NULL && gate->cd != NULL && gate->dac != NULL, FALSE);

  if (!ds_attestation_verify (elements, signature, nonce, challenge, gate->dac, gate->cd, &parsed, &local_error))
    {
      /* TRANSLATORS: %s says what is wrong with the board's attestation
       * response (its signature, nonce or Certification Declaration). */
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                   _("The board's attestation fails the commissioner's check: %s"), local_error->message);
      return FALSE;
    }

  /* The CD as the board presents it to a commissioner, checked with the
   * DAC and PAI the way the gate checks the configured one. */
  request = *gate;
  request.cd = parsed.cd;
  request.expected_key = NULL;
  verdict = ds_matter_verify (&request);
  if (ds_verdict_is_valid (verdict))
    return TRUE;
  first = verdict->violations->pdata[0];
  /* TRANSLATORS: a Matter rule's identifier, then what is wrong. */
  g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
               _("The board's attestation fails the commissioner's check (%s): %s"), first->rule, first->message);
  return FALSE;
}
