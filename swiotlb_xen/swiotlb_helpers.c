// SPDX-License-Identifier: GPL-2.0
/*
 * C side of the Rust xen-swiotlb.
 *
 * struct dma_map_ops is opaque to Rust, so the ops table lives here and points at the
 * Rust functions of ops.rs; scatterlist walks (for_each_sg is a macro) are plain loops
 * over those functions; the coherent-buffer entry points ask Rust for the pages and
 * build the sg_table or user mapping with the kernel's helpers. The rest are one-line
 * copies of kernel inlines and the arm64 cache maintenance that arch code does not
 * export. What to map where is decided in Rust; C only refuses what it cannot serve (a
 * device's own coherent pool) and keeps C's pfn_valid() test for a possibly foreign
 * page's cache maintenance.
 */

#include <kunit/test.h>
#include <kunit/test-bug.h>
#include <linux/device.h>
#include <linux/dma-map-ops.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/platform_device.h>
#include <linux/rcupdate.h>
#include <linux/timekeeping.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>
#include <linux/vmalloc.h>
#include <linux/scatterlist.h>
#include <asm/cacheflush.h>
#include <asm/cpufeature.h>
#include <asm/cputype.h>
#include <xen/interface/grant_table.h>
#include <xen/page.h>
#include <xen/xen.h>
#include <asm/xen/hypercall.h>

#include "swiotlb_helpers.h"

static char devices[256];
module_param_string(devices, devices, sizeof(devices), 0444);
MODULE_PARM_DESC(devices, "Comma-separated platform device names to attach the Rust ops to");

const char *xrs_devices_param(void)
{
	return devices;
}

/*
 * Entry points. The Rust functions run under rcu_read_lock() so that module exit,
 * after restoring every device's ops, can wait for callers still inside with
 * synchronize_rcu(). Every live mapping or coherent allocation holds a module
 * reference, taken and dropped here inside that section, so that rmmod is refused while
 * a device could still hand a handle back. Coherent allocation may sleep: it holds a
 * module reference instead of the RCU section.
 */
static dma_addr_t xrs_map_phys(struct device *dev, phys_addr_t phys, size_t size,
			       enum dma_data_direction dir, unsigned long attrs)
{
	dma_addr_t ret = DMA_MAPPING_ERROR;

	rcu_read_lock();
	/*
	 * The reference first: once rmmod has found the count at zero, try_module_get()
	 * fails and so does the mapping, where taking the reference after mapping would
	 * leave a live bounce behind a module that is going away.
	 */
	if (try_module_get(THIS_MODULE)) {
		ret = xrs_swiotlb_map_phys(dev, phys, size, dir, attrs);
		if (ret == DMA_MAPPING_ERROR)
			module_put(THIS_MODULE);
	}
	rcu_read_unlock();
	return ret;
}

static void xrs_unmap_phys(struct device *dev, dma_addr_t dma, size_t size,
			   enum dma_data_direction dir, unsigned long attrs)
{
	rcu_read_lock();
	if (xrs_swiotlb_unmap_phys(dev, dma, size, dir, attrs))
		module_put(THIS_MODULE);
	rcu_read_unlock();
}

static void xrs_sync_for_cpu(struct device *dev, dma_addr_t dma, size_t size,
			     enum dma_data_direction dir)
{
	rcu_read_lock();
	xrs_swiotlb_sync_for_cpu(dev, dma, size, dir);
	rcu_read_unlock();
}

static void xrs_sync_for_device(struct device *dev, dma_addr_t dma, size_t size,
				enum dma_data_direction dir)
{
	rcu_read_lock();
	xrs_swiotlb_sync_for_device(dev, dma, size, dir);
	rcu_read_unlock();
}

static int xrs_dma_supported(struct device *dev, u64 mask)
{
	int ret;

	rcu_read_lock();
	ret = xrs_swiotlb_dma_supported(dev, mask);
	rcu_read_unlock();
	return ret;
}

