/* What the commands of dac-station-cli share. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

enum {
  EXIT_OK = 0,      /* everything passed */
  EXIT_FAILED = 1,  /* a board failed, a check found a problem */
  EXIT_USAGE = 2,   /* a usage or configuration error */
};

/* --data-dir, --db and --json, for every command. */
extern char         *opt_data_dir;
extern char         *opt_db;
extern gboolean      opt_json;
extern GOptionEntry  common_entries[];

/* --data-dir, or the XDG data directory's dac-station folder. */
char     *data_dir        (void);
/* The record store: --db, or records.sqlite3 in the data directory. */
char     *store_location  (void);
/* Prints the builder's root as one line of JSON. */
void      print_json      (JsonBuilder    *builder);
void      json_add_string (JsonBuilder    *b,
                           const char     *name,
                           const char     *value);
void      json_add_int    (JsonBuilder    *b,
                           const char     *name,
                           gint64          value);
/* Four hex digits, with or without 0x; FALSE when not. */
gboolean  parse_hex16     (const char     *text,
                           guint16        *out);
/* Prints @message and the command's help on stderr; returns EXIT_USAGE. */
int       usage_error     (GOptionContext *context,
                           const char     *message);

G_END_DECLS
