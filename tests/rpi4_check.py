#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks what make rpi4 generated (tests/rpi4.sh), decoding every script back.

usage: rpi4_check.py OUT_DIR
Each check counts as one test:
- each .scr is a U-Boot script image for arm64 at its load address (`dumpimage -l`), and
  its payload (`dumpimage -p 0`) is exactly its .source;
- boot.scr (TFTP) sets serverip and ipaddr, fetches boot2.scr to the address it then
  sources; boot2.scr and the SD-only boot.scr load the DTB, Xen, the Dom0 kernel and its
  initramfs (tftpb, fatload) to the addresses booti and the /chosen nodes use, set the
  /chosen nodes Xen reads (#address-cells and #size-cells 2, xen,xen-bootargs with
  dtuart=serial1, the dom0 and dom0-ramdisk modules with the sizes U-Boot measured),
  and end with booti of Xen;
- every file a script loads is in the TFTP directory and on the SD-only card image
  (listed with mdir from the image's FAT partition); config.txt has the seed's three
  lines; u-boot.bin is an arm64 U-Boot; the DTB is the upstream Raspberry Pi 4 B tree
  with the emmc2 bus's dma-ranges at bus 0xc0000000.
Prints "rpi4-files: N passed, N failed, 0 skipped".
"""

import os
import re
import struct
import subprocess
import sys
import tempfile


def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def decode(scr):
    """(dumpimage -l text, the script's text)."""
    info = run("dumpimage", "-l", scr)
    with tempfile.NamedTemporaryFile() as t:
        run("dumpimage", "-T", "script", "-p", "0", "-o", t.name, scr)
        data = open(t.name, "rb").read()
    # A legacy script image: a table of sub-image lengths ending in 0, then the script.
    (length,) = struct.unpack(">I", data[:4])
    return info, data[8:8 + length].decode()


def commands(text):
    return [l.strip() for l in text.splitlines() if l.strip() and not l.startswith("#")]


def main() -> int:
    out = sys.argv[1]
    checks = []

    def check(name, ok, detail=""):
        checks.append((name, bool(ok), detail))

    scripts = {
        "sd/boot.scr": None, "tftp/boot2.scr": None, "sd-only/boot.scr": None,
    }
    for rel in list(scripts):
        scr = os.path.join(out, rel)
        src = scr[:-4] + ".source"
        try:
            info, text = decode(scr)
        except (OSError, subprocess.CalledProcessError, struct.error) as e:
            check(f"{rel}: decodes", False, e)
            continue
        scripts[rel] = text
        m = re.search(r"Load Address:\s+([0-9a-f]+)", info)
        check(f"{rel}: a U-Boot script image for arm64",
              "AArch64 Linux Script (uncompressed)" in info and m, info)
        scripts[rel + " load"] = int(m.group(1), 16) if m else None
        check(f"{rel}: its payload is its source", text == open(src).read())

    boot = commands(scripts["sd/boot.scr"] or "")
    got = {}
    for c in boot:
        parts = c.split()
        got.setdefault(parts[0], []).append(parts[1:])
    ok = (len(boot) == 4 and got.get("setenv", [[None]])[0][0] == "serverip"
          and got["setenv"][1][0] == "ipaddr" and "tftpb" in got and "source" in got
          and got["tftpb"][0][1] == "boot2.scr"
          and int(got["tftpb"][0][0], 16) == int(got["source"][0][0], 16)
          == scripts.get("tftp/boot2.scr load"))
    check("boot.scr: serverip, ipaddr, tftpb boot2.scr to its load address, source it",
          ok, boot)

    files = ["bcm2711-rpi-4-b.dtb", "xen", "Image.gz", "initrd.cpio.gz"]
    for rel, load in (("tftp/boot2.scr", "tftpb"), ("sd-only/boot.scr", "fatload")):
        cmds = commands(scripts[rel] or "")
        loads = {}
        for c in cmds:
            if c.startswith(load + " "):
                parts = c.split()
                loads[parts[-1]] = int(parts[-2], 16)
        check(f"{rel}: {load} of the DTB, Xen, the kernel and the initramfs",
              sorted(loads) == sorted(files), loads)
        if sorted(loads) != sorted(files):
            continue
        dtb, xen, kernel, initrd = (loads[f] for f in files)
        text = "\n".join(cmds)
        check(f"{rel}: the size of each module as loaded",
              re.search(r"Image\.gz\nsetenv dom0_size \$\{filesize\}", text)
              and re.search(r"initrd\.cpio\.gz\nsetenv initrd_size \$\{filesize\}", text))
        check(f"{rel}: fdt addr is the DTB's load address, resized",
              f"fdt addr {dtb:#x}" in text and "fdt resize 8192" in text)
        check(f"{rel}: /chosen #address-cells and #size-cells 2",
              "fdt set /chosen \\#address-cells <0x2>" in text
              and "fdt set /chosen \\#size-cells <0x2>" in text)
        m = re.search(r'fdt set /chosen xen,xen-bootargs "([^"]*)"', text)
        check(f"{rel}: xen,xen-bootargs on the mini UART (dtuart=serial1)",
              m and "console=dtuart" in m.group(1) and "dtuart=serial1" in m.group(1),
              m and m.group(1))
        check(f"{rel}: xen,dom0-bootargs", re.search(r'fdt set /chosen xen,dom0-bootargs "[^"]+"', text))
        check(f"{rel}: /chosen/dom0 is the kernel, where it was loaded",
              "fdt mknod /chosen dom0\n" in text + "\n"
              and 'fdt set /chosen/dom0 compatible "xen,linux-zimage" "xen,multiboot-module" '
                  '"multiboot,module"' in text
              and f"fdt set /chosen/dom0 reg <0x0 {kernel:#x} 0x0 0x${{dom0_size}}>" in text)
        check(f"{rel}: /chosen/dom0-ramdisk is the initramfs, where it was loaded",
              "fdt mknod /chosen dom0-ramdisk" in text
              and 'fdt set /chosen/dom0-ramdisk compatible "xen,linux-initrd" '
                  '"xen,multiboot-module" "multiboot,module"' in text
              and f"fdt set /chosen/dom0-ramdisk reg <0x0 {initrd:#x} 0x0 0x${{initrd_size}}>" in text)
        check(f"{rel}: ends with booti of Xen with the DTB",
              cmds and cmds[-1] == f"booti {xen:#x} - {dtb:#x}", cmds[-1:])
        sizes = {f: os.path.getsize(os.path.join(out, "tftp", f)) for f in files}
        spans = sorted((loads[f], loads[f] + sizes[f] + (8192 if f.endswith(".dtb") else 0), f)
                       for f in files)
        overlap = [(a[2], b[2]) for a, b in zip(spans, spans[1:]) if a[1] > b[0]]
        check(f"{rel}: the four files do not overlap in memory, all below 1 GiB",
              not overlap and spans[-1][1] <= 1 << 30, overlap or spans[-1])

    present = set(os.listdir(os.path.join(out, "tftp")))
    check("tftp/: every file boot2.scr loads is there, and boot2.scr",
          set(files) | {"boot2.scr"} <= present, present)
    try:
        listing = run("mdir", "-b", "-i", os.path.join(out, "sd-only.img") + "@@1M", "::/")
        names = {os.path.basename(l.strip()).lower() for l in listing.splitlines()}
    except subprocess.CalledProcessError as e:
        names = set()
        listing = e.stderr
    want = {f.lower() for f in files} | {"boot.scr", "config.txt", "u-boot.bin"}
    check("sd-only.img: a FAT partition at 1 MiB with every file the boot needs",
          want <= names, listing)
    mbr = open(os.path.join(out, "sd-only.img"), "rb").read(512)
    check("sd-only.img: an MBR whose first partition is FAT32 (LBA) at sector 2048",
          mbr[510:512] == b"\x55\xaa" and mbr[446 + 4] == 0x0C
          and struct.unpack("<I", mbr[446 + 8:446 + 12])[0] == 2048)

    for d in ("sd", "sd-only"):
        cfg = commands(open(os.path.join(out, d, "config.txt")).read())
        check(f"{d}/config.txt: kernel=u-boot.bin, enable_uart=1, arm_64bit=1",
              sorted(cfg) == sorted(["kernel=u-boot.bin", "enable_uart=1", "arm_64bit=1"]), cfg)
    ub = open(os.path.join(out, "sd", "u-boot.bin"), "rb").read()
    check("u-boot.bin: an arm64 image with U-Boot's version string",
          len(ub) > 100_000 and b"U-Boot 20" in ub, len(ub))

    dtb = os.path.join(out, "tftp", "bcm2711-rpi-4-b.dtb")
    def fdtget(*args):
        try:
            return run("fdtget", *args).split()
        except subprocess.CalledProcessError as e:
            return [e.stderr.strip()]
    compat = fdtget(dtb, "/", "compatible")
    check("the DTB: the upstream Raspberry Pi 4 B tree", "raspberrypi,4-model-b" in compat, compat)
    # <bus address (2 cells)> <CPU address (2 cells, the root's)> <size (1 cell)>: bus
    # 0xc0000000 is physical 0, for the first GiB.
    ranges = fdtget("-t", "x", dtb, "/emmc2-bus@fe000000", "dma-ranges")
    check("the DTB: emmc2-bus's dma-ranges put physical 0 at bus 0xc0000000, 1 GiB",
          ranges == ["0", "c0000000", "0", "0", "40000000"], ranges)

    failed = [c for c in checks if not c[1]]
    for name, ok, detail in checks:
        print(f"  rpi4-files {'ok' if ok else 'FAILED'}: {name}" + ("" if ok else f" ({detail})"))
    print(f"rpi4-files: {len(checks) - len(failed)} passed, {len(failed)} failed, 0 skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
