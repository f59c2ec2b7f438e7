#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Installs and fetches everything the build and the tests need, idempotently.
# Host packages go through apt; arm64 packages (Xen, its toolstack, busybox) and the
# kernel source are downloaded into the cache and unpacked there, never installed.
#
# Cache: ${XRS_CACHE:-/var/cache/xen-rust-stack}. Deleting it only costs time.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# Exact versions, so a fresh machine builds what was measured.

KPKG="linux-source-7.3=7.3.4-1~bpo13+1"
XEN_SUITE=trixie
BINDGEN_VER=0.73.2

# Host packages and where they come from.
HOST_PKGS_BASE=(flex bison bc libssl-dev libelf-dev cpio kmod python3 xz-utils
	rsync zstd gzip device-tree-compiler)
HOST_PKGS_SECURITY=(clang-19 lld-19 llvm-19 libclang-19-dev)
QEMU_PKG=qemu-system-arm

# arm64 packages unpacked into the Dom0 root file system (from trixie; Xen pinned exactly).
XEN_VER=4.20.4+63-g7abfd2bce2-0+deb13u1
ARM64_XEN_PKGS=(xen-hypervisor-4.20-arm64 xen-utils-4.20 xen-utils-common libxenmisc4.20
	libxenstore4 libxengnttab1 libxencall1 libxenforeignmemory1 libxenevtchn1
	libxentoollog1 libxendevicemodel1 libxenhypfs1 libxentoolcore1 xenstore-utils)
ARM64_PKGS=(busybox-static libc6 libgcc-s1 libyajl2 libfdt1 libuuid1 libncurses6 libtinfo6 zlib1g)

# Raspberry Pi 4 boot files (tests/setup.sh rpi4, for make rpi4): host tools without their
# recommends, and U-Boot for the board from Debian trixie's arm64 package, unpacked into
# the cache.
RPI4_HOST_PKGS=(u-boot-tools mtools dosfstools fdisk)
# make patches: checkpatch's SPDX check (scripts/spdxcheck.py) runs on Debian's python3.
PATCHES_HOST_PKGS=(python3-ply python3-git)
UBOOT_RPI_PKG="u-boot-rpi:arm64=2025.01-3+deb13u1"

apt_sources() {
	local list=/etc/apt/sources.list.d/xen-rust-stack.sources
	local pin=/etc/apt/preferences.d/xen-rust-stack
	if [ ! -f "$list" ]; then
		local uri
		uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' \
			/etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
		[ -n "$uri" ] || die "cannot find the Debian mirror in /etc/apt/sources.list.d/debian.sources"
		step "adding trixie, trixie-backports, sid, bookworm-backports from $uri (pin 100)"
		cat >"$list" <<SRC
Types: deb
URIs: $uri
Suites: trixie trixie-backports sid bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
		cat >"$pin" <<PIN
Package: *
Pin: release n=trixie
Pin-Priority: 100

Package: *
Pin: release n=trixie-backports
Pin-Priority: 100

Package: *
Pin: release n=sid
Pin-Priority: 100

Package: *
Pin: release n=bookworm-backports
Pin-Priority: 100
PIN
		rm -f "$XRS_CACHE/.apt-updated"
	fi
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		step "adding the arm64 architecture to dpkg"
		dpkg --add-architecture arm64
		rm -f "$XRS_CACHE/.apt-updated"
	fi
	if [ ! -f "$XRS_CACHE/.apt-updated" ]; then
		step "apt-get update"
		apt-get update -q >"$XRS_CACHE/apt-update.log" 2>&1 ||
			{ tail -20 "$XRS_CACHE/apt-update.log"; die "apt-get update failed"; }
		touch "$XRS_CACHE/.apt-updated"
	fi
}

host_packages() {
	local missing=()
	for p in "${HOST_PKGS_BASE[@]}" "${HOST_PKGS_SECURITY[@]}" "$QEMU_PKG"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		apt_sources
		step "installing host packages: ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y -q "${HOST_PKGS_BASE[@]}" "${HOST_PKGS_SECURITY[@]}" \
			>"$XRS_CACHE/apt-install.log" 2>&1 ||
			{ tail -20 "$XRS_CACHE/apt-install.log"; die "apt-get install failed"; }
		# Without its recommends (GStreamer, VA drivers, GUI and SPICE modules, firmware
		# ROMs): the tests boot kernels directly, headless, with no network.
		apt-get install -y -q --no-install-recommends -t bookworm-backports "$QEMU_PKG" \
			>>"$XRS_CACHE/apt-install.log" 2>&1 ||
			{ tail -20 "$XRS_CACHE/apt-install.log"; die "installing QEMU from bookworm-backports failed"; }
	fi
	qemu-system-aarch64 --version | head -1 | grep -qE 'version (9|1[0-9])\.' ||
		die "qemu-system-aarch64 is too old: $(qemu-system-aarch64 --version | head -1)"
}

