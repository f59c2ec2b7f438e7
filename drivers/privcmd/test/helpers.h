/* SPDX-License-Identifier: GPL-2.0 */
/* The C answers of include/uapi/xen/privcmd.h for the xen_privcmd_abi suite. */
#ifndef XRS_PRIVCMD_TEST_HELPERS_H
#define XRS_PRIVCMD_TEST_HELPERS_H

#include <linux/types.h>

u64 xrs_privcmd_c_abi(unsigned int i, const char **name);

#endif
