/* SPDX-License-Identifier: GPL-2.0 */
/* The stress module's C (helpers.c); Rust declares them in xen_swiotlb_stress.rs. */
#ifndef XRS_STRESS_HELPERS_H
#define XRS_STRESS_HELPERS_H

#include <linux/types.h>
#include <linux/dma-direction.h>

struct device;
struct workqueue_struct;

u64 xrs_stress_map(struct device *dev, phys_addr_t phys, size_t size,
		   enum dma_data_direction dir);
void xrs_stress_unmap(struct device *dev, u64 dma, size_t size, enum dma_data_direction dir);
void *xrs_stress_alloc(struct device *dev, size_t size, u64 *dma);
void xrs_stress_free(struct device *dev, size_t size, void *vaddr, u64 dma);
struct workqueue_struct *xrs_stress_wq_create(void);
void xrs_stress_wq_destroy(struct workqueue_struct *wq);
void xrs_stress_settle(void);

#endif
