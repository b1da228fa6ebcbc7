#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make htmldocs: Documentation/ to HTML in Documentation/_build/html with
# Debian's Sphinx, the API reference rendered by the kernel tree's
# kernel-doc extension (from the test kernel's source).  Any warning fails.

. "$(dirname "$0")/vm/common.sh"

HOST_PACKAGES=python3-sphinx ensure_host_packages
kdir=$("$GOSYNC_ROOT/tools/vm/build-kernel.sh")
src=$(readlink -f "$kdir/source")
[ -x "$src/scripts/kernel-doc" ] || die "no kernel-doc in $src"
out=$GOSYNC_ROOT/Documentation/_build
rm -rf "$out"
GOSYNC_KERNEL_SRC=$src sphinx-build -W --keep-going -q -b html \
	-d "$out/doctrees" "$GOSYNC_ROOT/Documentation" "$out/html"
log "HTML in $out/html/index.html"
