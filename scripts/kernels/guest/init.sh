#!/bin/sh
# waggle kernel matrix: PID 1 in the guest, on the overlay of the host's root.
# Mounts what the agent expects of a host (tracefs, bpffs, debugfs, cgroup2),
# makes the guest kernel's modules reachable for modprobe, brings lo up, runs
# the checks (results on ttyS1), and powers off whatever happened.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
arg() { for w in $(cat /proc/cmdline); do case "$w" in "$1"=*) echo "${w#*=}";; esac; done; }
mount -t proc proc /proc
echo "waggle-guest: init.sh starts at $(cut -d" " -f1 /proc/uptime) s"
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
# No tmpfs over /tmp: the checkout under test may live there (CI clones into a
# folder of its choosing), and the overlay already makes /tmp writable.
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t securityfs securityfs /sys/kernel/security
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup
release=$(uname -r)
kdir=$(arg waggle.kdir)
mkdir -p "/lib/modules/$release" && mount --bind "$kdir/lib/modules/$release" "/lib/modules/$release"
ip link set lo up
hostname "waggle-$release"
echo "waggle-guest: up after $(cut -d' ' -f1 /proc/uptime) s"
# Checks' own stderr (and their children's) stays on the console, the host's log of this run.
cd "$(arg waggle.repo)" && node scripts/kernels/guest/run-checks.mjs $(arg waggle.checks | tr , ' ') > /dev/ttyS1
rc=$?
echo "waggle-guest: checks done after $(cut -d' ' -f1 /proc/uptime) s (exit $rc)"
echo o > /proc/sysrq-trigger
sleep 30
