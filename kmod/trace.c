// SPDX-License-Identifier: GPL-2.0
/*
 * gosync's trace events (see gosync_trace.h), exported so that the KUnit
 * suite can attach probes to them.
 */

#define CREATE_TRACE_POINTS
#include "gosync_trace.h"

EXPORT_TRACEPOINT_SYMBOL_GPL(gosync_mutex_wait_begin);
EXPORT_TRACEPOINT_SYMBOL_GPL(gosync_mutex_wait_end);
EXPORT_TRACEPOINT_SYMBOL_GPL(gosync_mutex_starvation);
EXPORT_TRACEPOINT_SYMBOL_GPL(gosync_wg_wait_begin);
EXPORT_TRACEPOINT_SYMBOL_GPL(gosync_wg_wait_end);
EXPORT_TRACEPOINT_SYMBOL_GPL(gosync_once_slow);
