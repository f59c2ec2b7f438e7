#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In Dom0 (xrs.mode=xl): Xen 4.20's own, unmodified toolstack on the Rust privcmd,
# hypercall device, xenfs and gntdev. The daemons come up (tests/dom0-up.sh), `xl info` and
# `xl list` answer, then three rounds of `xl create` of a small DomU, whose console
# output is read from xenconsoled's log, and `xl destroy`. Around the rounds, the pages
# Dom0 has ballooned out (the foreign mappings' backing) and its free memory, and Xen's
# free memory, are printed for tests/xl_verdict.py. Lines: "XRS-XL: ...".
#
# Then the parity phase, on a fourth DomU: tests/tools/xen-check's bad inputs and
# Xen's test-resource on the Rust drivers ("XRS-PARITY-RUST: ..."), then the daemons
# stopped, the Rust privcmd, xenfs and gntdev unloaded, the kernel's C ones loaded, and
# the same again ("XRS-PARITY-C: ..."): tests/xl_verdict.py compares both with the
# tables of Documentation/privcmd.md and gntdev.md. The C drivers are loaded only here,
# after the xl rounds; each round prints the loaded modules to show it, and how many
# ranges of /dev/xen/gntdev xenstored and xenconsoled map.
#
# usage: xl-test.sh [bench]   bench: no rounds; xen-check bench on both drivers
set -u
what=${1:-test}
say() { echo "XRS-XL: $*"; }
export PATH="/usr/lib/xen-4.20/bin:$PATH"

# step NAME CMD...: runs CMD, says ok or bad with the tail of its output.
step() {
	name=$1
	shift
	if out=$("$@" 2>&1); then
		say "ok: $name"
	else
		say "bad: $name: $(echo "$out" | tail -3 | tr '\n' ' ')"
	fi
	echo "$out" | sed 's/^/XRS-XL-OUT: /'
}

mem() {
	b=/sys/devices/system/xen_memory/xen_memory0/info
	echo "ballooned_kb=$(($(cat $b/low_kb) + $(cat $b/high_kb))) dom0_free_kb=$(awk '/MemFree/ {print $2}' /proc/meminfo) xen_free_mb=$(xl info | awk '/^free_memory/ {print $3}')"
}

# create: xl create of the DomU, waiting for its console; says ok/bad as "$1".
create() {
	rm -f "$log"
	step "$1: xl create" xl create /usr/lib/xrs/domu/domu.cfg
	n=0
	while ! grep -q "XRS-DOMU: up" "$log" 2>/dev/null && [ $n -lt 300 ]; do
		sleep 1
		n=$((n + 1))
	done
	if grep -q "XRS-DOMU: up" "$log" 2>/dev/null; then
		say "ok: $1: the DomU's console says: $(grep 'XRS-DOMU: up' "$log" | tail -1 | tr -d '\r')"
	else
		say "bad: $1: no console output from the DomU in 300 s"
		tail -20 "$log" 2>/dev/null | sed 's/^/XRS-XL-OUT: /'
	fi
}

# vchan: Xen's vchan-socket-proxy as the client in Dom0 (the DomU's pages mapped through
# /dev/xen/gntdev) of the server the DomU started (tests/domu-init.sh), 1 MiB each way
# between tests/tools/xen-check at both ends; says what both ends received, as "$1".
vchan() {
	dom=$(xl domid xrs-domu)
	base=/local/domain/$dom/data
	n=0
	while [ "$(xenstore-read "$base/vchan-state" 2>/dev/null)" != running ] && [ $n -lt 120 ]; do
		sleep 1
		n=$((n + 1))
	done
	if [ "$(xenstore-read "$base/vchan-state" 2>/dev/null)" != running ]; then
		say "bad: $1: vchan: the DomU's server did not start in 120 s"
		tail -40 "$log" | tr -d '\r' | sed 's/^/XRS-XL-OUT: /'
		return
	fi
	rm -f /tmp/vchan.sock
	vchan-socket-proxy -m client "$dom" "$base/vchan" /tmp/vchan.sock &
	proxy=$!
	out=$(timeout 300 /usr/lib/xrs/xen-check vchan-client /tmp/vchan.sock)
	rc=$?
	kill $proxy
	wait $proxy 2>/dev/null
	if [ $rc = 0 ]; then
		say "ok: $1: vchan to the DomU: ${out#XRS-VCHAN: }"
	else
		say "bad: $1: vchan to the DomU: exit $rc: $out"
	fi
	n=0
	while ! grep -q "XRS-DOMU: vchan: received" "$log" && [ $n -lt 60 ]; do
		sleep 1
		n=$((n + 1))
	done
	got=$(grep "XRS-DOMU: vchan: received" "$log" | tail -1 | tr -d '\r')
	if [ -n "$got" ]; then
		say "ok: $1: vchan in the DomU: ${got#*XRS-DOMU: vchan: }"
	else
		say "bad: $1: vchan in the DomU: no report in 60 s"
		tail -40 "$log" | tr -d '\r' | sed 's/^/XRS-XL-OUT: /'
	fi
	say "$1: the DomU's modules: $(grep 'XRS-DOMU: vchan: modules' "$log" | tail -1 | tr -d '\r' | sed 's/.*modules //')"
}

