/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by swiotlb_helpers.c and the Rust side (ffi.rs): the ops the Rust module
 * implements, and the C helpers it calls.
 */
#ifndef XRS_SWIOTLB_HELPERS_H
#define XRS_SWIOTLB_HELPERS_H

#include <linux/types.h>
#include <linux/dma-direction.h>

struct device;
struct page;

/* Implemented in Rust (ops.rs). */
dma_addr_t xrs_swiotlb_map_phys(struct device *dev, phys_addr_t phys, size_t size,
				enum dma_data_direction dir, unsigned long attrs);
bool xrs_swiotlb_unmap_phys(struct device *dev, dma_addr_t dma, size_t size,
			    enum dma_data_direction dir, unsigned long attrs);
void xrs_swiotlb_sync_for_cpu(struct device *dev, dma_addr_t dma, size_t size,
			      enum dma_data_direction dir);
void xrs_swiotlb_sync_for_device(struct device *dev, dma_addr_t dma, size_t size,
				 enum dma_data_direction dir);
int xrs_swiotlb_dma_supported(struct device *dev, u64 mask);
size_t xrs_swiotlb_max_mapping_size(struct device *dev);
void *xrs_swiotlb_alloc(struct device *dev, size_t size, dma_addr_t *dma, gfp_t gfp,
			unsigned long attrs);
bool xrs_swiotlb_free(struct device *dev, size_t size, void *vaddr, dma_addr_t dma,
		      unsigned long attrs);
int xrs_swiotlb_sgtable_pfn(struct device *dev, void *vaddr, dma_addr_t dma,
			    unsigned long *pfn);
int xrs_swiotlb_mmap_pfn(struct device *dev, void *vaddr, dma_addr_t dma, size_t size,
			 unsigned long pgoff, unsigned long user_pages, unsigned long *pfn);
struct page *xrs_swiotlb_alloc_pages(struct device *dev, size_t size, dma_addr_t *dma,
				     enum dma_data_direction dir, gfp_t gfp);
bool xrs_swiotlb_free_pages(struct device *dev, size_t size, struct page *page,
			    dma_addr_t dma, enum dma_data_direction dir);

/* C helpers. */
const void *xrs_swiotlb_ops(void);
const void *xrs_get_dma_ops(struct device *dev);
void xrs_set_dma_ops(struct device *dev, const void *ops);
struct device *xrs_find_platform_device(const char *name);
struct device *xrs_get_device(struct device *dev);
void xrs_put_device(struct device *dev);
const char *xrs_dev_name(struct device *dev);
const char *xrs_devices_param(void);
bool xrs_dev_is_dma_coherent(struct device *dev);
u64 xrs_dev_dma_mask(struct device *dev);
u64 xrs_dev_coherent_dma_mask(struct device *dev);
u64 xrs_dev_min_align_mask(struct device *dev);
bool xrs_dma_kmalloc_needs_bounce(struct device *dev, size_t size,
				  enum dma_data_direction dir);
void xrs_copy_phys(phys_addr_t dst, phys_addr_t src, size_t len);
void xrs_dcache_for_device(phys_addr_t phys, size_t size, enum dma_data_direction dir);
void xrs_dcache_for_cpu(phys_addr_t phys, size_t size, enum dma_data_direction dir);
int xrs_xen_cache_flush(u64 page, u16 off, u16 len, u32 op);
bool xrs_pfn_valid(unsigned long pfn);
bool xrs_xen_has_cache_flush(void);
struct page *xrs_alloc_pages(gfp_t gfp, unsigned int order);
void xrs_free_pages(struct page *page, unsigned int order);
void *xrs_page_address(struct page *page);
void *xrs_remap_uncached(struct page *page, unsigned int order);
void *xrs_phys_to_virt(phys_addr_t phys);
void xrs_cache_init(void);
void xrs_synchronize_rcu(void);

/* For the KUnit suites. */
u64 xrs_test_map(struct device *dev, phys_addr_t phys, size_t size,
		 enum dma_data_direction dir);
