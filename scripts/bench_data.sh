#!/usr/bin/env bash
# Data-path timings for `make bench`: first load of pairsDevTrain (empty
# cache), the cached reload, and every image under the image root, with a
# scratch cache under $TMPDIR. Usage: scripts/bench_data.sh [LFW_DIR].
# Wall-clock numbers: run on an idle machine for figures worth quoting.
set -eu
exec bash "$(dirname "$0")/data_tool.sh" bench "$@"
