#!/usr/bin/env bash
# Starts or stops a throw-away single-node Slurm 22.05 cluster on loopback for the test suite
# (SlurmExecutor's tests read its slurm.conf from OPENLAB_TEST_SLURM_CONF).
#   scripts/slurm.sh start DIR   -> prints the path of DIR/slurm.conf once the node is idle
#   scripts/slurm.sh stop DIR    -> stops the daemons started for DIR (and munged, if started here)
#   scripts/slurm.sh logs DIR    -> prints the daemons' logs (for failures)
#
# Runs as root, without systemd (see shared/notes/slurm-single-node.md). Both commands are
# idempotent: `start` on a DIR whose daemons run just prints the path again; `stop` on a stopped
# or missing DIR does nothing. The node has CPUs=$(nproc), a little less memory than the machine,
# and four fake GPUs (gpu:4, empty files under DIR: Slurm does not set CUDA_VISIBLE_DEVICES for
# them). MinJobAge is short so that tests see finished jobs vanish from the controller.
# Processes are tracked with proctrack/cgroup where the cgroup v1 freezer is writable, else with
# proctrack/linuxproc (SLURM_TEST_LINUXPROC=1 forces it); see choose_proctrack.
# Ports: SLURM_TEST_PORT (slurmctld; slurmd uses the next one), else a random free pair.
# Users: Slurm runs a job as a uid only if its controller and node know that user (a passwd
# entry), and a root openlab submits each job as its project's uid (sbatch --uid). `start`
# therefore makes sure the uids the tests use exist (TEST_UIDS, users openlab-test-UID with no
# home and no login shell; kept afterwards, as other runs may use them).
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop|logs DIR" >&2
  exit 2
fi

SBIN=/usr/sbin
BIN=/usr/bin
WAIT_SECONDS=${SLURM_START_TIMEOUT:-60}

die() { echo "slurm.sh: error: $*" >&2; exit 1; }

# True when the pid in file $1 names a live process whose command line contains $2.
alive() {
  local pidfile=$1 name=$2 pid
  [ -s "$pidfile" ] || return 1
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  local cmdline
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ "$cmdline" == *"$name"* ]]
}

# True while the process whose pid is in file $1 exists and is not a zombie (whatever it runs: a
# child just forked has not exec'd its program yet).
running() {
  local pid state
  pid=$(cat "$1" 2>/dev/null) || return 1
  state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null || true)
  [ -n "$state" ] && [ "$state" != Z ]
}

# Sends TERM to the pid in $1 (if alive and named $2), then KILL after a few seconds.
stop_pid() {
  local pidfile=$1 name=$2 pid i
  alive "$pidfile" "$name" || { rm -f "$pidfile"; return 0; }
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do
    alive "$pidfile" "$name" || break
    sleep 0.1
  done
  if alive "$pidfile" "$name"; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$pidfile"
}

# True when some slurmctld or slurmd (of any cluster) still runs on this machine; zombies, which
# pgrep also lists, do not count.
slurm_daemons_running() {
  local pid state
  for pid in $(pgrep -x slurmctld || true) $(pgrep -x slurmd || true); do
    state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null || true)
    [ -n "$state" ] && [ "$state" != Z ] && return 0
  done
  return 1
}

munge_works() { "$BIN/munge" -n 2>/dev/null | "$BIN/unmunge" >/dev/null 2>&1; }

start_munge() {
  if munge_works; then return 0; fi
  [ "$(id -u)" -eq 0 ] || die "munged is not running and only root can start it"
  mkdir -p /run/munge /var/log/munge /var/lib/munge /etc/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge /etc/munge
  chmod 0755 /run/munge
  chmod 0700 /var/log/munge /etc/munge
  if [ ! -s /etc/munge/munge.key ]; then
    if [ -x "$SBIN/mungekey" ]; then
      runuser -u munge -- "$SBIN/mungekey" --create --keyfile=/etc/munge/munge.key
    elif [ -x "$SBIN/create-munge-key" ]; then
      "$SBIN/create-munge-key" -f
    else
      die "no munge key and neither mungekey nor create-munge-key"
    fi
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  # A stale socket or pid file from a dead munged makes the new one refuse to start.
  rm -f /run/munge/munged.pid
  runuser -u munge -- "$SBIN/munged" --force
  local i
  for i in $(seq 1 50); do
    munge_works && break
    sleep 0.1
  done
  munge_works || die "munged did not start (see /var/log/munge/munged.log)"
  cp /run/munge/munged.pid "$dir/munged.pid"  # ours to stop
}

