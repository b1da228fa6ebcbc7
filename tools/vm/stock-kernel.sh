#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Find Debian's current stock kernel of a series, install its image and
# headers with apt when missing, and print "VMLINUZ HEADERS_DIR" on one line.
#
#   stock-kernel.sh [--headers-only] 6.1|6.12|6.12-rt
#
# The current ABI name (6.1.0-<n>, 6.12.<n>+deb12) is read at run time from
# Debian's meta-packages, which always depend on the newest one.  With
# --headers-only only the headers are installed (enough to build, not to
# boot); VMLINUZ is still printed and may not exist then.

. "$(dirname "$0")/common.sh"

headers_only=0
if [ "${1:-}" = --headers-only ]; then
	headers_only=1
	shift
fi
series=${1:?usage: stock-kernel.sh [--headers-only] 6.1|6.12|6.12-rt}

case $series in
6.1) meta=linux-headers-amd64 ;;
6.12) meta=linux-headers-6.12-amd64 ;;
6.12-rt) meta=linux-headers-6.12-rt-amd64 ;;
*) die "unknown kernel series '$series' (have: 6.1 6.12 6.12-rt)" ;;
esac

# The newest ABI of the series, as its meta-package names it.
current_headers() {
	apt-cache depends "$meta" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-headers-[^ ]*\)$/\1/p' | head -n 1
}

apt_install() {
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q -o DPkg::Lock::Timeout=900 --no-install-recommends "$@" >&2
}

headers=$(current_headers)
if [ -z "$headers" ]; then
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
	headers=$(current_headers)
fi
[ -n "$headers" ] || die "apt knows no package $meta"
release=${headers#linux-headers-}
image=linux-image-$release

wanted=("$headers")
[ "$headers_only" -eq 1 ] || wanted+=("$image")
missing=()
for pkg in "${wanted[@]}"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
		grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	apt_install "${missing[@]}" ||
		die "apt-get install ${missing[*]} failed"
fi

headers_dir=/usr/src/linux-headers-$release
[ -f "$headers_dir/Makefile" ] || die "no kernel headers in $headers_dir"
vmlinuz=/boot/vmlinuz-$release
[ "$headers_only" -eq 1 ] || [ -f "$vmlinuz" ] || die "no kernel image $vmlinuz"
printf '%s %s\n' "$vmlinuz" "$headers_dir"