static size_t xrs_max_mapping_size(struct device *dev)
{
	size_t ret;

	rcu_read_lock();
	ret = xrs_swiotlb_max_mapping_size(dev);
	rcu_read_unlock();
	return ret;
}

static void *xrs_alloc(struct device *dev, size_t size, dma_addr_t *dma, gfp_t gfp,
		       unsigned long attrs)
{
	void *ret;

	if (!try_module_get(THIS_MODULE))
		return NULL;
	ret = xrs_swiotlb_alloc(dev, size, dma, gfp, attrs);
	/* On success the reference stays with the allocation. */
	if (!ret)
		module_put(THIS_MODULE);
	return ret;
}

static void xrs_free(struct device *dev, size_t size, void *vaddr, dma_addr_t dma,
		     unsigned long attrs)
{
	/* The allocation holds a module reference: the module is alive. */
	if (xrs_swiotlb_free(dev, size, vaddr, dma, attrs))
		module_put(THIS_MODULE);
}

static struct page *xrs_alloc_pages_op(struct device *dev, size_t size, dma_addr_t *dma,
				       enum dma_data_direction dir, gfp_t gfp)
{
	struct page *page;

	if (!try_module_get(THIS_MODULE))
		return NULL;
	page = xrs_swiotlb_alloc_pages(dev, size, dma, dir, gfp);
	/* On success the reference stays with the allocation. */
	if (!page)
		module_put(THIS_MODULE);
	return page;
}

static void xrs_free_pages_op(struct device *dev, size_t size, struct page *page,
			      dma_addr_t dma, enum dma_data_direction dir)
{
	/* The allocation holds a module reference: the module is alive. */
	if (xrs_swiotlb_free_pages(dev, size, page, dma, dir))
		module_put(THIS_MODULE);
}

/*
 * A device with its own coherent pool (reserved-memory "shared-dma-pool") gets its
 * coherent buffers from that pool before the ops are asked; the helpers that map such
 * a buffer (dma_mmap_from_dev_coherent) are not exported, so those buffers are refused.
 */
static bool xrs_has_dev_coherent_pool(struct device *dev)
{
#ifdef CONFIG_DMA_DECLARE_COHERENT
	return dev->dma_mem;
#else
	return false;
#endif
}

/* dma_common_get_sgtable(), with the buffer's pages found and checked in Rust. */
static int xrs_get_sgtable(struct device *dev, struct sg_table *sgt, void *cpu_addr,
			   dma_addr_t dma, size_t size, unsigned long attrs)
{
	unsigned long pfn;
	int ret;

	if (xrs_has_dev_coherent_pool(dev))
		return -ENXIO;
	rcu_read_lock();
	ret = xrs_swiotlb_sgtable_pfn(dev, cpu_addr, dma, &pfn);
	rcu_read_unlock();
	if (ret)
		return ret;
	ret = sg_alloc_table(sgt, 1, GFP_KERNEL);
	if (!ret)
		sg_set_page(sgt->sgl, pfn_to_page(pfn), PAGE_ALIGN(size), 0);
	return ret;
}

/* The page protection of a user mapping of a coherent buffer, as dma_pgprot(). */
static pgprot_t xrs_pgprot(struct device *dev, pgprot_t prot, unsigned long attrs)
{
	if (dev_is_dma_coherent(dev))
		return prot;
	if (attrs & DMA_ATTR_WRITE_COMBINE)
		return pgprot_writecombine(prot);
	return pgprot_dmacoherent(prot);
}

/* dma_common_mmap(), with the window checked and the pages found in Rust. */
static int xrs_mmap(struct device *dev, struct vm_area_struct *vma, void *cpu_addr,
		    dma_addr_t dma, size_t size, unsigned long attrs)
{
	unsigned long pfn;
	int ret;

	if (xrs_has_dev_coherent_pool(dev))
		return -ENXIO;
	rcu_read_lock();
	ret = xrs_swiotlb_mmap_pfn(dev, cpu_addr, dma, size, vma_start_pgoff(vma),
				   vma_pages(vma), &pfn);
	rcu_read_unlock();
	if (ret)
		return ret;
	vma->vm_page_prot = xrs_pgprot(dev, vma->vm_page_prot, attrs);
	return remap_pfn_range(vma, vma->vm_start, pfn, vma->vm_end - vma->vm_start,
			       vma->vm_page_prot);
}

