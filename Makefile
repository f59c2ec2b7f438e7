# SPDX-License-Identifier: GPL-2.0
#
# The Rust Xen stack. Kbuild builds the modules (see Kbuild); this Makefile drives the
# whole pipeline. Everything runs as root on Debian 12 and installs what it needs.
#
#   make run      boot Xen 4.20 + a Dom0 with the stack loaded, in QEMU
#   make test     host tests + KUnit bare + KUnit under Xen; ends "N passed, N failed"
#   make modules  build the modules (against KDIR, default: the cached test kernel)
#   make kernel   configure and build the test kernel only
#   make setup    install packages and fetch sources only
#   make check    host tests only (cargo test)
#   make lint     rustfmt, clippy (host and CLIPPY=1), rustdoc, checkpatch
#   make bench    map+unmap cost: Rust ops vs C xen-swiotlb vs dma-direct (own kernel);
#                 privcmd: foreign mappings and a hypercall per second, Rust vs C
#   make bench-trace [ROW=4k]  instructions of one map+unmap pair, per function (gdb)
#   make rpi4     the SD card and TFTP files of the seed's Raspberry Pi 4 recipe (out/rpi4)
#   make patches  the upstream series against Linux 7.3.4 (out/patches), checked: git am,
#                 checkpatch --strict, each patch built, =y and =m, lint, =y boot as Dom0
#   make mutants  put each fixed bug back in a copy of the tree: the tests must catch it
#   make clean    remove build products from the tree

.PHONY: all run test modules kernel setup check lint bench bench-trace mutants rpi4 patches \
	clean

all: modules

run:
	@tests/run.sh

test:
	@tests/test.sh

modules:
	@tests/modules.sh >/dev/null

kernel:
	@tests/setup.sh && tests/kernel.sh >/dev/null

setup:
	@tests/setup.sh

check:
	@cargo test --workspace --locked

clean:
	@rm -rf out target
	@find . \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
		-o -name '.*.cmd' -o -name '*.dtbo' -o -name 'modules.order' \
		-o -name 'Module.symvers' -o -name '*.rmeta' -o -name '.*.d' \
		-o -name exports_generated.h -o -name bindings_generated.rs \) -delete

lint:
	@tests/lint.sh

bench:
	@tests/bench.sh

bench-trace:
	@tests/bench-trace.sh

mutants:
	@tests/mutants.py

rpi4:
	@tests/rpi4.sh

patches:
	@tests/patches.sh