void xrs_test_unmap(struct device *dev, u64 dma, size_t size, enum dma_data_direction dir);
void xrs_test_sync_for_cpu(struct device *dev, u64 dma, size_t size,
			   enum dma_data_direction dir);
void xrs_test_sync_for_device(struct device *dev, u64 dma, size_t size,
			      enum dma_data_direction dir);
void *xrs_test_map_sg(struct device *dev, const u64 *phys, const u32 *len, unsigned int n,
		      enum dma_data_direction dir, unsigned long attrs, u64 *dma);
void xrs_test_unmap_sg(struct device *dev, void *handle, enum dma_data_direction dir,
		       unsigned long attrs);
void xrs_test_sync_sg(struct device *dev, void *handle, enum dma_data_direction dir,
		      bool for_cpu);
u64 xrs_test_map_attrs(struct device *dev, phys_addr_t phys, size_t size,
		       enum dma_data_direction dir, unsigned long attrs);
void xrs_test_unmap_attrs(struct device *dev, u64 dma, size_t size,
			  enum dma_data_direction dir, unsigned long attrs);
u64 xrs_test_map_resource(struct device *dev, phys_addr_t phys, size_t size,
			  enum dma_data_direction dir);
void xrs_test_unmap_resource(struct device *dev, u64 dma, size_t size,
			     enum dma_data_direction dir);
void *xrs_test_alloc_attrs(struct device *dev, size_t size, u64 *dma, gfp_t gfp,
			   unsigned long attrs);
void xrs_test_free_attrs(struct device *dev, size_t size, void *vaddr, u64 dma,
			 unsigned long attrs);
struct page *xrs_test_alloc_pages(struct device *dev, size_t size, u64 *dma,
				  enum dma_data_direction dir);
void xrs_test_free_pages(struct device *dev, size_t size, struct page *page, u64 dma,
			 enum dma_data_direction dir);
void *xrs_test_alloc_noncoherent(struct device *dev, size_t size, u64 *dma,
				 enum dma_data_direction dir);
void xrs_test_free_noncoherent(struct device *dev, size_t size, void *vaddr, u64 dma,
			       enum dma_data_direction dir);
void xrs_test_set_min_align_mask(struct device *dev, unsigned int mask);
void xrs_test_set_seg_boundary(struct device *dev, unsigned long mask);
u64 xrs_kernel_seg_boundary(struct device *dev);
void *xrs_test_ops_alloc(struct device *dev, size_t size, u64 *dma, gfp_t gfp);
void xrs_test_ops_free(struct device *dev, size_t size, void *vaddr, u64 dma);
void xrs_test_ops_sync(struct device *dev, u64 dma, size_t size,
		       enum dma_data_direction dir, bool for_cpu);
bool xrs_test_kernel_swiotlb(struct device *dev, u64 *start, u64 *end);
int xrs_test_driver_register(void);
void xrs_test_driver_unregister(void);
int xrs_test_bind(struct device *dev);
void xrs_test_unbind(struct device *dev);
const void *xrs_test_probe_ops(unsigned int *probes);
void xrs_test_skip(const char *reason);
bool xrs_xen_domain(void);
void xrs_test_module_going(bool going);
void *xrs_test_alloc_coherent(struct device *dev, size_t size, u64 *dma);
void xrs_test_free_coherent(struct device *dev, size_t size, void *vaddr, u64 dma);
int xrs_test_set_mask(struct device *dev, u64 mask);
void xrs_test_set_coherent(struct device *dev, bool coherent);
int xrs_test_mmap_coherent(struct device *dev, void *vaddr, u64 dma, size_t size,
			   unsigned long pgoff, size_t map_len, void *out);
int xrs_test_sgtable(struct device *dev, void *vaddr, u64 dma, size_t size, u64 *phys,
		     u32 *len);
size_t xrs_test_max_mapping_size(struct device *dev);
int xrs_module_refcount(void);
u64 xrs_bench_single(struct device *dev, phys_addr_t phys, size_t size,
		     enum dma_data_direction dir, unsigned int iters);
u64 xrs_bench_sg(struct device *dev, const u64 *phys, unsigned int n, u32 len,
		 unsigned int iters);

#endif
