#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for tests/commands/slurm.rs (docs/scale-out.md): installs
# the Debian packages slurm-wlm and munge, writes /etc/slurm/slurm.conf for one node (this host,
# 127.0.0.1, all its CPUs) and starts munged, slurmctld and slurmd. Needs root (or sudo).
# Idempotent: when the node already answers, it only says so. Sources: Debian packages only.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/quiet.sh

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "setup-slurm: needs root (or sudo) to install and start Slurm; skipped"
        exit 0
    fi
    SUDO=(sudo)
fi

CONF=/etc/slurm/slurm.conf
MARK="# Written by lifb-hdl scripts/setup-slurm.sh"
node="$(hostname -s)"

node_state() { sinfo -h -N -n "$node" -o '%T' 2>/dev/null | head -n 1; }

if command -v sinfo >/dev/null 2>&1; then
    case "$(node_state)" in
        idle|mixed|allocated) echo "setup-slurm: single-node Slurm is running (node $node: $(node_state))"; exit 0 ;;
    esac
fi

need=()
for pair in slurmctld:slurm-wlm slurmd:slurm-wlm sbatch:slurm-wlm munged:munge; do
    cmd=${pair%%:*}; pkg=${pair##*:}
    if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ]; then
        [[ " ${need[*]-} " == *" $pkg "* ]] || need+=("$pkg")
    fi
done
if [ ${#need[@]} -gt 0 ]; then
    quietly "setup-slurm: updating the Debian package lists" "${SUDO[@]}" apt-get update -qq
    quietly "setup-slurm: installing Debian packages ${need[*]}" \
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    echo "setup-slurm: $CONF exists and was not written by this script; leaving this machine's Slurm alone"
    exit 1
fi

cpus="$(nproc)"
mem_mb="$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)"
conf="$(mktemp)"
cat >"$conf" <<EOF
$MARK: one node (this host) for tests/commands/slurm.rs.
ClusterName=lifb
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
"${SUDO[@]}" mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
"${SUDO[@]}" install -m 0644 "$conf" "$CONF"
rm -f "$conf"

# munged refuses to run as root without --force; the key comes with the Debian package.
if ! pgrep -x munged >/dev/null 2>&1; then
    "${SUDO[@]}" chown munge:munge /run/munge 2>/dev/null || true
    quietly "setup-slurm: starting munged" "${SUDO[@]}" /usr/sbin/munged --force
fi
if ! pgrep -x slurmctld >/dev/null 2>&1; then
    quietly "setup-slurm: starting slurmctld" "${SUDO[@]}" /usr/sbin/slurmctld
fi
if ! pgrep -x slurmd >/dev/null 2>&1; then
    quietly "setup-slurm: starting slurmd" "${SUDO[@]}" /usr/sbin/slurmd
fi

# Wait for the node to register (a few seconds); resume it if it came up down or drained.
for _ in $(seq 1 60); do
    case "$(node_state)" in
        idle|mixed|allocated) echo "setup-slurm: single-node Slurm is running (node $node, $cpus CPUs)"; exit 0 ;;
        down*|drain*|fail*) "${SUDO[@]}" scontrol update nodename="$node" state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 1
done
echo "setup-slurm: the node $node did not become idle within 60 s (state: '$(node_state)'); see /var/log/slurm/"
exit 1
