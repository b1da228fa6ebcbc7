/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version compatibility for gosync.ko, in one place.
 *
 * gosync is written against 6.12 and builds unchanged on Debian 12's stock
 * 6.1 kernel through the shims below.  Every version test of the module
 * lives here, so the primitives read as plain 6.12 code.  Where a feature
 * cannot be seen from C (a macro's arity, a symbol's export), kmod/Kbuild
 * probes the kernel's headers and Module.symvers and passes GOSYNC_HAVE_*;
 * probing what is there, not the version number, also gets distribution
 * backports right.  A shim either
 * provides the newer interface on the older kernel with the same meaning,
 * or (where that is impossible) the feature is left out and
 * Documentation/compat.rst says so.
 *
 * What needs no shim, and why:
 *  - guard(gosync_mutex): <gosync/mutex.h> defines the guard only where
 *    linux/cleanup.h has DEFINE_GUARD (6.5 and later), so clients on 6.1
 *    simply do not get it.
 *  - linux/call_once.h (6.13, backported to Debian's 6.12): only the
 *    benchmark sample compares against call_once(), and samples/Kbuild
 *    builds it only where the header exists.
 */
#ifndef _GOSYNC_COMPAT_H
#define _GOSYNC_COMPAT_H

#include <linux/overflow.h>

/*
 * struct_size_t() (6.5): the size of a structure with a flexible array
 * member of @count elements, saturating at SIZE_MAX, from the type alone.
 * Older kernels have struct_size(), which wants an expression of the
 * pointer type; a typed null pointer is never dereferenced there (sizeof
 * only), so the result is the same.
 */
#ifndef struct_size_t
#define struct_size_t(type, member, count)				\
	struct_size((type *)NULL, member, count)
#endif

/*
 * __assign_str() in TP_fast_assign(): 6.10 dropped its second argument,
 * taking the source recorded by __string() instead.  gosync's trace events
 * name both, so the same event definition builds on either side; the
 * source is side-effect free and only evaluated, not stored, on 6.10+.
 */
#ifdef GOSYNC_HAVE_ASSIGN_STR_1
#define gosync_assign_str(dst, src)	do { __assign_str(dst); (void)(src); } while (0)
#else
#define gosync_assign_str(dst, src)	__assign_str(dst, src)
#endif

/*
 * The kernel's lock:contention_begin/contention_end tracepoints, which
 * "perf lock contention" reads, are exported to modules in newer kernels
 * (6.12 has the export, 6.1 does not).  Without it a module that fires them
 * fails to link, so there they compile away: gosync's own
 * gosync:gosync_mutex_wait_* events still report every wait.  The
 * tracepoint header is pulled in first so that its inline functions are
 * declared before these macros shadow them; the one file that creates
 * gosync's tracepoints never fires these.
 */
#if !defined(GOSYNC_HAVE_CONTENTION_EXPORT) && !defined(CREATE_TRACE_POINTS)
#include <trace/events/lock.h>
#define trace_contention_begin(lock, flags)	do { (void)(lock); (void)(flags); } while (0)
#define trace_contention_end(lock, ret)		do { (void)(lock); (void)(ret); } while (0)
#endif

#endif /* _GOSYNC_COMPAT_H */
