/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gosync trace events, under the "gosync" system:
 *
 *   trace-cmd record -e gosync -e lock:contention_begin -e lock:contention_end
 *   perf lock contention -a -- sleep 5
 *
 * Objects are named by their lock class; no kernel address is printed.
 */
#include "compat.h"

#undef TRACE_SYSTEM
#define TRACE_SYSTEM gosync

#ifndef _GOSYNC_TRACE_HELPERS
#define _GOSYNC_TRACE_HELPERS
#include <gosync/mutex.h>

static inline const char *gosync_trace_class(const struct gosync_mutex *m)
{
	return m->class_name ?: "(anonymous)";
}
#endif

#if !defined(_GOSYNC_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _GOSYNC_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(gosync_mutex_wait_begin,
	    TP_PROTO(const struct gosync_mutex *m),
	    TP_ARGS(m),
	    TP_STRUCT__entry(__string(class, gosync_trace_class(m))),
	    TP_fast_assign(gosync_assign_str(class, gosync_trace_class(m));),
	    TP_printk("class=%s", __get_str(class))
);

TRACE_EVENT(gosync_mutex_wait_end,
	    TP_PROTO(const struct gosync_mutex *m, u64 wait_ns, int ret),
	    TP_ARGS(m, wait_ns, ret),
	    TP_STRUCT__entry(__string(class, gosync_trace_class(m))
			     __field(u64, wait_ns)
			     __field(int, ret)),
	    TP_fast_assign(gosync_assign_str(class, gosync_trace_class(m));
			   __entry->wait_ns = wait_ns;
			   __entry->ret = ret;),
	    TP_printk("class=%s wait_ns=%llu ret=%d", __get_str(class),
		      __entry->wait_ns, __entry->ret)
);

TRACE_EVENT(gosync_mutex_starvation,
	    TP_PROTO(const struct gosync_mutex *m, bool entered),
	    TP_ARGS(m, entered),
	    TP_STRUCT__entry(__string(class, gosync_trace_class(m))
			     __field(bool, entered)),
	    TP_fast_assign(gosync_assign_str(class, gosync_trace_class(m));
			   __entry->entered = entered;),
	    TP_printk("class=%s %s", __get_str(class),
		      __entry->entered ? "entered" : "left")
);

TRACE_EVENT(gosync_wg_wait_begin,
	    TP_PROTO(unsigned int count),
	    TP_ARGS(count),
	    TP_STRUCT__entry(__field(unsigned int, count)),
	    TP_fast_assign(__entry->count = count;),
	    TP_printk("count=%u", __entry->count)
);

TRACE_EVENT(gosync_wg_wait_end,
	    TP_PROTO(u64 wait_ns, long ret),
	    TP_ARGS(wait_ns, ret),
	    TP_STRUCT__entry(__field(u64, wait_ns)
			     __field(long, ret)),
	    TP_fast_assign(__entry->wait_ns = wait_ns;
			   __entry->ret = ret;),
	    TP_printk("wait_ns=%llu ret=%ld", __entry->wait_ns, __entry->ret)
);

TRACE_EVENT(gosync_once_slow,
	    TP_PROTO(const struct gosync_mutex *lock, bool ran, u64 wait_ns, int ret),
	    TP_ARGS(lock, ran, wait_ns, ret),
	    TP_STRUCT__entry(__string(class, gosync_trace_class(lock))
			     __field(bool, ran)
			     __field(u64, wait_ns)
			     __field(int, ret)),
	    TP_fast_assign(gosync_assign_str(class, gosync_trace_class(lock));
			   __entry->ran = ran;
			   __entry->wait_ns = wait_ns;
			   __entry->ret = ret;),
	    TP_printk("class=%s ran=%d wait_ns=%llu ret=%d", __get_str(class),
		      __entry->ran, __entry->wait_ns, __entry->ret)
);

#endif /* _GOSYNC_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE gosync_trace
#include <trace/define_trace.h>
