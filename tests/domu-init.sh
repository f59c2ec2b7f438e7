#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the DomU that tests/xl-test.sh creates with Xen's xl: says it is up on its
# console (hvc0, which xenconsoled logs in Dom0), then waits to be destroyed.
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo "XRS-DOMU: up: Linux $(uname -r), $(cat /sys/hypervisor/type 2>/dev/null) guest, $(grep MemTotal /proc/meminfo | tr -s ' ')"
while true; do
	sleep 3600
done
