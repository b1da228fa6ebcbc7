#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build gosync.ko, gosync_kunit.ko and the samples against KDIR ($1),
# with W=1 and warnings as errors.  Extra arguments go to kbuild (C=2 ...).

. "$(dirname "$0")/common.sh"

kdir=$1
shift
[ -d "$kdir" ] || die "no kernel build directory '$kdir'"
cd "$GOSYNC_ROOT"
# Objects built for another kernel must not be linked into this one.
if [ -f .kdir-stamp ] && [ "$(cat .kdir-stamp)" != "$kdir" ]; then
	make -s clean >/dev/null
fi
printf '%s\n' "$kdir" > .kdir-stamp
make -C "$kdir" M="$GOSYNC_ROOT" W=1 -j"$(nproc)" "$@" modules
