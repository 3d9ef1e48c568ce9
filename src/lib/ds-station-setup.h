/* One way from a product profile to a ready station, for every front end:
 * builds the CA, the trust store, the gate, the flasher settings and the
 * store, and applies every production refusal in one place. */
#pragma once

#include "ds-profile.h"
#include "ds-onboarding-config.h"
#include "ds-station.h"

G_BEGIN_DECLS

#define DS_TYPE_STATION_SETUP (ds_station_setup_get_type ())
G_DECLARE_FINAL_TYPE (DsStationSetup, ds_station_setup, DS, STATION_SETUP, GObject)


/* Keeps a reference to @profile: change it (the front end's overrides)
 * before ds_station_setup_build(). */
DsStationSetup *ds_station_setup_new              (DsProfile      *profile);
DsProfile      *ds_station_setup_get_profile      (DsStationSetup *self);
/* Where the test CA's pki/, issued certificates (certs/) and the default
 * store live.  Required. */
void            ds_station_setup_set_data_dir     (DsStationSetup *self,
                                                   const char     *data_dir);
void            ds_station_setup_set_operator     (DsStationSetup *self,
                                                   const char     *operator_id);
void            ds_station_setup_set_lot          (DsStationSetup *self,
                                                   const char     *lot);
/* Default: the host name. */
void            ds_station_setup_set_station_name (DsStationSetup *self,
                                                   const char     *name);
/* A store the front end opened already; else the profile's, or the data
 * folder's records.sqlite3, opened by ds_station_setup_open_store(). */
void            ds_station_setup_set_store        (DsStationSetup *self,
                                                   DsStore        *store);
/* TRUE (the default): a remote CA is asked for its certificates during
 * the build, so a wrong address or credential stops the run before any
 * board is touched.  FALSE: the first job asks, off the main thread. */
void            ds_station_setup_set_contact_ca   (DsStationSetup *self,
                                                   gboolean        contact_ca);
/* TRUE: the jobs' threads run at the lowest CPU priority (DsJobOptions'
 * background), below a GUI's main thread.  Default FALSE. */
void            ds_station_setup_set_background   (DsStationSetup *self,
                                                   gboolean        background);
/* UIDs an engineer authorised to get a second DAC (DsJobOptions'
 * reprovision_uids); NULL @uids: none. */
void            ds_station_setup_set_reprovision  (DsStationSetup     *self,
                                                   const char *const  *uids,
                                                   const char         *engineer,
                                                   const char         *reason);
/* The onboarding data and factory data settings (DsJobOptions'
 * onboarding), in place of the profile's; NULL: the profile's. */
void            ds_station_setup_set_onboarding   (DsStationSetup           *self,
                                                   const DsOnboardingConfig *config);
/* The onboarding settings the station will get: those set above, else
 * the profile's (ds_profile_get_onboarding()).  A front end that
 * overrides some copies these and sets the copy. */
const DsOnboardingConfig *ds_station_setup_get_onboarding (DsStationSetup *self);
/* The record store the station will use, opened now if needed. */
DsStore        *ds_station_setup_open_store       (DsStationSetup *self,
                                                   GError        **error);
/* The production refusals that need nothing built: the test CA, a remote
 * CA without authentication, a test vendor or product ID, no trust
 * store.  ds_station_setup_build() applies them first.  DS_ERROR_CONFIG. */
gboolean        ds_station_setup_check            (DsStationSetup *self,
                                                   GError        **error);
/* The station, or NULL with DS_ERROR_CONFIG (or the CA's error) when the
 * profile cannot be used.  In production the station also refuses
 * simulated boards. */
DsStation      *ds_station_setup_build            (DsStationSetup *self,
                                                   GError        **error);
/* ds_station_setup_build() in a thread: creating the test PKI, loading a
 * trust store or asking a keyring takes long enough to stall a GUI.
 * Change nothing in @self (nor its profile) until it completes. */
void            ds_station_setup_build_async      (DsStationSetup      *self,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
DsStation      *ds_station_setup_build_finish     (DsStationSetup      *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

G_END_DECLS
