// SPDX-License-Identifier: GPL-2.0
/*
 * The header inlines and macros the Rust Xen stack needs and the kernel's Rust helpers
 * (rust/helpers/) do not have yet, one function each, named as those are. Code of the
 * core inlined into a driver calls them from the driver: Kbuild exports those the
 * drivers reference (xen_exports.c).
 */

#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/uaccess.h>
#include <linux/scatterlist.h>
#include <linux/cpufeature.h>
#include <linux/vmalloc.h>
#include <xen/interface/grant_table.h>

#include "helpers.h"

/* The Rust side reads these in place (dma/ranges.rs, xen/hypercall.rs): same layout. */
static_assert(sizeof(struct bus_dma_region) == 24);
static_assert(offsetof(struct bus_dma_region, cpu_start) == 0);
static_assert(offsetof(struct bus_dma_region, dma_start) == 8);
static_assert(offsetof(struct bus_dma_region, size) == 16);
static_assert(sizeof(struct gnttab_cache_flush) == 16);
static_assert(offsetof(struct gnttab_cache_flush, offset) == 8);
static_assert(offsetof(struct gnttab_cache_flush, length) == 10);
static_assert(offsetof(struct gnttab_cache_flush, op) == 12);

phys_addr_t rust_helper_page_to_phys(const struct page *page)
{
	return page_to_phys(page);
}

struct page *rust_helper_pfn_to_page(unsigned long pfn)
{
	return pfn_to_page(pfn);
}

unsigned long rust_helper_page_to_pfn(const struct page *page)
{
	return page_to_pfn(page);
}

void *rust_helper_page_address(const struct page *page)
{
	return page_address(page);
}

void *rust_helper_phys_to_virt(phys_addr_t phys)
{
	return phys_to_virt(phys);
}

bool rust_helper_pfn_valid(unsigned long pfn)
{
	return pfn_valid(pfn);
}

unsigned long rust_helper_PAGE_OFFSET(void)
{
	return PAGE_OFFSET;
}

u64 rust_helper_PHYS_OFFSET(void)
{
	return PHYS_OFFSET;
}

unsigned long rust_helper_VMALLOC_START(void)
{
	return VMALLOC_START;
}

unsigned long rust_helper_VMALLOC_END(void)
{
	return VMALLOC_END;
}

void *rust_helper_vmap_dmacoherent(struct page **pages, unsigned int count)
{
	return vmap(pages, count, VM_MAP, pgprot_dmacoherent(PAGE_KERNEL));
}

bool rust_helper_dma_kmalloc_needs_bounce(struct device *dev, size_t size,
					  enum dma_data_direction dir)
{
	return dma_kmalloc_needs_bounce(dev, size, dir);
}

pgprot_t rust_helper_pgprot_dmacoherent(pgprot_t prot)
{
	return pgprot_dmacoherent(prot);
}

pgprot_t rust_helper_pgprot_writecombine(pgprot_t prot)
{
	return pgprot_writecombine(prot);
}

void rust_helper_sg_set_page(struct scatterlist *sg, struct page *page,
			     unsigned int len, unsigned int offset)
{
	sg_set_page(sg, page, len, offset);
}

/* read_sanitised_ftr_reg(SYS_CTR_EL0): the cache type register all CPUs agree on. */
u64 rust_helper_read_sanitised_ctr_el0(void)
{
	return read_sanitised_ftr_reg(SYS_CTR_EL0);
}

struct mm_struct *rust_helper_current_mm(void)
{
	return current->mm;
}

void rust_helper_mmap_write_lock(struct mm_struct *mm)
{
	mmap_write_lock(mm);
}

void rust_helper_mmap_write_unlock(struct mm_struct *mm)
{
	mmap_write_unlock(mm);
}

bool rust_helper_access_ok(const void __user *ptr, unsigned long size)
{
	return access_ok(ptr, size);
}

pte_t rust_helper_ptep_get(pte_t *ptep)
{
	return ptep_get(ptep);
}

int rust_helper_pte_none(pte_t pte)
{
	return pte_none(pte);
}
