/* SPDX-License-Identifier: GPL-2.0 */
/* The core's helpers (helpers.c); Rust declares them in xen/ffi.rs. */
#ifndef XRS_XEN_HELPERS_H
#define XRS_XEN_HELPERS_H

#include <linux/types.h>
#include <linux/dma-direction.h>
#include <asm/pgtable-types.h>

struct device;
struct mm_struct;
struct page;
struct scatterlist;

phys_addr_t rust_helper_page_to_phys(const struct page *page);
struct page *rust_helper_pfn_to_page(unsigned long pfn);
unsigned long rust_helper_page_to_pfn(const struct page *page);
void *rust_helper_page_address(const struct page *page);
void *rust_helper_phys_to_virt(phys_addr_t phys);
bool rust_helper_pfn_valid(unsigned long pfn);
unsigned long rust_helper_PAGE_OFFSET(void);
u64 rust_helper_PHYS_OFFSET(void);
unsigned long rust_helper_VMALLOC_START(void);
unsigned long rust_helper_VMALLOC_END(void);
void *rust_helper_vmap_dmacoherent(struct page **pages, unsigned int count);
bool rust_helper_dma_kmalloc_needs_bounce(struct device *dev, size_t size,
					  enum dma_data_direction dir);
pgprot_t rust_helper_pgprot_dmacoherent(pgprot_t prot);
pgprot_t rust_helper_pgprot_writecombine(pgprot_t prot);
void rust_helper_sg_set_page(struct scatterlist *sg, struct page *page, unsigned int len,
			     unsigned int offset);
u64 rust_helper_read_sanitised_ctr_el0(void);
struct mm_struct *rust_helper_current_mm(void);
void rust_helper_mmap_write_lock(struct mm_struct *mm);
void rust_helper_mmap_write_unlock(struct mm_struct *mm);
bool rust_helper_access_ok(const void __user *ptr, unsigned long size);
pte_t rust_helper_ptep_get(pte_t *ptep);
int rust_helper_pte_none(pte_t pte);

#endif
