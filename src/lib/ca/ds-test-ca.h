/* The built-in test CA: a test PAA and PAI for vendor 0xFFF1, made on first
 * use in a PKI directory, that issue DACs in the Matter profile. */
#pragma once

#include "ds-ca.h"

G_BEGIN_DECLS

#define DS_TEST_CA_VID 0xFFF1

#define DS_TYPE_TEST_CA (ds_test_ca_get_type ())
G_DECLARE_FINAL_TYPE (DsTestCa, ds_test_ca, DS, TEST_CA, GObject)

/* Loads the PAA/PAI from @pki_dir, creating them (keys mode 0600, directory
 * 0700) when the directory holds none.  Files: paa.pem, paa-key.pem,
 * pai.pem, pai-key.pem. */
DsTestCa   *ds_test_ca_new          (const char *pki_dir,
                                     GError    **error);
const char *ds_test_ca_get_pki_dir  (DsTestCa   *self);
const char *ds_test_ca_get_paa_path (DsTestCa   *self);
const char *ds_test_ca_get_pai_path (DsTestCa   *self);
/* issued.log: "TIME SERIAL BOARD-UID FINGERPRINT", one line per DAC. */
const char *ds_test_ca_get_log_path (DsTestCa   *self);
guint16     ds_test_ca_get_vid      (DsTestCa   *self);

G_END_DECLS
