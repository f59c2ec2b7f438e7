/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Input of the module's own bindgen step (see Kbuild): struct dma_map_ops, which the
 * kernel's generated Rust bindings declare opaque (they do not include this header).
 */
#include <linux/dma-map-ops.h>
