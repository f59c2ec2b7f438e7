// SPDX-License-Identifier: GPL-2.0
/*
 * C side of the stress load generator (xen_swiotlb_stress.rs): the DMA API as a driver
 * calls it (dma_mapping_error() included, so that DMA_API_DEBUG checks every use), and a
 * workqueue of its own, which module exit drains.
 */

#include <linux/dma-mapping.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "helpers.h"

u64 xrs_stress_map(struct device *dev, phys_addr_t phys, size_t size,
		   enum dma_data_direction dir)
{
	dma_addr_t dma = dma_map_phys(dev, phys, size, dir, 0);

	return dma_mapping_error(dev, dma) ? DMA_MAPPING_ERROR : dma;
}

void xrs_stress_unmap(struct device *dev, u64 dma, size_t size, enum dma_data_direction dir)
{
	dma_unmap_phys(dev, dma, size, dir, 0);
}

void *xrs_stress_alloc(struct device *dev, size_t size, u64 *dma)
{
	dma_addr_t handle = DMA_MAPPING_ERROR;
	void *vaddr = dma_alloc_coherent(dev, size, &handle, GFP_KERNEL);

	*dma = handle;
	return vaddr;
}

void xrs_stress_free(struct device *dev, size_t size, void *vaddr, u64 dma)
{
	dma_free_coherent(dev, size, vaddr, dma);
}

struct workqueue_struct *xrs_stress_wq_create(void)
{
	return alloc_workqueue("xrs_stress", WQ_UNBOUND, 0);
}

void xrs_stress_wq_destroy(struct workqueue_struct *wq)
{
	destroy_workqueue(wq);
}

/* Purges lazily freed vmalloc areas (and their KASAN shadow), for a steady page count. */
void xrs_stress_settle(void)
{
	vm_unmap_aliases();
}
