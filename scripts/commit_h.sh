#!/usr/bin/env bash
# Writes $1, a C header defining SIAM_COMMIT: the git commit the build comes
# from ("-dirty" when tracked files differ from it; "unknown" outside a git
# checkout). The file is rewritten only when that changes, so that an
# unchanged tree rebuilds nothing. Run by the Makefile on every invocation.
set -u
out=$1
commit=unknown
if c=$(git rev-parse --short=12 HEAD 2>/dev/null); then
    commit=$c
    if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
        commit=$commit-dirty
    fi
fi
text="#define SIAM_COMMIT \"$commit\""
mkdir -p "$(dirname "$out")"
if [ ! -f "$out" ] || [ "$(cat "$out")" != "$text" ]; then
    printf '%s\n' "$text" >"$out"
fi
