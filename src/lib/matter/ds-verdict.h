/* A verdict: what a check of attestation material found.  Each violation
 * names a stable rule identifier (docs/validator.md) and says in a
 * translated sentence what is wrong; notes say what is worth saying even
 * when nothing is (test material).
 *
 * The Certification Declaration decoder, the per-certificate format rules
 * and the whole Matter validator add to one verdict, so it sits below all
 * of them and knows none of them. */
#pragma once

#include <glib.h>

#include "ds-crypto.h"

G_BEGIN_DECLS

typedef struct {
  char *rule;      /* stable identifier: "dac.key-usage.cert-sign" */
  char *message;   /* a sentence for an operator, translated */
} DsViolation;

typedef struct _DsVerdict DsVerdict;

struct _DsVerdict {
  GPtrArray  *violations;     /* DsViolation*, in the order found */
  GPtrArray  *notes;          /* char*: what is worth saying, e.g. test material */
  gboolean    test_material;  /* test VID, test PAA or test CD key involved */
  DsMatterIds dac_ids;
  DsMatterIds pai_ids;
  DsMatterIds paa_ids;
  gboolean    paa_found;
  char       *paa_subject;
};

DsVerdict  *ds_verdict_new             (void);
void        ds_verdict_free            (DsVerdict       *verdict);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsVerdict, ds_verdict_free)
gboolean    ds_verdict_is_valid        (const DsVerdict *verdict);
gboolean    ds_verdict_has_rule        (const DsVerdict *verdict,
                                        const char      *rule);
/* TRUE when some violation's rule starts with @prefix. */
gboolean    ds_verdict_has_rule_prefix (const DsVerdict *verdict,
                                        const char      *prefix);
/* Adds a violation; @message is a printf format.  A rule already in the
 * verdict is not added twice. */
void        ds_verdict_add             (DsVerdict       *verdict,
                                        const char      *rule,
                                        const char      *message,
                                        ...) G_GNUC_PRINTF (3, 4);
/* "rule: message" lines joined by @separator. */
char       *ds_verdict_to_string       (const DsVerdict *verdict,
                                        const char      *separator);

G_END_DECLS
