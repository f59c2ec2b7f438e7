#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In Dom0 (installed as /usr/lib/xrs/dom0-up.sh): brings up Xen's own toolstack on the
# Rust devices. xenfs mounted at /proc/xen (the Rust module created the mount point),
# then xenstored, xen-init-dom0 and xenconsoled, each checked. C xenstored cannot start
# without a gntdev: the Rust xen_gntdev_rs when loaded, else the kernel's C xen-gntdev
# (said so). Prints "XRS-DOM0: ..." lines; exit status 1 if a step failed.
set -u
say() { echo "XRS-DOM0: $*"; }
bad=0
fail() { say "bad: $*"; bad=1; }

grep -q xenfs /proc/filesystems || fail "no xenfs filesystem (xen_xenfs_rs.ko not loaded?)"
mount -t xenfs xenfs /proc/xen || fail "mount -t xenfs xenfs /proc/xen"
say "/proc/xen: $(ls /proc/xen | tr '\n' ' ')"
say "capabilities: $(cat /proc/xen/capabilities)"
for d in /dev/xen/privcmd /dev/xen/hypercall; do
	[ -c "$d" ] || fail "$d missing"
done
# xenstored needs a gntdev: the Rust one (xen_gntdev_rs.ko) when it is loaded.
if [ -c /dev/xen/gntdev ]; then
	say "gntdev: $(grep -qw xen_gntdev_rs /proc/modules && echo "the Rust xen_gntdev_rs" || echo "already there")"
elif [ -f /usr/lib/modules/c/xen-gntdev.ko ]; then
	say "gntdev: loading the C xen-gntdev (the Rust one is not loaded)"
	insmod /usr/lib/modules/c/xen-gntdev.ko || fail "insmod xen-gntdev.ko"
else
	fail "no gntdev: xenstored cannot start"
fi
mkdir -p /var/run/xen /var/run/xenstored /var/lib/xenstored /var/lib/xen /var/log/xen /dev/shm
export PATH="/usr/lib/xen-4.20/bin:$PATH"
xenstored --pid-file /var/run/xenstored.pid || fail "xenstored did not start"
# xenstored answers once its socket is up.
i=0
while ! xenstore-control help >/dev/null 2>&1 && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
[ $i -lt 60 ] || fail "xenstored does not answer: $(xenstore-control help 2>&1 | tail -2)"
xen-init-dom0 >/tmp/xen-init-dom0.log 2>&1 || { cat /tmp/xen-init-dom0.log; fail "xen-init-dom0"; }
# Guests' consoles logged to /var/log/xen/console/guest-NAME.log.
mkdir -p /var/log/xen/console
xenconsoled --pid-file=/var/run/xenconsoled.pid --log=guest || fail "xenconsoled did not start"
for d in xenstored xenconsoled; do
	pidof "$d" >/dev/null || fail "$d is not running"
done
say "daemons: xenstored $(pidof xenstored), xenconsoled $(pidof xenconsoled)"
exit $bad