# The executor tests run their jobs as 61234; the server test gives projects 61235-61239
# (--job-uid-range).
TEST_UIDS="61234 61235 61236 61237 61238 61239"

ensure_test_users() {
  local uid
  for uid in $TEST_UIDS; do
    getent passwd "$uid" >/dev/null && continue
    getent group "$uid" >/dev/null || groupadd -g "$uid" "openlab-test-$uid"
    # (useradd warns that the uid is above UID_MAX: that is the point, so its warning is hidden.)
    useradd -u "$uid" -g "$uid" -M -d /nonexistent -s /usr/sbin/nologin "openlab-test-$uid" \
      2>/dev/null || true
    getent passwd "$uid" >/dev/null || die "could not create the test user with uid $uid"
  done
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# proctrack/cgroup (cgroup v1 freezer) follows every process of a job, also one that left its
# session and ignores SIGTERM; proctrack/linuxproc (the fallback) loses processes re-parented to
# init, so a cancelled job could leave such a process behind.
choose_proctrack() {
  local probe=/sys/fs/cgroup/freezer/openlab-probe.$$
  if [ -z "${SLURM_TEST_LINUXPROC:-}" ] && [ -f /sys/fs/cgroup/freezer/cgroup.procs ] &&
    mkdir "$probe" 2>/dev/null; then
    rmdir "$probe"
    echo cgroup
  else
    echo linuxproc
  fi
}

write_config() {
  local host port cpus mem_mb proctrack
  host=$(hostname -s)
  if [ -n "${SLURM_TEST_PORT:-}" ]; then
    port=$SLURM_TEST_PORT
  else
    for _ in $(seq 1 20); do
      port=$(( 20000 + RANDOM % 20000 ))
      port_free "$port" && port_free $((port + 1)) && break
    done
  fi
  cpus=$(nproc)
  # A bit under the machine's memory: slurmd drains a node that has less than it declares.
  mem_mb=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
  proctrack=$(choose_proctrack)
  mkdir -p "$dir/state" "$dir/spool" "$dir/log"
  # Jobs run as their project's uid: slurmstepd execs the batch script from the spool directory
  # as that uid, so the path to it must be traversable by others (as /var/spool/slurmd is; a
  # `mktemp -d` directory is 0700 and every job would fail with exit status 13, EACCES).
  chmod 0755 "$dir" "$dir/spool"
  : >"$dir/fakegpu0"; : >"$dir/fakegpu1"; : >"$dir/fakegpu2"; : >"$dir/fakegpu3"
  cat >"$dir/slurm.conf.new" <<EOF
# Written by openlab scripts/slurm.sh for the tests: one node on loopback.
ClusterName=openlabtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/$proctrack
TaskPlugin=task/none
SchedulerType=sched/backfill
# Pending jobs start within a second (the tests wait on them).
SchedulerParameters=bf_interval=1,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
# Finished jobs leave the controller quickly, so the tests exercise the exit-file fallback.
MinJobAge=5
# Cancel and time limit: SIGTERM, then SIGKILL this many seconds later.
KillWait=2
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
GresTypes=gpu
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb Gres=gpu:4 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  cat >"$dir/gres.conf.new" <<EOF
AutoDetect=off
NodeName=$host Name=gpu File=$dir/fakegpu[0-3]
EOF
  cat >"$dir/cgroup.conf.new" <<EOF
CgroupPlugin=cgroup/v1
CgroupAutomount=no
CgroupMountpoint=/sys/fs/cgroup
ConstrainCores=no
ConstrainRAMSpace=no
ConstrainDevices=no
EOF
  mv "$dir/cgroup.conf.new" "$dir/cgroup.conf"
  mv "$dir/slurm.conf.new" "$dir/slurm.conf"
  mv "$dir/gres.conf.new" "$dir/gres.conf"
}

print_logs() {
  local f
  for f in "$dir/log/slurmctld.log" "$dir/log/slurmd.log"; do
    echo "----- $f (last 40 lines) -----" >&2
    tail -n 40 "$f" >&2 2>/dev/null || echo "(missing)" >&2
  done
}

# The daemons run in the foreground (-D) in sessions of their own, so their pids are known at once
# (a daemonizing slurmd stuck registering writes no pid file, and ignores SIGTERM for a while).
CTLD_PID=run-slurmctld.pid
SLURMD_PID=run-slurmd.pid

do_stop() {
  [ -d "$dir" ] || return 0
  if [ -s "$dir/slurm.conf" ] && alive "$dir/$CTLD_PID" slurmctld; then
    # Jobs first, so no job of the tests outlives the cluster.
    SLURM_CONF="$dir/slurm.conf" timeout 10 "$BIN/scancel" --full --signal=KILL \
      --partition=debug >/dev/null 2>&1 || true
  fi
  stop_pid "$dir/$SLURMD_PID" slurmd
  stop_pid "$dir/$CTLD_PID" slurmctld
  # proctrack/cgroup leaves its (empty) cgroups behind.
  if ! slurm_daemons_running && [ -d "/sys/fs/cgroup/freezer/slurm_$(hostname -s)" ]; then
    find "/sys/fs/cgroup/freezer/slurm_$(hostname -s)" -depth -type d -exec rmdir {} \; \
      2>/dev/null || true
  fi
  if [ -f "$dir/munged.pid" ]; then
    # Only if this DIR started it, and no other Slurm on this machine still uses it.
    if ! slurm_daemons_running; then
      stop_pid "$dir/munged.pid" munged
    fi
    rm -f "$dir/munged.pid"
  fi
}

# Prints the logs, stops what this start began, and fails.
fail() {
  print_logs
  do_stop
  die "$*"
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if alive "$dir/$CTLD_PID" slurmctld && alive "$dir/$SLURMD_PID" slurmd; then
      echo "$dir/slurm.conf"
      exit 0
    fi
    # Half-started or stale: clean up, then start afresh.
    stop_pid "$dir/$SLURMD_PID" slurmd
    stop_pid "$dir/$CTLD_PID" slurmctld
    [ "$(id -u)" -eq 0 ] || die "the test Slurm runs its daemons as root"
    for b in "$SBIN/slurmctld" "$SBIN/slurmd" "$BIN/sinfo" "$BIN/munge"; do
      [ -x "$b" ] || die "$b is missing (scripts/deps.sh installs slurm-wlm and munge)"
    done
    start_munge
    ensure_test_users
    write_config
    export SLURM_CONF="$dir/slurm.conf"
    # -i: ignore saved state (a fresh cluster each start).
    setsid "$SBIN/slurmctld" -D -i -f "$SLURM_CONF" </dev/null >"$dir/log/slurmctld.out" 2>&1 &
    echo $! >"$dir/$CTLD_PID"
    setsid "$SBIN/slurmd" -D -f "$SLURM_CONF" </dev/null >"$dir/log/slurmd.out" 2>&1 &
    echo $! >"$dir/$SLURMD_PID"
    deadline=$(( $(date +%s) + WAIT_SECONDS ))
    state=""
    while [ "$(date +%s)" -lt "$deadline" ]; do
      running "$dir/$CTLD_PID" || fail "slurmctld exited"
      running "$dir/$SLURMD_PID" || fail "slurmd exited"
      state=$(timeout 5 "$BIN/sinfo" -h -N -o '%T' 2>/dev/null | head -n 1 || true)
      [ "$state" = "idle" ] && break
      sleep 0.3
    done
    if [ "$state" != "idle" ]; then
      "$BIN/sinfo" -N -l >&2 2>&1 || true
      fail "the node is not idle after ${WAIT_SECONDS} s (state '${state:-no answer}')"
    fi
    echo "$SLURM_CONF"
    ;;
  stop)
    do_stop
    ;;
  logs)
    print_logs
    ;;
  *)
    echo "usage: $0 start|stop|logs DIR" >&2
    exit 2
    ;;
esac
