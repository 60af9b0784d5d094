#!/usr/bin/env bash
# Runs the tiny test grid (tests/lua/grid_tiny.lua) as a Slurm job array on a
# throw-away single-host Slurm: munged, slurmctld and slurmd are started on
# this machine from a generated slurm.conf in a temp folder, `sbatch
# --array=0-1` runs the two shards, scripts/merge_grid.lua merges them, the
# table is checked, and the daemons are stopped. Needs Debian's slurm-wlm and
# munge; without them it says so and exits 77 (skipped). Run as root (the
# daemons then need no user set up), from the repository root:
#   bash scripts/slurm_grid_test.sh [path/to/siamlua]
set -u
SIAMLUA=${1:-${SIAMLUA:-./siamlua}}
SIAMLUA=$(cd "$(dirname "$SIAMLUA")" && pwd)/$(basename "$SIAMLUA")
for tool in munged slurmctld slurmd sbatch squeue scontrol; do
    if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
        echo "slurm test skipped: $tool not found (Debian: apt-get install slurm-wlm munge)"
        exit 77
    fi
done
if [ "$(id -u)" != 0 ]; then
    echo "slurm test skipped: needs root to run the Slurm daemons"
    exit 77
fi
PATH=$PATH:/usr/sbin
T=$(mktemp -d /tmp/siam-slurm.XXXXXX)
chmod 755 "$T"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null
    done
    if [ -z "${KEEP:-}" ]; then rm -rf "$T"; else echo "kept $T"; fi
}
trap cleanup EXIT
fail() {
    echo "slurm test FAILED: $*"
    for f in "$T"/*.log "$T"/out/*.out; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done
    exit 1
}

host=$(hostname -s)
# Ports away from Slurm's defaults, so a real Slurm on the machine is left alone.
base=$((20000 + $$ % 20000))
mkdir -p "$T/state" "$T/spool" "$T/out" "$T/results"

# munge: a fresh key and socket of our own.
dd if=/dev/urandom of="$T/munge.key" bs=1024 count=1 status=none
chmod 600 "$T/munge.key"
munged --force --key-file="$T/munge.key" --socket="$T/munge.sock" \
    --pid-file="$T/munged.pid" --log-file="$T/munged.log" --seed-file="$T/munge.seed" \
    || fail "munged did not start"
for _ in $(seq 50); do [ -f "$T/munged.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$T/munged.pid")")

cat >"$T/slurm.conf" <<CONF
ClusterName=siamtest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$base
SlurmdPort=$((base + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge.sock
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
export SLURM_CONF=$T/slurm.conf

slurmctld -D -i -f "$T/slurm.conf" >"$T/slurmctld.stdout.log" 2>&1 &
pids+=($!)
slurmd -D -f "$T/slurm.conf" >"$T/slurmd.stdout.log" 2>&1 &
pids+=($!)

# Wait (bounded) until the node is idle.
ready=
for _ in $(seq 60); do
    state=$(sinfo -h -n "$host" -o %t 2>/dev/null | head -1)
    case "$state" in idle*|mix*) ready=1; break ;; esac
    sleep 0.5
done
[ -n "$ready" ] || fail "node $host never became idle (state: ${state:-none})"

repo=$(pwd)
cat >"$T/job.sh" <<JOB
#!/bin/bash
cd "$repo" && exec "$SIAMLUA" --quiet tests/lua/grid_tiny.lua "$T/results"
JOB
jobid=$(sbatch --parsable --array=0-1 --ntasks=1 --cpus-per-task=1 \
    --output="$T/out/%A_%a.out" "$T/job.sh") || fail "sbatch refused the job"
jobid=${jobid%%;*}
echo "slurm: submitted job array $jobid"

done_=
for _ in $(seq 180); do
    if [ -z "$(squeue -h -j "$jobid" 2>/dev/null)" ]; then done_=1; break; fi
    sleep 0.5
done
[ -n "$done_" ] || fail "job array $jobid still queued or running after 90 s"

for s in 1 2; do
    [ -f "$T/results/tiny/grid.shard-$s-of-2.csv" ] || fail "shard $s/2 wrote no table"
done
"$SIAMLUA" --quiet scripts/merge_grid.lua "$T/results/tiny" || fail "merge reported unfinished configurations"
rows=$(tail -n +2 "$T/results/tiny/grid.csv" | wc -l)
ids=$(tail -n +2 "$T/results/tiny/grid.csv" | cut -d, -f2 | sort -u | wc -l)
starts=$(wc -l <"$T/results/starts.log")
[ "$rows" = 8 ] && [ "$ids" = 8 ] && [ "$starts" = 8 ] \
    || fail "expected 8 rows, 8 ids, 8 starts; got $rows, $ids, $starts"
head -2 "$T/results/tiny/grid.csv"
echo "slurm test passed: 2 array tasks, 8 configurations merged"
