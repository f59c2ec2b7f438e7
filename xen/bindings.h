/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Input of the core's own bindgen step (see Kbuild): the items of the headers the
 * kernel's Rust bindings do not include (Xen's, and a few generic ones) that the stack
 * uses, allowlisted one by one; everything they refer to comes from the kernel's
 * bindings. In tree, these headers go into rust/bindings/bindings_helper.h instead.
 */
#include <linux/dma-map-ops.h>
#include <linux/fs_context.h>
#include <linux/proc_fs.h>
#include <xen/xen.h>
#include <xen/xenbus.h>
#include <xen/xen-ops.h>
#include <xen/balloon.h>
#include <xen/page.h>
#include <xen/interface/xen.h>
#include <xen/interface/memory.h>
#include <xen/interface/hvm/dm_op.h>
#include <xen/interface/grant_table.h>
#include <xen/interface/event_channel.h>
#include <xen/grant_table.h>
#include <xen/events.h>
#include <asm/xen/hypercall.h>