static void xrs_unmap_sg(struct device *dev, struct scatterlist *sgl, int nents,
			 enum dma_data_direction dir, unsigned long attrs)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i)
		xrs_unmap_phys(dev, sg->dma_address, sg_dma_len(sg), dir, attrs);
}

static int xrs_map_sg(struct device *dev, struct scatterlist *sgl, int nents,
		      enum dma_data_direction dir, unsigned long attrs)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i) {
		sg->dma_address = xrs_map_phys(dev, sg_phys(sg), sg->length, dir, attrs);
		if (sg->dma_address == DMA_MAPPING_ERROR) {
			xrs_unmap_sg(dev, sgl, i, dir, attrs | DMA_ATTR_SKIP_CPU_SYNC);
			sg_dma_len(sgl) = 0;
			return -EIO;
		}
		sg_dma_len(sg) = sg->length;
	}
	return nents;
}

static void xrs_sync_sg_for_cpu(struct device *dev, struct scatterlist *sgl, int nents,
				enum dma_data_direction dir)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i)
		xrs_sync_for_cpu(dev, sg->dma_address, sg->length, dir);
}

static void xrs_sync_sg_for_device(struct device *dev, struct scatterlist *sgl, int nents,
				   enum dma_data_direction dir)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i)
		xrs_sync_for_device(dev, sg->dma_address, sg->length, dir);
}

static const struct dma_map_ops xrs_ops = {
	.alloc = xrs_alloc,
	.free = xrs_free,
	.alloc_pages_op = xrs_alloc_pages_op,
	.free_pages = xrs_free_pages_op,
	.map_phys = xrs_map_phys,
	.unmap_phys = xrs_unmap_phys,
	.map_sg = xrs_map_sg,
	.unmap_sg = xrs_unmap_sg,
	.sync_single_for_cpu = xrs_sync_for_cpu,
	.sync_single_for_device = xrs_sync_for_device,
	.sync_sg_for_cpu = xrs_sync_sg_for_cpu,
	.sync_sg_for_device = xrs_sync_sg_for_device,
	.get_sgtable = xrs_get_sgtable,
	.mmap = xrs_mmap,
	.dma_supported = xrs_dma_supported,
	.max_mapping_size = xrs_max_mapping_size,
};

void xrs_synchronize_rcu(void)
{
	synchronize_rcu();
}

const void *xrs_swiotlb_ops(void)
{
	return &xrs_ops;
}

const void *xrs_get_dma_ops(struct device *dev)
{
	return dev->dma_ops;
}

void xrs_set_dma_ops(struct device *dev, const void *ops)
{
	set_dma_ops(dev, ops);
	/* Our sync callbacks must run even where dma-direct skipped syncs. */
	dev_clear_dma_skip_sync(dev);
}

struct device *xrs_find_platform_device(const char *name)
{
	return bus_find_device_by_name(&platform_bus_type, NULL, name);
}

struct device *xrs_get_device(struct device *dev)
{
	return get_device(dev);
}

void xrs_put_device(struct device *dev)
{
	put_device(dev);
}

const char *xrs_dev_name(struct device *dev)
{
	return dev_name(dev);
}

bool xrs_dev_is_dma_coherent(struct device *dev)
{
	return dev_is_dma_coherent(dev);
}

u64 xrs_dev_dma_mask(struct device *dev)
{
	return dev->dma_mask ? *dev->dma_mask : 0;
}

u64 xrs_dev_coherent_dma_mask(struct device *dev)
{
	return dev->coherent_dma_mask;
}

