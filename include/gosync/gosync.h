/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gosync: Go's sync primitives, with Go's semantics, for kernel code.
 * Include this header, or the one header of the primitive you use.
 */
#ifndef _GOSYNC_GOSYNC_H
#define _GOSYNC_GOSYNC_H

#include <gosync/map.h>
#include <gosync/mutex.h>
#include <gosync/once.h>
#include <gosync/seqlock.h>
#include <gosync/waitgroup.h>

#endif /* _GOSYNC_GOSYNC_H */