# swap_to_c: daemons stopped, the Rust privcmd and xenfs out, the C ones in.
swap_to_c() {
	# xl create left a process watching the DomU: it holds privcmd open too.
	for d in xl xenconsoled xenstored; do
		kill $(pidof $d) 2>/dev/null
	done
	n=0
	while pidof xl xenconsoled xenstored >/dev/null && [ $n -lt 30 ]; do sleep 1; n=$((n + 1)); done
	umount /proc/xen || say "bad: umount /proc/xen"
	out=$(rmmod xen_xenfs_rs xen_privcmd_rs xen_gntdev_rs xen_gntalloc_rs 2>&1) ||
		say "bad: rmmod xen_xenfs_rs xen_privcmd_rs xen_gntdev_rs xen_gntalloc_rs: $out"
	insmod /usr/lib/modules/c/xen-privcmd.ko || say "bad: insmod xen-privcmd.ko (C)"
	insmod /usr/lib/modules/c/xenfs.ko || say "bad: insmod xenfs.ko (C)"
	insmod /usr/lib/modules/c/xen-gntdev.ko || say "bad: insmod xen-gntdev.ko (C)"
	insmod /usr/lib/modules/c/xen-gntalloc.ko || say "bad: insmod xen-gntalloc.ko (C)"
	mkdir -p /tmp/xenfs-c
	mount -t xenfs xenfs /tmp/xenfs-c || say "bad: mount the C xenfs"
	say "C drivers: modules $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
}

log=/var/log/xen/console/guest-xrs-domu.log
if sh /usr/lib/xrs/dom0-up.sh; then say "ok: daemons up"; else say "bad: daemons up"; fi
if [ "$what" = bench ]; then
	create "bench"
	dom=$(xl domid xrs-domu)
	/usr/lib/xrs/xen-check bench "$dom" 2 | sed 's/^XRS-BENCH-PRIVCMD: /XRS-BENCH-PRIVCMD: rust /'
	/usr/lib/xrs/xen-check bench-grant 2 | sed 's/^XRS-BENCH-GRANT: /XRS-BENCH-GRANT: rust /'
	swap_to_c
	/usr/lib/xrs/xen-check bench "$dom" 2 | sed 's/^XRS-BENCH-PRIVCMD: /XRS-BENCH-PRIVCMD: c /'
	/usr/lib/xrs/xen-check bench-grant 2 | sed 's/^XRS-BENCH-GRANT: /XRS-BENCH-GRANT: c /'
	say "done"
	exit 0
fi
step "xl info" xl info
step "xl list" xl list
say "memory before: $(mem)"
for i in 1 2 3; do
	say "round $i: modules $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
	create "round $i"
	# The rings xenstored and xenconsoled mapped through /dev/xen/gntdev.
	for d in xenstored xenconsoled; do
		say "round $i: $d maps $(grep -c /dev/xen/gntdev /proc/$(pidof $d)/maps) range(s) of /dev/xen/gntdev"
	done
	vchan "round $i"
	step "round $i: xl list shows the DomU" sh -c 'xl list | grep -q "^xrs-domu "'
	step "round $i: xl destroy" xl destroy xrs-domu
	step "round $i: the DomU is gone" sh -c '! xl list | grep -q "^xrs-domu "'
	say "memory after round $i: $(mem)"
done

# The parity phase.
create "parity"
dom=$(xl domid xrs-domu)
say "parity: DomU $dom"
# Dom0 shares pages with itself through gntalloc and gntdev.
/usr/lib/xrs/xen-check share | sed 's/^XRS-SHARE: /XRS-SHARE-RUST: /'
say "memory before xen-check (rust): $(mem)"
/usr/lib/xrs/xen-check check "$dom" /proc/xen rust-only | sed 's/^XRS-PARITY: /XRS-PARITY-RUST: /'
say "memory after xen-check (rust): $(mem)"
out=$(timeout 120 test-resource 2>&1)
say "test-resource (rust): exit $?: $(echo "$out" | tr '\n' '|')"
swap_to_c
/usr/lib/xrs/xen-check check "$dom" /tmp/xenfs-c | sed 's/^XRS-PARITY: /XRS-PARITY-C: /'
/usr/lib/xrs/xen-check share | sed 's/^XRS-SHARE: /XRS-SHARE-C: /'
out=$(timeout 120 test-resource 2>&1)
say "test-resource (c): exit $?: $(echo "$out" | tr '\n' '|')"
say "done"
