/* The commissioner's check of an attestation response (Matter core
 * 6.2.3.1) in full: ds_attestation_verify() and the Matter gate on the CD
 * the board presents. */
#pragma once

#include <glib.h>

#include "ds-matter-validator.h"

G_BEGIN_DECLS

/* Checks the answer a board gave to ATTESTATION with @nonce (32 bytes) and
 * @challenge (16 bytes) against @gate, the request the gate checks the
 * board's DAC with (@gate->cd: the CD the station installed, not NULL):
 * the elements carry @nonce and exactly @gate->cd; the signature over
 * elements || challenge verifies with the public key of @gate->dac (DER);
 * and the CD taken from the elements passes every rule of the gate
 * together with the DAC and PAI (the CD's signature by a trusted CD
 * signer, VID/PID across DAC, PAI and CD with dac_origin,
 * authorized_paa_list, the chain to a trusted PAA).  DS_ERROR_REJECTED
 * with the cause. */
gboolean ds_attestation_check_response (const DsVerifyRequest *gate,
                                        GBytes                *elements,
                                        GBytes                *signature,
                                        const guint8          *nonce,
                                        const guint8          *challenge,
                                        GError               **error);

G_END_DECLS
