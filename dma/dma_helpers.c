// SPDX-License-Identifier: GPL-2.0
/*
 * C side of the Rust dma/ glue.
 *
 * The kernel's address helpers are static inlines and macros (phys_to_dma, pfn_to_bfn,
 * virt_addr_valid, PAGE_OFFSET, ...) that Rust cannot call; each gets a one-line
 * out-of-line copy here, prefixed xrs_. The test fixture's device-tree plumbing, which
 * has no Rust abstraction, lives here too. Nothing here makes decisions: the logic is in
 * the Rust files beside it.
 */

#include <linux/dma-direct.h>
#include <linux/jiffies.h>
#include <linux/dma-map-ops.h>
#include <linux/mm.h>
#include <linux/of.h>
#include <linux/of_device.h>
#include <linux/platform_device.h>
#include <linux/vmalloc.h>
#include <xen/page.h>

#include "dma_helpers.h"

/* The Rust DmaRange reads dev->dma_range_map in place: same layout. */
static_assert(sizeof(struct bus_dma_region) == 24);
static_assert(offsetof(struct bus_dma_region, cpu_start) == 0);
static_assert(offsetof(struct bus_dma_region, dma_start) == 8);
static_assert(offsetof(struct bus_dma_region, size) == 16);

unsigned long xrs_pfn_to_bfn(unsigned long xen_pfn)
{
	return pfn_to_bfn(xen_pfn);
}

unsigned long xrs_bfn_to_pfn(unsigned long bfn)
{
	return bfn_to_pfn(bfn);
}

void xrs_virt_layout(struct xrs_virt_layout *l)
{
	l->linear_start = PAGE_OFFSET;
	l->linear_end = (unsigned long)high_memory;
	l->phys_offset = PHYS_OFFSET;
	l->vmalloc_start = VMALLOC_START;
	l->vmalloc_end = VMALLOC_END;
}

bool xrs_vmalloc_to_pfn(const void *addr, unsigned long *pfn)
{
	struct page *page = vmalloc_to_page(addr);

	if (!page)
		return false;
	*pfn = page_to_pfn(page);
	return true;
}

/* Reference answers from the kernel's own helpers, for the tests to compare against. */

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

u64 xrs_page_to_phys(struct page *page)
{
	return page_to_phys(page);
}

struct page *xrs_pfn_to_page(unsigned long pfn)
{
	return pfn_to_page(pfn);
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

/*
 * A platform device for the device-tree node at @path, with its DMA configured by the
 * kernel's OF code (of_dma_configure), as a driver's probe would see it.
 */
struct platform_device *xrs_of_dma_device(const char *path)
{
	struct device_node *np = of_find_node_by_path(path);
	struct platform_device *pdev;
	int ret;

	if (!np)
		return ERR_PTR(-ENOENT);
	pdev = platform_device_alloc("xrs-dma-test", PLATFORM_DEVID_AUTO);
	if (!pdev) {
		ret = -ENOMEM;
		goto put_node;
	}
	device_set_node(&pdev->dev, of_fwnode_handle(of_node_get(np)));
	ret = platform_device_add(pdev);
	if (ret)
		goto put_dev;
	ret = of_dma_configure(&pdev->dev, np, true);
	if (ret)
		goto del_dev;
	of_node_put(np);
	return pdev;

del_dev:
	platform_device_del(pdev);
put_dev:
	platform_device_put(pdev);
put_node:
	of_node_put(np);
	return ERR_PTR(ret);
}

struct device *xrs_platform_dev(struct platform_device *pdev)
{
	return &pdev->dev;
}
