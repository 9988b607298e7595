#!/bin/busybox sh
# waggle kernel matrix: the guest's first process, from a tiny initramfs.
# Loads the modules the root needs (listed in load order in /modules/order),
# mounts the host's root read-only over virtiofs with a tmpfs overlay on top,
# and hands over to the repository's guest/init.sh. Any failure powers off:
# the host sees no results and reports where the console log stopped.
/bin/busybox mkdir -p /bin /proc /sys /dev
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
die() { echo "waggle-initramfs: $*"; echo o > /proc/sysrq-trigger; sleep 10; }
for m in $(cat /modules/order); do
  insmod "/modules/$m" || die "insmod $m failed"
done
arg() { for w in $(cat /proc/cmdline); do case "$w" in "$1"=*) echo "${w#*=}";; esac; done; }
guest_init=$(arg waggle.init)
mkdir -p /lower /rw /newroot
mount -t virtiofs -o ro hostroot /lower || die "cannot mount the host root (virtiofs tag hostroot)"
mount -t tmpfs -o mode=0755 tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot || die "cannot mount the overlay"
[ -x "/newroot$guest_init" ] || die "no guest init $guest_init on the host root"
umount /proc /sys /dev 2>/dev/null
exec switch_root /newroot "$guest_init"
