/* What the benchmarks share. */
#pragma once

#include <glib.h>
#include <openssl/evp.h>

G_BEGIN_DECLS

/* A board's CSR as the provisioning firmware makes it: DER PKCS#10 for
 * @key, subject CN @common_name, Matter VID FFF1 and PID 8000. */
GBytes *bench_make_csr (EVP_PKEY   *key,
                        const char *common_name);

G_END_DECLS
