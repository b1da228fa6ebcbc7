#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build gosync.ko and the samples against KDIR, with W=1 and warnings as
# errors.  Extra arguments go to kbuild (C=2 ...).
#
#   build-modules.sh [--testing] KDIR [KBUILD_ARGS...]
#
# --testing makes a test build (GOSYNC_TESTING=1): gosync.ko with its
# delay points and test knobs, and gosync_kunit.ko on a kernel with KUnit.
# Only the harness asks for one (make test, make torture, make check);
# without it the build is what make, make install and DKMS produce, and
# GOSYNC_TESTING from the environment is overridden.

. "$(dirname "$0")/common.sh"

testing=
if [ "${1:-}" = --testing ]; then
	testing=1
	shift
fi
kdir=$1
shift
[ -d "$kdir" ] || die "no kernel build directory '$kdir'"
cd "$GOSYNC_ROOT"
# Objects built for another kernel, or the other kind of build, must not be
# linked into this one.  The first line of the stamp is the kernel (make
# clean reads it).
stamp=$(printf '%s\nGOSYNC_TESTING=%s' "$kdir" "$testing")
if [ -f .kdir-stamp ] && [ "$(cat .kdir-stamp)" != "$stamp" ]; then
	make -s clean >/dev/null
fi
printf '%s\n' "$stamp" > .kdir-stamp
make -C "$kdir" M="$GOSYNC_ROOT" W=1 GOSYNC_TESTING="$testing" -j"$(nproc)" "$@" modules
