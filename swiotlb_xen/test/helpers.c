// SPDX-License-Identifier: GPL-2.0
/*
 * C side of the KUnit suites of the Rust xen-swiotlb (the Rust of test/): the DMA API as a
 * driver calls it (so that DMA_API_DEBUG checks every use), the kernel's own answers, a
 * platform driver to bind, module reference counts, and the benchmark's loops.
 */

#include <kunit/test.h>
#include <kunit/test-bug.h>
#include <linux/device.h>
#include <linux/dma-map-ops.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>

#include "helpers.h"

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

u64 xrs_kernel_min_align_mask(struct device *dev)
{
	return dma_get_min_align_mask(dev);
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

/*
 * Pretends, or stops pretending, that rmmod has passed its reference check and the
 * module is going away (module_is_live() is false then): for the test of the map path's
 * reference, which must fail rather than map then.
 */
void xrs_test_module_going(struct module *mod, bool going)
{
	mod->state = going ? MODULE_STATE_GOING : MODULE_STATE_LIVE;
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

int xrs_module_refcount(struct module *mod)
{
	/* Built in, the driver has no module and nothing counts references. */
	return mod ? module_refcount(mod) : 0;
}

bool xrs_swiotlb_kernel_vmalloc_to_pfn(const void *addr, unsigned long *pfn)
{
	struct page *page = vmalloc_to_page(addr);

	if (!page)
		return false;
	*pfn = page_to_pfn(page);
	return true;
}

u64 xrs_swiotlb_kernel_virt_to_phys(const void *addr)
{
	return virt_to_phys(addr);
}

u64 xrs_swiotlb_kernel_bus_dma_limit(struct device *dev)
{
	return dev->bus_dma_limit;
}

bool xrs_kernel_is_dma_coherent(struct device *dev)
{
	return dev_is_dma_coherent(dev);
}

u64 xrs_kernel_dma_mask(struct device *dev)
{
	return dev->dma_mask ? *dev->dma_mask : 0;
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

/* The devices of a real board the xen_swiotlb_board suite runs on (see board.rs). */
static char xrs_board_devices[256];
module_param_string(board_devices, xrs_board_devices, sizeof(xrs_board_devices), 0444);
MODULE_PARM_DESC(board_devices,
		 "Comma-separated platform devices of a Raspberry Pi 4, attached to xen_swiotlb_rs, for the xen_swiotlb_board suite");

struct device *xrs_test_board_device(unsigned int i)
{
	char list[sizeof(xrs_board_devices)], *rest = list, *name;
	struct device *dev;

	strscpy(list, xrs_board_devices, sizeof(list));
	while ((name = strsep(&rest, ","))) {
		if (!*name)
			continue;
		if (i--)
			continue;
		dev = bus_find_device_by_name(&platform_bus_type, NULL, name);
		return dev ?: ERR_PTR(-ENODEV);
	}
	return NULL;
}

void xrs_test_put_device(struct device *dev)
{
	put_device(dev);
}
