#!/usr/bin/env bash
# Prints siamlua --help's list of scripts: one line per experiments/*.lua or
# scripts/*.lua file whose header comment shows how to run it (a line
# "--   siamlua ... DIR/NAME.lua ..."; the modules the scripts load have no
# such line), with the header's first clause, cut to fit 80 columns, under
# a heading per folder. Usage: script_list.sh file.lua...
set -eu
dir=
for f in "$@"; do
    d=$(dirname "$f")
    awk -v path="$f" -v name="$(basename "$f")" -v heading="$([ "$d" != "$dir" ] && echo "$d/")" '
        /^--/ {
            line = $0; sub(/^-- ?/, "", line)
            if (index(line, "siamlua ") && index(line, path)) runnable = 1
            head = head " " line
            next
        }
        { exit }
        END {
            if (!runnable) exit 1
            sub(/^ +/, "", head); gsub(/  +/, " ", head)
            s = head
            if (match(s, /[.:]( |$)/) && RSTART > 24) s = substr(s, 1, RSTART - 1)
            else if (match(s, /\.( |$)/)) s = substr(s, 1, RSTART - 1)
            if (length(s) > 61) { s = substr(s, 1, 58); sub(/ [^ ]*$/, "", s); s = s "..." }
            if (heading != "") printf "%s\n", heading
            printf "  %-16s %s\n", name, s
        }' "$f" && dir=$d
done
exit 0
