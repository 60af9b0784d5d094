#!/bin/bash
# The layering, read from the `#include "..."` lines of the sources:
#   kernels/ includes nothing from host/ or bindings/, host/ nothing from
#   bindings/ (neither speaks Lua);
#   bindings/ is one graph rooted at siam: a module is a header and the .c
#   files that include it first (config.h and config.c are the module
#   config; runio.h and io_*.c the module runio), an edge A -> B an include of B's header
#   from A's .c or .h; it must have no cycle, and every module but siam must
#   be included by another one (the program is outside: bindings/main.c and
#   its line editor bindings/repl.[ch], which the Makefile keeps out of the
#   library and siam.so as it keeps main.c);
#   host/ is a graph of modules built the same way, with no cycle (it has
#   many roots: what the bindings call).
# Prints what it checked; exits 1 naming each offending include or cycle.
# Usage: bash scripts/check_includes.sh (from the repository root).
set -u
cd "$(dirname "$0")/.." || exit 2
status=0

includes() { # FILE... -> "file included" per line
    grep -H '^#include "' "$@" /dev/null | sed -E 's/^([^:]*):#include "([^"]*)".*/\1 \2/'
}

bad=$(includes kernels/*.[ch] kernels/cpu/*.[ch] kernels/cuda/*.cu kernels/cuda/*.h 2>/dev/null |
      awk '$2 ~ /^(host|bindings)\// { print "  " $1 " includes " $2 }')
bad+=$(includes host/*.[ch] | awk '$2 ~ /^bindings\// { print "  " $1 " includes " $2 }')
if [ -n "$bad" ]; then
    echo "check_includes: the lower layers include the upper ones:"
    echo "$bad"
    status=1
fi

# A layer's graph, as "from to" module pairs: a .c file belongs to the
# header it includes first (its own; bindings/io_files.c, io_plots.c and
# io_rundir.c to runio.h, host/model_init.c to model.h).
graph() { # DIR FILE... -> "module included-module" per line
    local dir=$1
    shift
    includes "$@" |
        awk -v dir="$dir" '$2 ~ "^" dir "/[^/]*\\.h$" {
                 to = $2; sub("^" dir "/", "", to); sub(/\.h$/, "", to)
                 if (!($1 in module)) {
                     module[$1] = $1; sub("^" dir "/", "", module[$1]); sub(/\.[ch]$/, "", module[$1])
                     if ($1 ~ /\.c$/) module[$1] = to
                 }
                 if (module[$1] != to) print module[$1], to
             }' |
        sort -u
}

# A depth-first search over a graph (a back edge is a cycle): from `root`
# alone, then naming every module it never reached; or, without a root,
# from every module.
dfs='
    { n[$1]++; edge[$1, n[$1]] = $2 }
    function visit(m,    i, t, k, path) {
        state[m] = 1; stack[++depth] = m
        for (i = 1; i <= n[m]; i++) {
            t = edge[m, i]
            if (state[t] == 1) {
                path = t
                for (k = depth; k >= 1 && stack[k] != t; k--) path = stack[k] " -> " path
                print "  cycle: " t " -> " path; bad = 1
            } else if (state[t] == 0) visit(t)
        }
        depth--; state[m] = 2
    }
    END {
        split(modules, all, " ")
        for (i in all) state[all[i]] = 0
        depth = 0
        if (root != "") {
            visit(root)
            for (i in all)
                if (state[all[i]] != 2) { print "  not reached from " root ": " all[i]; bad = 1 }
        } else {
            for (i in all)
                if (state[all[i]] == 0) visit(all[i])
        }
        edges = 0
        for (m in n) edges += n[m]
        if (bad) exit 1
        printf "check_includes: %s: %d modules, %d includes, no cycle%s\n", layer, length(all), edges, root != "" ? ", one root (" root ")" : ""
    }'

srcs=$(ls bindings/*.[ch] | grep -Ev '^bindings/(main\.c|repl\.[ch])$')
graph bindings $srcs |
    awk -v layer=bindings -v root=siam \
        -v modules="$(ls bindings/*.h | grep -v '^bindings/repl\.h$' | sed -E 's|^bindings/||; s|\.h$||' | tr '\n' ' ')" "$dfs" ||
    { echo "check_includes: the bindings graph is not rooted at siam without cycles"; status=1; }
graph host host/*.[ch] |
    awk -v layer=host -v root= -v modules="$(ls host/*.h | sed -E 's|^host/||; s|\.h$||' | tr '\n' ' ')" "$dfs" ||
    { echo "check_includes: host/ has an include cycle"; status=1; }
[ $status = 0 ] && echo "check_includes: host/ and kernels/ include no upper layer"
exit $status
