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
/* Says on stderr why the file @db, which is not a regular file, cannot be
 * the record store: missing, a directory, or something else. */
void      print_store_problem (const char *db);
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
/* The value an integer option starts with, to tell "not given" from any
 * number given. */
#define OPT_INT_UNSET G_MININT
/* TRUE when @value is OPT_INT_UNSET or within [@min, @max]; else says so
 * on stderr, naming the option and the range. */
gboolean  check_int_option (const char    *name,
                            int            value,
                            int            min,
                            int            max);
/* Prints @message and the command's help on stderr; returns EXIT_USAGE. */
int       usage_error     (GOptionContext *context,
                           const char     *message);

G_END_DECLS