rust_tools() {
	command -v rustup >/dev/null || die "rustup is missing: the machine's Rust toolchain is required"
	if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
		step "rustup component add rust-src"
		rustup component add rust-src
	fi
	if ! rustup target list --installed | grep -qx aarch64-unknown-linux-musl; then
		step "rustup target add aarch64-unknown-linux-musl"
		rustup target add aarch64-unknown-linux-musl
	fi
	if ! bindgen --version 2>/dev/null | grep -q "$BINDGEN_VER"; then
		step "cargo install bindgen-cli $BINDGEN_VER (about 75 s)"
		LIBCLANG_PATH=/usr/lib/llvm-19/lib cargo install --locked --quiet \
			--version "$BINDGEN_VER" bindgen-cli
	fi
}

kernel_source() {
	local src="$XRS_CACHE/src/linux-$KVER"
	if [ ! -f "$src/.unpacked" ]; then
		apt_sources
		mkdir -p "$XRS_CACHE/debs" "$XRS_CACHE/src"
		step "downloading $KPKG"
		(cd "$XRS_CACHE/debs" && apt-get -o APT::Sandbox::User=root download -q "$KPKG" >/dev/null)
		local deb
		deb=$(ls "$XRS_CACHE"/debs/linux-source-7.3_*.deb | head -1)
		local tmp="$XRS_CACHE/src/.tmp"
		rm -rf "$tmp" "$src"
		mkdir -p "$tmp"
		step "unpacking the kernel source into $src (about 30 s)"
		dpkg -x "$deb" "$tmp"
		tar -C "$XRS_CACHE/src" -xf "$tmp"/usr/src/linux-source-7.3.tar.xz
		mv "$XRS_CACHE/src/linux-source-7.3" "$src"
		rm -rf "$tmp"
		touch "$src/.unpacked"
	fi
}

arm64_packages() {
	local root="$XRS_CACHE/arm64-root"
	local stamp
	stamp="$root/.stamp-$(echo "$XEN_VER ${ARM64_XEN_PKGS[*]} ${ARM64_PKGS[*]}" | md5sum | cut -c1-8)"
	[ -f "$stamp" ] && return 0
	apt_sources
	mkdir -p "$XRS_CACHE/debs/arm64"
	step "downloading arm64 packages: Xen 4.20, its toolstack, busybox"
	local p want=()
	for p in "${ARM64_PKGS[@]}"; do want+=("$p:arm64/$XEN_SUITE"); done
	for p in "${ARM64_XEN_PKGS[@]}"; do want+=("$p:arm64=$XEN_VER"); done
	(cd "$XRS_CACHE/debs/arm64" && apt-get -o APT::Sandbox::User=root download -q "${want[@]}" >/dev/null) ||
		die "apt-get download of the arm64 packages failed"
	rm -rf "$root" "$XRS_CACHE/debs/arm64"/*.deb.tmp
	mkdir -p "$root"
	step "unpacking them into $root"
	for deb in "$XRS_CACHE"/debs/arm64/*.deb; do dpkg -x "$deb" "$root"; done
	touch "$stamp"
}

# no_recommends PKG...: installs those of the packages that are missing, without their
# recommends.
no_recommends() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		apt_sources
		step "installing host packages (no recommends): ${missing[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			"${missing[@]}" >>"$XRS_CACHE/apt-install.log" 2>&1 ||
			{ tail -20 "$XRS_CACHE/apt-install.log"; die "apt-get install ${missing[*]} failed"; }
	fi
}

rpi4_packages() {
	no_recommends "${RPI4_HOST_PKGS[@]}"
	local dir="$XRS_CACHE/u-boot-rpi"
	local stamp
	stamp="$dir/.stamp-$(echo "$UBOOT_RPI_PKG" | md5sum | cut -c1-8)"
	if [ ! -f "$stamp" ]; then
		apt_sources
		mkdir -p "$XRS_CACHE/debs/rpi4"
		step "downloading $UBOOT_RPI_PKG"
		rm -f "$XRS_CACHE"/debs/rpi4/u-boot-rpi_*.deb
		(cd "$XRS_CACHE/debs/rpi4" && apt-get -o APT::Sandbox::User=root download -q \
			"$UBOOT_RPI_PKG" >/dev/null) || die "apt-get download $UBOOT_RPI_PKG failed"
		rm -rf "$dir"
		mkdir -p "$dir"
		dpkg -x "$XRS_CACHE"/debs/rpi4/u-boot-rpi_*.deb "$dir"
		[ -f "$dir/usr/lib/u-boot/rpi_arm64/u-boot.bin" ] ||
			die "no usr/lib/u-boot/rpi_arm64/u-boot.bin in $UBOOT_RPI_PKG"
		touch "$stamp"
	fi
}

main() {
	mkdir -p "$XRS_CACHE"
	host_packages
	rust_tools
	kernel_source
	arm64_packages
	if [ "${1:-}" = rpi4 ]; then
		rpi4_packages
	fi
	if [ "${1:-}" = patches ]; then
		no_recommends "${PATCHES_HOST_PKGS[@]}"
	fi
	step "set-up complete (cache: $XRS_CACHE)"
}

main "$@"
