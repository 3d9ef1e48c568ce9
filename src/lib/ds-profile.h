/* A product profile: one key file per product holding everything that
 * defines a provisioning run (product, CA, gate, firmware, store, run
 * limits, onboarding, factory data, labels).  Both front ends load one and hand it to DsStationSetup. */
#pragma once

#include <glib-object.h>

#include "ds-ca-config.h"
#include "ds-onboarding-config.h"

G_BEGIN_DECLS

/* [gate] cd (and --cd) takes this word for "install no CD": boards then
 * get no Certification Declaration, not even the built-in test CD. */
#define DS_PROFILE_CD_NONE "none"

typedef struct {
  /*< private >*/
  gint        ref_count;
  /*< public >*/
  char       *path;            /* where it was loaded from or saved to; NULL: made in memory */
  char       *sha256;          /* of the file's bytes; NULL: made in memory */
  /* [profile] */
  char       *name;
  /* [product] */
  guint16     vid;
  guint16     pid;
  char       *vendor_name;
  char       *product_name;
  guint       hardware_version;
  char       *hardware_version_string;
  /* [ca]: never NULL; ca->ca NULL or "test" is the built-in test CA */
  DsCaConfig *ca;
  /* [gate] */
  gboolean    production;      /* explicit in every file */
  char       *trust_store;     /* a directory or PEM bundle of PAAs; NULL: the CA's own PAA */
  char       *cd;              /* a DER file; DS_PROFILE_CD_NONE: no CD; NULL: the built-in test CD with
                                * the test CA outside production, else none */
  GStrv       cd_signers;
  /* [firmware] */
  char       *firmware_image;  /* NULL: boards are not flashed */
  char       *flasher;         /* "bootloader" (default) or "cube" */
  /* [store] */
  char       *store;           /* a SQLite path or a postgresql:// URI; NULL: the data folder's */
  /* [run] */
  guint       jobs;            /* 0: default */
  guint       timeout_ms;      /* 0: per-command defaults */
  guint       retries;         /* 0: default */
  /* [onboarding] and [factory-data]: never NULL; unset fields are the
   * defaults.  Its names and hardware version are only what those groups
   * say; ds_profile_get_onboarding() adds [product]'s. */
  DsOnboardingConfig *onboarding;
  /* [label] */
  char       *label_format;    /* "png", "pdf" or "zpl"; NULL: png */
  char       *label_dir;       /* where labels and the lot's CSV go; NULL: nowhere (the demo: its own) */
  char       *label_printer;   /* a CUPS queue; NULL: none */
} DsProfile;

#define DS_TYPE_PROFILE (ds_profile_get_type ())
GType       ds_profile_get_type (void) G_GNUC_CONST;

/* A test profile: the built-in test CA, vendor FFF1, product 8000, not
 * production. */
DsProfile  *ds_profile_new      (void);
DsProfile  *ds_profile_ref      (DsProfile   *self);
void        ds_profile_unref    (DsProfile   *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsProfile, ds_profile_unref)

/* Parses @data named @origin in messages; relative paths are taken from
 * @base_dir.  Strict: an unknown group or key, a bad value, a missing
 * production key, a password or PIN is DS_ERROR_CONFIG naming @origin, the
 * group and the key. */
DsProfile  *ds_profile_parse    (const char  *data,
                                 gsize        len,
                                 const char  *origin,
                                 const char  *base_dir,
                                 GError     **error);
DsProfile  *ds_profile_load     (const char  *path,
                                 GError     **error);
/* The profile as a key file, as ds_profile_parse() reads it. */
char       *ds_profile_to_data  (DsProfile   *self,
                                 gsize       *len);
/* Writes the profile to @path (mode 0600) and updates path and sha256. */
gboolean    ds_profile_save     (DsProfile   *self,
                                 const char  *path,
                                 GError     **error);
/* The onboarding and factory-data settings a run of this profile uses:
 * [onboarding] and [factory-data], with [product]'s vendor and product
 * names and hardware version (and its string) where those groups name
 * none.  Free with ds_onboarding_config_free(). */
DsOnboardingConfig *ds_profile_get_onboarding (DsProfile *self);
/* As ds_profile_save(), for a new file: the [onboarding], [factory-data]
 * and [label] keys left unset are written as comments that show their
 * defaults, so a reviewer sees what the run will do. */
gboolean    ds_profile_save_new (DsProfile   *self,
                                 const char  *path,
                                 GError     **error);
/* "production" or "test". */
const char *ds_profile_get_mode (DsProfile   *self);
/* Whether its boards get the built-in test Certification Declaration: a
 * test run with the test CA and no CD configured (not "none"). */
gboolean    ds_profile_gives_test_cd (DsProfile *self);
/* The name for people: name, else the product name, else the file's. */
const char *ds_profile_get_display_name (DsProfile *self);

G_END_DECLS
