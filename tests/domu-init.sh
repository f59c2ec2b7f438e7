#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the DomU that tests/xl-test.sh creates with Xen's xl: says it is up on its
# console (hvc0, which xenconsoled logs in Dom0), then serves a vchan and waits to be
# destroyed. The vchan: the Rust gntalloc (xen_gntalloc_rs.ko) shares the pages, Xen's
# own vchan-socket-proxy is the server at data/vchan in this domain's xenstore home, and
# tests/tools/xen-check vchan-serve is the other end of its UNIX socket, printing what
# it received and sent ("XRS-DOMU: vchan: ...").
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /tmp
mount -t tmpfs tmpfs /tmp
echo "XRS-DOMU: up: Linux $(uname -r), $(cat /sys/hypervisor/type 2>/dev/null) guest, $(grep MemTotal /proc/meminfo | tr -s ' ')"
for m in xen_core xen_gntalloc_rs; do
	insmod /usr/lib/modules/$m.ko || echo "XRS-DOMU: vchan: bad: insmod $m.ko"
done
echo "XRS-DOMU: vchan: modules $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
/usr/lib/xrs/xen-check vchan-serve /tmp/vchan.sock &
n=0
while [ ! -S /tmp/vchan.sock ] && [ $n -lt 50 ]; do
	sleep 0.1
	n=$((n + 1))
done
# Server mode with a socket path: it connects to the socket when a client arrives.
# Its complaints go to the console, marked.
(/usr/lib/xen-4.20/bin/vchan-socket-proxy -m server -s data/vchan-state 0 data/vchan /tmp/vchan.sock 2>&1 ||
	echo "vchan-socket-proxy exited: $?") | sed 's/^/XRS-DOMU: vchan: proxy: /' &
while true; do
	sleep 3600
done
