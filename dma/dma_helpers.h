/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations shared by dma_helpers.c and the Rust glue's extern block (glue/ffi.rs). */
#ifndef XRS_DMA_HELPERS_H
#define XRS_DMA_HELPERS_H

#include <linux/types.h>

struct xrs_virt_layout {
	unsigned long linear_start;
	unsigned long linear_end;
	u64 phys_offset;
	unsigned long vmalloc_start;
	unsigned long vmalloc_end;
};

struct device;
struct page;
struct platform_device;

unsigned long xrs_pfn_to_bfn(unsigned long xen_pfn);
unsigned long xrs_bfn_to_pfn(unsigned long bfn);
void xrs_virt_layout(struct xrs_virt_layout *l);
bool xrs_vmalloc_to_pfn(const void *addr, unsigned long *pfn);
u64 xrs_kernel_phys_to_dma(struct device *dev, u64 phys);
u64 xrs_kernel_dma_to_phys(struct device *dev, u64 dma);
bool xrs_kernel_dma_capable(struct device *dev, u64 dma, u64 size);
u64 xrs_kernel_bus_dma_limit(struct device *dev);
u64 xrs_kernel_virt_to_phys(const void *addr);
unsigned long xrs_kernel_virt_to_page_pfn(const void *addr);
bool xrs_kernel_virt_addr_valid(const void *addr);
bool xrs_kernel_is_vmalloc_addr(const void *addr);
u64 xrs_page_to_phys(struct page *page);
struct page *xrs_pfn_to_page(unsigned long pfn);
void *xrs_vmap(struct page **pages, unsigned int count);
void xrs_vunmap(const void *addr);
int xrs_get_order(unsigned long size);
struct platform_device *xrs_of_dma_device(const char *path);
struct device *xrs_platform_dev(struct platform_device *pdev);
const void *xrs_kernel_image_sample(u64 *phys);
u64 xrs_kernel_dma_range_map_min(struct device *dev);
bool xrs_kernel_dma_capable_mask(struct device *dev, u64 mask, u64 dma, u64 size);
void *xrs_kernel_phys_to_virt(u64 phys);

#endif
