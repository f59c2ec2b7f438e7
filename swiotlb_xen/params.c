// SPDX-License-Identifier: GPL-2.0
/*
 * The `devices` parameter of xen_swiotlb_rs: a string, which the module! macro of Linux
 * 7.3 cannot declare (it has integer and bool parameters only). Read by the Rust side
 * (xen_swiotlb.rs) at module load.
 */

#include <linux/moduleparam.h>

char xen_swiotlb_rs_devices[256];
module_param_string(devices, xen_swiotlb_rs_devices, sizeof(xen_swiotlb_rs_devices), 0444);
MODULE_PARM_DESC(devices, "Comma-separated platform device names to attach the Rust ops to");
