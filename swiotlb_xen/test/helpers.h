/* SPDX-License-Identifier: GPL-2.0 */
/* The C helpers of the xen-swiotlb test module, for helpers.c and test/ffi.rs. */
#ifndef XRS_SWIOTLB_TEST_HELPERS_H
#define XRS_SWIOTLB_TEST_HELPERS_H

#include <linux/types.h>
#include <linux/dma-direction.h>

struct device;
struct module;
struct page;

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
u64 xrs_kernel_min_align_mask(struct device *dev);
void *xrs_test_ops_alloc(struct device *dev, size_t size, u64 *dma, gfp_t gfp);
void xrs_test_ops_free(struct device *dev, size_t size, void *vaddr, u64 dma);
void xrs_test_ops_sync(struct device *dev, u64 dma, size_t size,
		       enum dma_data_direction dir, bool for_cpu);
bool xrs_test_kernel_swiotlb(struct device *dev, u64 *start, u64 *end);
int xrs_test_driver_register(void);
void xrs_test_driver_unregister(void);
int xrs_test_bind(struct device *dev);
void xrs_test_unbind(struct device *dev);
void xrs_test_skip(const char *reason);
void xrs_test_module_going(struct module *mod, bool going);
const void *xrs_test_probe_ops(unsigned int *probes);
void *xrs_test_alloc_coherent(struct device *dev, size_t size, u64 *dma);
void xrs_test_free_coherent(struct device *dev, size_t size, void *vaddr, u64 dma);
int xrs_test_set_mask(struct device *dev, u64 mask);
size_t xrs_test_max_mapping_size(struct device *dev);
int xrs_test_mmap_coherent(struct device *dev, void *vaddr, u64 dma, size_t size,
			   unsigned long pgoff, size_t map_len, void *out);
int xrs_test_sgtable(struct device *dev, void *vaddr, u64 dma, size_t size, u64 *phys,
		     u32 *len);
void xrs_test_set_coherent(struct device *dev, bool coherent);
int xrs_module_refcount(struct module *mod);
bool xrs_swiotlb_kernel_vmalloc_to_pfn(const void *addr, unsigned long *pfn);
u64 xrs_swiotlb_kernel_virt_to_phys(const void *addr);
u64 xrs_swiotlb_kernel_bus_dma_limit(struct device *dev);
bool xrs_kernel_is_dma_coherent(struct device *dev);
u64 xrs_kernel_dma_mask(struct device *dev);
u64 xrs_bench_single(struct device *dev, phys_addr_t phys, size_t size,
		     enum dma_data_direction dir, unsigned int iters);
u64 xrs_bench_sg(struct device *dev, const u64 *phys, unsigned int n, u32 len,
		 unsigned int iters);

#endif
struct device *xrs_test_board_device(unsigned int i);
void xrs_test_put_device(struct device *dev);