u64 xrs_dev_min_align_mask(struct device *dev)
{
	return dma_get_min_align_mask(dev);
}

bool xrs_dma_kmalloc_needs_bounce(struct device *dev, size_t size,
				  enum dma_data_direction dir)
{
	return dma_kmalloc_needs_bounce(dev, size, dir);
}

/* Bounce copy between two ranges of local RAM (both linear-mapped on arm64). */
void xrs_copy_phys(phys_addr_t dst, phys_addr_t src, size_t len)
{
	memcpy(phys_to_virt(dst), phys_to_virt(src), len);
}

/*
 * arm64 cache maintenance by VA to the point of coherency, as arch_sync_dma_for_device
 * and arch_sync_dma_for_cpu do (neither is exported): clean before the device reads,
 * invalidate before the CPU reads what the device wrote.
 */
/* The smallest D-cache line of the system (CTR_EL0.DminLine), read at module load. */
static u64 xrs_dcache_line __ro_after_init;

void xrs_cache_init(void)
{
	xrs_dcache_line = 4 << ((read_sanitised_ftr_reg(SYS_CTR_EL0) >> 16) & 0xf);
}

static void xrs_dcache_op(phys_addr_t phys, size_t size, bool clean_only)
{
	u64 line = xrs_dcache_line;
	unsigned long start = (unsigned long)phys_to_virt(phys) & ~(line - 1);
	unsigned long end = (unsigned long)phys_to_virt(phys) + size;

	if (!size)
		return;
	/*
	 * Four instructions a line, as the kernel's dcache_by_line_op; clean+invalidate
	 * stands in for invalidate: it never drops a dirty neighbour.
	 */
	if (clean_only)
		asm volatile("1:	dc	cvac, %0\n"
			     "	add	%0, %0, %2\n"
			     "	cmp	%0, %1\n"
			     "	b.lo	1b\n"
			     : "+r"(start) : "r"(end), "r"(line) : "cc", "memory");
	else
		asm volatile("1:	dc	civac, %0\n"
			     "	add	%0, %0, %2\n"
			     "	cmp	%0, %1\n"
			     "	b.lo	1b\n"
			     : "+r"(start) : "r"(end), "r"(line) : "cc", "memory");
	dsb(sy);
}

/* One GNTTABOP_cache_flush entry: @len bytes at @off into the Xen page at @page. */
int xrs_xen_cache_flush(u64 page, u16 off, u16 len, u32 op)
{
	struct gnttab_cache_flush cflush = { 0 };

	cflush.a.dev_bus_addr = page;
	cflush.offset = off;
	cflush.length = len;
	cflush.op = op;
	return HYPERVISOR_grant_table_op(GNTTABOP_cache_flush, &cflush, 1);
}

bool xrs_pfn_valid(unsigned long pfn)
{
	return pfn_valid(pfn);
}

/* Cache maintenance by VA of Dom0's own RAM, for a non-coherent device. */
void xrs_dcache_for_device(phys_addr_t phys, size_t size, enum dma_data_direction dir)
{
	xrs_dcache_op(phys, size, dir != DMA_FROM_DEVICE);
}

void xrs_dcache_for_cpu(phys_addr_t phys, size_t size, enum dma_data_direction dir)
{
	if (dir != DMA_TO_DEVICE)
		xrs_dcache_op(phys, size, false);
}

/* Xen's own ENOSYS (xen/include/public/errno.h): the hypervisor lacks the operation. */
#define XRS_XEN_ENOSYS 38

/* Whether Xen implements GNTTABOP_cache_flush, probed as arch/arm/xen/mm.c does. */
bool xrs_xen_has_cache_flush(void)
{
	struct gnttab_cache_flush cflush = { 0 };

	if (!xen_domain())
		return false;
	return HYPERVISOR_grant_table_op(GNTTABOP_cache_flush, &cflush, 1) != -XRS_XEN_ENOSYS;
}

struct page *xrs_alloc_pages(gfp_t gfp, unsigned int order)
{
	return alloc_pages(gfp, order);
}

