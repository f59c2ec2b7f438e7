// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's own answers, for the KUnit suites of the Xen core to compare with: each
 * a one-line call of the kernel's C for the question a suite asks the Rust code too.
 */

#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include <xen/page.h>

#include <kunit/test.h>
#include <kunit/test-bug.h>

#include "helpers.h"

unsigned long xrs_pfn_to_bfn(unsigned long xen_pfn)
{
	return pfn_to_bfn(xen_pfn);
}

unsigned long xrs_bfn_to_pfn(unsigned long bfn)
{
	return bfn_to_pfn(bfn);
}

bool xrs_kernel_vmalloc_to_pfn(const void *addr, unsigned long *pfn)
{
	struct page *page = vmalloc_to_page(addr);

	if (!page)
		return false;
	*pfn = page_to_pfn(page);
	return true;
}

u64 xrs_kernel_phys_to_dma(struct device *dev, u64 phys)
{
	return phys_to_dma(dev, phys);
}

u64 xrs_kernel_dma_to_phys(struct device *dev, u64 dma)
{
	return dma_to_phys(dev, dma);
}

bool xrs_kernel_dma_capable(struct device *dev, u64 dma, u64 size)
{
	return dma_capable(dev, dma, size, false, 0);
}

u64 xrs_kernel_bus_dma_limit(struct device *dev)
{
	return dev->bus_dma_limit;
}

/*
 * An address in the kernel image (an exported variable) and its physical address by the
 * image's own arithmetic (__pa_symbol, kimage_voffset), which no page-table walk is part
 * of.
 */
const void *xrs_kernel_image_sample(u64 *phys)
{
	*phys = __pa_symbol(&jiffies_64);
	return &jiffies_64;
}

/* The kernel's dma_range_map_min(); U64_MAX for a device without a range table. */
u64 xrs_kernel_dma_range_map_min(struct device *dev)
{
	return dev->dma_range_map ? dma_range_map_min(dev->dma_range_map) : U64_MAX;
}

/* dma_capable() with the device's DMA mask set to @mask for the call. */
bool xrs_kernel_dma_capable_mask(struct device *dev, u64 mask, u64 dma, u64 size)
{
	u64 saved = *dev->dma_mask;
	bool ret;

	*dev->dma_mask = mask;
	ret = dma_capable(dev, dma, size, false, 0);
	*dev->dma_mask = saved;
	return ret;
}

void *xrs_kernel_phys_to_virt(u64 phys)
{
	return phys_to_virt(phys);
}

u64 xrs_kernel_virt_to_phys(const void *addr)
{
	return virt_to_phys(addr);
}

/* What virt_to_page() computes for any address: right for the linear map only. */
unsigned long xrs_kernel_virt_to_page_pfn(const void *addr)
{
	return page_to_pfn(virt_to_page(addr));
}

bool xrs_kernel_virt_addr_valid(const void *addr)
{
	return virt_addr_valid(addr);
}

bool xrs_kernel_is_vmalloc_addr(const void *addr)
{
	return is_vmalloc_addr(addr);
}

void *xrs_vmap(struct page **pages, unsigned int count)
{
	return vmap(pages, count, VM_MAP, PAGE_KERNEL);
}

void xrs_vunmap(const void *addr)
{
	vunmap(addr);
}

int xrs_get_order(unsigned long size)
{
	return get_order(size);
}

void xrs_core_test_skip(const char *reason)
{
	struct kunit *test = kunit_get_current_test();

	if (test)
		kunit_mark_skipped(test, "%s", reason);
}
