/* What the board details show about a board's certificate chain: the
 * fields of each certificate and the validator's verdict.  GTK-free; the
 * loading is meant for a worker thread. */
#pragma once

#include <glib.h>

#include "ds-job.h"

G_BEGIN_DECLS

typedef struct {
  char *role;          /* "DAC", "PAI", "PAA" (not translated: Matter terms) */
  char *subject;
  char *issuer;
  char *vid;           /* four hex digits, or NULL */
  char *pid;
  char *serial;        /* upper-case hex */
  gint64 not_before;   /* unix seconds */
  gint64 not_after;
  char *fingerprint;   /* SHA-256 of the DER, lower-case hex */
} DsCertInfo;

typedef struct {
  GPtrArray *certs;    /* DsCertInfo: DAC, PAI, then PAA when known */
  gboolean   valid;
  char      *verdict;  /* why the chain is (not) valid, for people */
  gboolean   test;     /* a test vendor ID: not for production */
} DsChainInfo;

void         ds_cert_info_free   (DsCertInfo  *info);
void         ds_chain_info_free  (DsChainInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsCertInfo, ds_cert_info_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsChainInfo, ds_chain_info_free)

/* Reads the DAC and PAI files (PEM or DER), checks them with the Matter
 * gate as the job that got them did (@options: its trust store, product, CD
 * and mode), and describes them and the PAA they chain to.  Fails only when
 * the DAC or PAI cannot be read.  Blocking: call it from a worker thread. */
DsChainInfo *ds_chain_info_load  (const char         *dac_path,
                                  const char         *pai_path,
                                  const DsJobOptions *options,
                                  GError            **error);

G_END_DECLS