void xrs_free_pages(struct page *page, unsigned int order)
{
	__free_pages(page, order);
}

void *xrs_page_address(struct page *page)
{
	return page_address(page);
}

/*
 * An uncached kernel mapping of 1 << order pages, for non-coherent devices; the linear
 * alias is cleaned and invalidated. May sleep.
 */
void *xrs_remap_uncached(struct page *page, unsigned int order)
{
	unsigned int i, count = 1U << order;
	struct page **pages;
	void *vaddr;

	pages = kmalloc_array(count, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return NULL;
	for (i = 0; i < count; i++)
		pages[i] = page + i;
	vaddr = vmap(pages, count, VM_MAP, pgprot_dmacoherent(PAGE_KERNEL));
	kfree(pages);
	if (vaddr)
		xrs_dcache_op(page_to_phys(page), PAGE_SIZE << order, false);
	return vaddr;
}

void *xrs_phys_to_virt(phys_addr_t phys)
{
	return phys_to_virt(phys);
}

#if IS_ENABLED(CONFIG_KUNIT)
/*
 * For the KUnit suites: the DMA API as a driver calls it (so that DMA_API_DEBUG checks
 * every use), and module reference counts.
 */

u64 xrs_test_map(struct device *dev, phys_addr_t phys, size_t size,
		 enum dma_data_direction dir)
{
	dma_addr_t dma = dma_map_phys(dev, phys, size, dir, 0);

	return dma_mapping_error(dev, dma) ? DMA_MAPPING_ERROR : dma;
}

void xrs_test_unmap(struct device *dev, u64 dma, size_t size, enum dma_data_direction dir)
{
	dma_unmap_phys(dev, dma, size, dir, 0);
}

void xrs_test_sync_for_cpu(struct device *dev, u64 dma, size_t size,
			   enum dma_data_direction dir)
{
	dma_sync_single_for_cpu(dev, dma, size, dir);
}

void xrs_test_sync_for_device(struct device *dev, u64 dma, size_t size,
			      enum dma_data_direction dir)
{
	dma_sync_single_for_device(dev, dma, size, dir);
}

struct xrs_test_sg {
	unsigned int n;
	struct scatterlist sg[];
};

/* Maps @n physical ranges as one scatterlist; their bus addresses go to @dma. */
void *xrs_test_map_sg(struct device *dev, const u64 *phys, const u32 *len, unsigned int n,
		      enum dma_data_direction dir, unsigned long attrs, u64 *dma)
{
	struct xrs_test_sg *t = kzalloc(struct_size(t, sg, n), GFP_KERNEL);
	struct scatterlist *sg;
	unsigned int i;
	int mapped;

	if (!t)
		return NULL;
	t->n = n;
	sg_init_table(t->sg, n);
	for_each_sg(t->sg, sg, n, i)
		sg_set_page(sg, pfn_to_page(PHYS_PFN(phys[i])), len[i], offset_in_page(phys[i]));
	mapped = dma_map_sg_attrs(dev, t->sg, n, dir, attrs);
	if (mapped != n) {
		if (mapped > 0)
			dma_unmap_sg_attrs(dev, t->sg, n, dir, attrs);
		kfree(t);
		return NULL;
	}
	for_each_sg(t->sg, sg, n, i)
		dma[i] = sg_dma_address(sg);
	return t;
}

void xrs_test_unmap_sg(struct device *dev, void *handle, enum dma_data_direction dir,
		       unsigned long attrs)
{
	struct xrs_test_sg *t = handle;

	dma_unmap_sg_attrs(dev, t->sg, t->n, dir, attrs);
	kfree(t);
}

void xrs_test_sync_sg(struct device *dev, void *handle, enum dma_data_direction dir,
		      bool for_cpu)
{
	struct xrs_test_sg *t = handle;

	if (for_cpu)
		dma_sync_sg_for_cpu(dev, t->sg, t->n, dir);
	else
		dma_sync_sg_for_device(dev, t->sg, t->n, dir);
}

u64 xrs_test_map_attrs(struct device *dev, phys_addr_t phys, size_t size,
		       enum dma_data_direction dir, unsigned long attrs)
{
	dma_addr_t dma = dma_map_phys(dev, phys, size, dir, attrs);

	return dma_mapping_error(dev, dma) ? DMA_MAPPING_ERROR : dma;
}

void xrs_test_unmap_attrs(struct device *dev, u64 dma, size_t size,
			  enum dma_data_direction dir, unsigned long attrs)
{
	dma_unmap_phys(dev, dma, size, dir, attrs);
}

u64 xrs_test_map_resource(struct device *dev, phys_addr_t phys, size_t size,
			  enum dma_data_direction dir)
{
	dma_addr_t dma = dma_map_resource(dev, phys, size, dir, 0);

	return dma_mapping_error(dev, dma) ? DMA_MAPPING_ERROR : dma;
}

void xrs_test_unmap_resource(struct device *dev, u64 dma, size_t size,
			     enum dma_data_direction dir)
{
	dma_unmap_resource(dev, dma, size, dir, 0);
}

void *xrs_test_alloc_attrs(struct device *dev, size_t size, u64 *dma, gfp_t gfp,
			   unsigned long attrs)
{
	dma_addr_t handle = DMA_MAPPING_ERROR;
	void *vaddr = dma_alloc_attrs(dev, size, &handle, gfp, attrs);

	*dma = handle;
	return vaddr;
}

void xrs_test_free_attrs(struct device *dev, size_t size, void *vaddr, u64 dma,
			 unsigned long attrs)
{
	dma_free_attrs(dev, size, vaddr, dma, attrs);
}

struct page *xrs_test_alloc_pages(struct device *dev, size_t size, u64 *dma,
				  enum dma_data_direction dir)
{
	dma_addr_t handle = DMA_MAPPING_ERROR;
	struct page *page = dma_alloc_pages(dev, size, &handle, dir, GFP_KERNEL);

	*dma = handle;
	return page;
}

void xrs_test_free_pages(struct device *dev, size_t size, struct page *page, u64 dma,
			 enum dma_data_direction dir)
{
	dma_free_pages(dev, size, page, dma, dir);
}

void *xrs_test_alloc_noncoherent(struct device *dev, size_t size, u64 *dma,
				 enum dma_data_direction dir)
{
	dma_addr_t handle = DMA_MAPPING_ERROR;
	void *vaddr = dma_alloc_noncoherent(dev, size, &handle, dir, GFP_KERNEL);

	*dma = handle;
	return vaddr;
}

void xrs_test_free_noncoherent(struct device *dev, size_t size, void *vaddr, u64 dma,
			       enum dma_data_direction dir)
{
	dma_free_noncoherent(dev, size, vaddr, dma, dir);
}

void xrs_test_set_min_align_mask(struct device *dev, unsigned int mask)
{
	dma_set_min_align_mask(dev, mask);
}

void xrs_test_set_seg_boundary(struct device *dev, unsigned long mask)
{
	dma_set_seg_boundary(dev, mask);
}

u64 xrs_kernel_seg_boundary(struct device *dev)
{
	return dma_get_seg_boundary(dev);
}

/*
 * The device's ops called directly, without the DMA API's debug checks: for what a
 * buggy driver passes and dma-debug would report first (a sync past the mapping), and
 * for pointers the DMA API's bookkeeping cannot follow (a tagged pointer).
 */
void *xrs_test_ops_alloc(struct device *dev, size_t size, u64 *dma, gfp_t gfp)
{
	const struct dma_map_ops *ops = get_dma_ops(dev);
	dma_addr_t handle = DMA_MAPPING_ERROR;
	void *vaddr;

	if (!ops || !ops->alloc)
		return NULL;
	vaddr = ops->alloc(dev, size, &handle, gfp, 0);
	*dma = handle;
	return vaddr;
}

void xrs_test_ops_free(struct device *dev, size_t size, void *vaddr, u64 dma)
{
	const struct dma_map_ops *ops = get_dma_ops(dev);

	if (ops && ops->free)
		ops->free(dev, size, vaddr, dma, 0);
}

void xrs_test_ops_sync(struct device *dev, u64 dma, size_t size,
		       enum dma_data_direction dir, bool for_cpu)
{
	const struct dma_map_ops *ops = get_dma_ops(dev);

	if (!ops)
		return;
	if (for_cpu && ops->sync_single_for_cpu)
		ops->sync_single_for_cpu(dev, dma, size, dir);
	else if (!for_cpu && ops->sync_single_for_device)
		ops->sync_single_for_device(dev, dma, size, dir);
}

/* Where the kernel's own swiotlb pool of @dev lies; false without one. */
bool xrs_test_kernel_swiotlb(struct device *dev, u64 *start, u64 *end)
{
#ifdef CONFIG_SWIOTLB
	struct io_tlb_mem *mem = dev->dma_io_tlb_mem;

	if (!mem || !mem->nslabs)
		return false;
	*start = mem->defpool.start;
	*end = mem->defpool.end;
	return true;
#else
	return false;
#endif
}

/*
 * A platform driver that binds only when told to (its name matches no device), and
 * remembers which DMA ops its probe saw: for the attach-survives-bind tests.
 */
static const void *xrs_test_seen_ops;
static unsigned int xrs_test_probes;

static int xrs_test_probe(struct platform_device *pdev)
{
	xrs_test_seen_ops = get_dma_ops(&pdev->dev);
	xrs_test_probes++;
	return 0;
}

static struct platform_driver xrs_test_driver = {
	.probe = xrs_test_probe,
	.driver = {
		.name = "xrs-test-bind",
	},
};

int xrs_test_driver_register(void)
{
	return platform_driver_register(&xrs_test_driver);
}

void xrs_test_driver_unregister(void)
{
	platform_driver_unregister(&xrs_test_driver);
}

/* Binds the test driver to @dev: 0, or the probe's errno. */
int xrs_test_bind(struct device *dev)
{
	int ret = device_driver_attach(&xrs_test_driver.driver, dev);

	return ret > 0 ? -ret : ret;
}

void xrs_test_unbind(struct device *dev)
{
	device_release_driver(dev);
}

/* Marks the running KUnit case skipped, with @reason (a NUL-terminated string). */
void xrs_test_skip(const char *reason)
{
	struct kunit *test = kunit_get_current_test();

	if (test)
		kunit_mark_skipped(test, "%s", reason);
}

bool xrs_xen_domain(void)
{
	return xen_domain();
}

/*
 * Pretends, or stops pretending, that rmmod has passed its reference check and the
 * module is going away (module_is_live() is false then): for the test of the map path's
 * reference, which must fail rather than map then.
 */
void xrs_test_module_going(bool going)
{
	THIS_MODULE->state = going ? MODULE_STATE_GOING : MODULE_STATE_LIVE;
}

/* The ops the test driver's last probe saw, and how many probes ran. */
const void *xrs_test_probe_ops(unsigned int *probes)
{
	*probes = xrs_test_probes;
	return xrs_test_seen_ops;
}

void *xrs_test_alloc_coherent(struct device *dev, size_t size, u64 *dma)
{
	dma_addr_t handle;
	void *vaddr = dma_alloc_coherent(dev, size, &handle, GFP_KERNEL);

	*dma = handle;
	return vaddr;
}

void xrs_test_free_coherent(struct device *dev, size_t size, void *vaddr, u64 dma)
{
	dma_free_coherent(dev, size, vaddr, dma);
}

int xrs_test_set_mask(struct device *dev, u64 mask)
{
	return dma_set_mask(dev, mask);
}

size_t xrs_test_max_mapping_size(struct device *dev)
{
	return dma_max_mapping_size(dev);
}

/*
 * dma_mmap_coherent() of a coherent buffer into a fresh shared user mapping of
 * @map_len bytes at page offset @pgoff, in this test's own mm; then copies what user
 * space sees there into @out and unmaps. 0, or the errno of the first step that failed.
 */
int xrs_test_mmap_coherent(struct device *dev, void *vaddr, u64 dma, size_t size,
			   unsigned long pgoff, size_t map_len, void *out)
{
	struct kunit *test = kunit_get_current_test();
	struct vm_area_struct *vma;
	unsigned long uaddr;
	int ret = -ENOENT;

	if (!test)
		return -EINVAL;
	uaddr = kunit_vm_mmap(test, NULL, 0, map_len, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, 0);
	if (!uaddr || IS_ERR_VALUE(uaddr))
		return -ENOMEM;
	mmap_write_lock(current->mm);
	vma = find_vma(current->mm, uaddr);
	if (vma && vma->vm_start == uaddr) {
		/* A shared anonymous mapping starts at offset 0: ask for @pgoff. */
		vma->vm_pgoff = pgoff;
		ret = dma_mmap_coherent(dev, vma, vaddr, dma, size);
	}
	mmap_write_unlock(current->mm);
	if (!ret && copy_from_user(out, (const void __user *)uaddr, map_len))
		ret = -EFAULT;
	vm_munmap(uaddr, map_len);
	return ret;
}

/* dma_get_sgtable(): the physical address and length of its single entry. */
int xrs_test_sgtable(struct device *dev, void *vaddr, u64 dma, size_t size, u64 *phys,
		     u32 *len)
{
	struct sg_table sgt;
	int ret = dma_get_sgtable(dev, &sgt, vaddr, dma, size);

	if (ret)
		return ret;
	if (sgt.orig_nents != 1) {
		sg_free_table(&sgt);
		return -E2BIG;
	}
	*phys = sg_phys(sgt.sgl);
	*len = sgt.sgl->length;
	sg_free_table(&sgt);
	return 0;
}

void xrs_test_set_coherent(struct device *dev, bool coherent)
{
	dev_assign_dma_coherent(dev, coherent);
}

int xrs_module_refcount(void)
{
	return module_refcount(THIS_MODULE);
}

/*
 * Benchmark loops (bench.rs): @iters map+unmap pairs through the DMA API, whatever ops
 * the device has. Return the elapsed nanoseconds, U64_MAX if a mapping failed.
 */
u64 xrs_bench_single(struct device *dev, phys_addr_t phys, size_t size,
		     enum dma_data_direction dir, unsigned int iters)
{
	u64 start = ktime_get_ns();
	unsigned int i;

	for (i = 0; i < iters; i++) {
		dma_addr_t dma = dma_map_phys(dev, phys, size, dir, 0);

		if (dma_mapping_error(dev, dma))
			return U64_MAX;
		dma_unmap_phys(dev, dma, size, dir, 0);
	}
	return ktime_get_ns() - start;
}

u64 xrs_bench_sg(struct device *dev, const u64 *phys, unsigned int n, u32 len,
		 unsigned int iters)
{
	struct scatterlist *sgl = kmalloc_array(n, sizeof(*sgl), GFP_KERNEL);
	struct scatterlist *sg;
	u64 start, ret;
	unsigned int i;

	if (!sgl)
		return U64_MAX;
	sg_init_table(sgl, n);
	for_each_sg(sgl, sg, n, i)
		sg_set_page(sg, pfn_to_page(PHYS_PFN(phys[i])), len, offset_in_page(phys[i]));
	start = ktime_get_ns();
	for (i = 0; i < iters; i++) {
		if (dma_map_sg(dev, sgl, n, DMA_TO_DEVICE) != n) {
			kfree(sgl);
			return U64_MAX;
		}
		dma_unmap_sg(dev, sgl, n, DMA_TO_DEVICE);
	}
	ret = ktime_get_ns() - start;
	kfree(sgl);
	return ret;
}
#endif
