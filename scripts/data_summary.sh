#!/usr/bin/env bash
# Prints the data summary of the seed report's Part 1 for LFW View 1
# (pairsDevTrain and pairsDevTest): pairs, matched and mismatched, distinct
# images and people, images per person, and the people both sets share.
# Usage: scripts/data_summary.sh [LFW_DIR]   (else $LFW_DIR, ./data/lfw, or
# the synthetic set, as the program finds it).
# It runs the C entry point siam_data_summary_print through scripts/data_tool.c;
# once the siam Lua module exposes the data sets, this becomes a siamlua call.
set -eu
exec bash "$(dirname "$0")/data_tool.sh" summary "$@"
