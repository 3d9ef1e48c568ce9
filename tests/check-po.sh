#!/bin/sh
# Checks that po/LANG.po is well-formed and translates every message the
# sources in po/POTFILES.in have today (no untranslated or fuzzy entries).
set -eu
src=$1
lang=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

cd "$src"
# The keywords of meson's "glib" gettext preset.
xgettext --from-code=UTF-8 --add-comments=TRANSLATORS: \
  --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
  --keyword=g_dcgettext:2 --keyword=g_dngettext:2,3 --keyword=g_dpgettext2:2c,3 \
  --flag=N_:1:pass-c-format --flag=C_:2:pass-c-format --flag=NC_:2:pass-c-format \
  --flag=g_dngettext:2:pass-c-format --flag=g_strdup_printf:1:c-format \
  --flag=g_string_printf:2:c-format --flag=g_string_append_printf:2:c-format \
  --flag=g_error_new:3:c-format --flag=g_set_error:4:c-format \
  --flag=g_markup_printf_escaped:1:c-format --flag=g_log:3:c-format \
  --flag=g_print:1:c-format --flag=g_printerr:1:c-format --flag=g_printf:1:c-format \
  --flag=g_fprintf:2:c-format --flag=g_sprintf:2:c-format --flag=g_snprintf:3:c-format \
  --files-from=po/POTFILES.in --output="$tmp/messages.pot"
msgfmt --check --output-file=/dev/null "po/$lang.po"
msgcmp "po/$lang.po" "$tmp/messages.pot"
stats=$(LC_ALL=C msgfmt --statistics --output-file=/dev/null "po/$lang.po" 2>&1)
echo "$lang: $stats"
case "$stats" in
  *fuzzy*|*untranslated*) echo "po/$lang.po has fuzzy or untranslated messages" >&2; exit 1 ;;
esac
