// SPDX-License-Identifier: GPL-2.0
/*
 * The facts of the privcmd ABI as C compiles them from include/uapi/xen/privcmd.h: ioctl
 * numbers, structure sizes and field offsets, version 1's error marks. The suite
 * xen_privcmd_abi walks this table and compares each row with the Rust driver's abi.rs.
 */
#include <linux/stddef.h>
#include <linux/kernel.h>
#include <linux/ioctl.h>
#include <linux/compiler.h>
#include <xen/privcmd.h>

#include "helpers.h"

struct xrs_abi_fact {
	const char *name;
	u64 value;
};

#define SIZE(s) { "sizeof " #s, sizeof(struct s) }
#define OFF(s, f) { #s "." #f, offsetof(struct s, f) }
#define VAL(v) { #v, v }

static const struct xrs_abi_fact xrs_facts[] = {
	VAL(IOCTL_PRIVCMD_HYPERCALL),
	VAL(IOCTL_PRIVCMD_MMAP),
	VAL(IOCTL_PRIVCMD_MMAPBATCH),
	VAL(IOCTL_PRIVCMD_MMAPBATCH_V2),
	VAL(IOCTL_PRIVCMD_DM_OP),
	VAL(IOCTL_PRIVCMD_RESTRICT),
	VAL(IOCTL_PRIVCMD_MMAP_RESOURCE),
	VAL(IOCTL_PRIVCMD_IRQFD),
	VAL(IOCTL_PRIVCMD_IOEVENTFD),
	VAL(IOCTL_PRIVCMD_PCIDEV_GET_GSI),
	VAL(PRIVCMD_MMAPBATCH_MFN_ERROR),
	VAL(PRIVCMD_MMAPBATCH_PAGED_ERROR),
	SIZE(privcmd_hypercall),
	OFF(privcmd_hypercall, arg),
	SIZE(privcmd_mmap),
	OFF(privcmd_mmap, dom),
	OFF(privcmd_mmap, entry),
	SIZE(privcmd_mmapbatch),
	OFF(privcmd_mmapbatch, dom),
	OFF(privcmd_mmapbatch, addr),
	OFF(privcmd_mmapbatch, arr),
	SIZE(privcmd_mmapbatch_v2),
	OFF(privcmd_mmapbatch_v2, dom),
	OFF(privcmd_mmapbatch_v2, addr),
	OFF(privcmd_mmapbatch_v2, arr),
	OFF(privcmd_mmapbatch_v2, err),
	SIZE(privcmd_dm_op_buf),
	OFF(privcmd_dm_op_buf, size),
	SIZE(privcmd_dm_op),
	OFF(privcmd_dm_op, num),
	OFF(privcmd_dm_op, ubufs),
	SIZE(privcmd_mmap_resource),
	OFF(privcmd_mmap_resource, type),
	OFF(privcmd_mmap_resource, id),
	OFF(privcmd_mmap_resource, idx),
	OFF(privcmd_mmap_resource, num),
	OFF(privcmd_mmap_resource, addr),
	SIZE(privcmd_irqfd),
	OFF(privcmd_irqfd, size),
	OFF(privcmd_irqfd, fd),
	OFF(privcmd_irqfd, flags),
	OFF(privcmd_irqfd, dom),
	SIZE(privcmd_ioeventfd),
	OFF(privcmd_ioeventfd, ports),
	OFF(privcmd_ioeventfd, addr),
	OFF(privcmd_ioeventfd, addr_len),
	OFF(privcmd_ioeventfd, event_fd),
	OFF(privcmd_ioeventfd, vcpus),
	OFF(privcmd_ioeventfd, vq),
	OFF(privcmd_ioeventfd, flags),
	OFF(privcmd_ioeventfd, dom),
	SIZE(privcmd_pcidev_get_gsi),
	OFF(privcmd_pcidev_get_gsi, gsi),
};

/* Row i of the table: its value, and its name in *name (NULL past the end). */
u64 xrs_privcmd_c_abi(unsigned int i, const char **name)
{
	if (i >= ARRAY_SIZE(xrs_facts)) {
		*name = NULL;
		return 0;
	}
	*name = xrs_facts[i].name;
	return xrs_facts[i].value;
}
