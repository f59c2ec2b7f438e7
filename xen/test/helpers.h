/* SPDX-License-Identifier: GPL-2.0 */
/* The kernel's own answers for the core's suites, for helpers.c and ffi.rs. */
#ifndef XRS_CORE_TEST_HELPERS_H
#define XRS_CORE_TEST_HELPERS_H

#include <linux/types.h>

struct device;
struct page;

unsigned long xrs_pfn_to_bfn(unsigned long xen_pfn);
unsigned long xrs_bfn_to_pfn(unsigned long bfn);
bool xrs_kernel_vmalloc_to_pfn(const void *addr, unsigned long *pfn);
u64 xrs_kernel_phys_to_dma(struct device *dev, u64 phys);
u64 xrs_kernel_dma_to_phys(struct device *dev, u64 dma);
bool xrs_kernel_dma_capable(struct device *dev, u64 dma, u64 size);
u64 xrs_kernel_bus_dma_limit(struct device *dev);
const void *xrs_kernel_image_sample(u64 *phys);
u64 xrs_kernel_dma_range_map_min(struct device *dev);
bool xrs_kernel_dma_capable_mask(struct device *dev, u64 mask, u64 dma, u64 size);
void *xrs_kernel_phys_to_virt(u64 phys);
u64 xrs_kernel_virt_to_phys(const void *addr);
unsigned long xrs_kernel_virt_to_page_pfn(const void *addr);
bool xrs_kernel_virt_addr_valid(const void *addr);
bool xrs_kernel_is_vmalloc_addr(const void *addr);
void *xrs_vmap(struct page **pages, unsigned int count);
void xrs_vunmap(const void *addr);
int xrs_get_order(unsigned long size);
void xrs_core_test_skip(const char *reason);

#endif
