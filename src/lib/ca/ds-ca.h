/* A certificate authority that turns a board's CSR into a DAC and its PAI. */
#pragma once

#include <gio/gio.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

/* What the station asks a CA to certify. */
typedef struct {
  GBytes     *csr_der;    /* the board's PKCS#10, already checked */
  const char *board_uid;  /* 24 hex digits */
  guint16     vid;
  guint16     pid;
  /* The request as the station parsed and checked it (proof of possession,
   * P-256, subject), or NULL.  A CA in the station's own process may use it
   * rather than parse and check csr_der a second time; a CA across a
   * network never sees it and checks the bytes it gets. */
  X509_REQ   *csr;
} DsIssueRequest;

/* What a CA hands back.  paa_der may be NULL when the CA does not know it. */
typedef struct {
  GBytes *dac_der;
  GBytes *pai_der;
  GBytes *paa_der;
} DsIssued;

void ds_issued_free (DsIssued *issued);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsIssued, ds_issued_free)

#define DS_TYPE_CA (ds_ca_get_type ())
G_DECLARE_INTERFACE (DsCa, ds_ca, DS, CA, GObject)

struct _DsCaInterface
{
  GTypeInterface parent_iface;

  const char *(*get_name) (DsCa *self);
  /* Blocking and thread-safe: the station calls it from job threads. */
  DsIssued   *(*issue)    (DsCa                 *self,
                           const DsIssueRequest *request,
                           GCancellable         *cancellable,
                           GError              **error);
  /* The PAA that anchors what this CA issues, DER; NULL when unknown. */
  GBytes     *(*dup_paa)  (DsCa *self);
  /* TRUE when what the CA issues is test material. */
  gboolean    (*is_test)  (DsCa *self);
};

const char *ds_ca_get_name (DsCa                 *self);
DsIssued   *ds_ca_issue    (DsCa                 *self,
                            const DsIssueRequest *request,
                            GCancellable         *cancellable,
                            GError              **error);
GBytes     *ds_ca_dup_paa  (DsCa                 *self);
gboolean    ds_ca_is_test  (DsCa                 *self);

G_END_DECLS
