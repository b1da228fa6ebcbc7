#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install gosync for one kernel, as "make install", "make uninstall" and
# "make dkms-install" do:
#
#   install.sh install KDIR       gosync.ko into /lib/modules/<release>/extra,
#                                 depmod, and the client SDK (public headers
#                                 and Module.symvers) into $INSTALL_GOSYNC
#   install.sh uninstall KDIR     remove both again, depmod
#   install.sh dkms-install KDIR  register the source with DKMS, build and
#                                 install gosync.ko for KDIR's release
#
# INSTALL_GOSYNC defaults to /usr/src/gosync-<release>; a client module
# builds against it with GOSYNC=$INSTALL_GOSYNC (see samples/client).
# DESTDIR prefixes every installed path (not the DKMS steps).

. "$(dirname "$0")/vm/common.sh"

action=${1:?usage: install.sh install|uninstall|dkms-install KDIR}
kdir=${2:?usage: install.sh install|uninstall|dkms-install KDIR}
[ -f "$kdir/Makefile" ] || die "no kernel build directory '$kdir'"
# The release modules built there report in their vermagic (Debian's
# headers give the upstream version in "make kernelrelease" instead).
release=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' \
	"$kdir/include/generated/utsrelease.h" 2>/dev/null)
[ -n "$release" ] || die "cannot tell the release of '$kdir'"
destdir=${DESTDIR:-}
sdk=${INSTALL_GOSYNC:-/usr/src/gosync-$release}
moddir=/lib/modules/$release/extra

# The version MODULE_VERSION carries, for DKMS's package version too.
version=$(git -C "$GOSYNC_ROOT" describe --tags --always --dirty 2>/dev/null ||
	cat "$GOSYNC_ROOT/VERSION")

run_depmod() {
	# depmod needs the release's modules directory; a DESTDIR staging
	# install is indexed when the package is installed.
	[ -z "$destdir" ] || return 0
	as_root depmod -a "$release"
}

case $action in
install)
	cd "$GOSYNC_ROOT" || exit 1
	# Always build: make skips what is up to date for this kernel.
	"$GOSYNC_ROOT/tools/vm/build-modules.sh" "$kdir" >&2
	as_root install -D -m 644 kmod/gosync.ko "$destdir$moddir/gosync.ko"
	as_root install -d "$destdir$sdk/include/gosync"
	as_root install -m 644 include/gosync/*.h "$destdir$sdk/include/gosync/"
	as_root install -m 644 Module.symvers "$destdir$sdk/Module.symvers"
	run_depmod
	log "installed gosync $version for $release: $destdir$moddir/gosync.ko, client SDK in $destdir$sdk"
	;;
uninstall)
	as_root rm -f "$destdir$moddir/gosync.ko"
	[ ! -d "$destdir$moddir" ] || as_root rmdir --ignore-fail-on-non-empty "$destdir$moddir"
	as_root rm -rf "$destdir$sdk"
	run_depmod
	log "removed gosync for $release"
	;;
dkms-install)
	command -v dkms >/dev/null || HOST_PACKAGES=dkms ensure_host_packages
	# DKMS wants its package version in dkms.conf and the source in
	# /usr/src/<name>-<version>; a copy without git keeps the version in
	# VERSION for MODULE_VERSION.
	dkms_version=$(printf '%s' "$version" | tr -c 'A-Za-z0-9.+~\n' '.')
	src=/usr/src/gosync-$dkms_version
	# The source is refreshed in place: other kernels keep their build.
	as_root rm -rf "$src"
	as_root mkdir -p "$src"
	(cd "$GOSYNC_ROOT" && git ls-files -c -- dkms.conf include kmod |
		as_root cpio -pdm --quiet "$src")
	printf '%s\n' "$version" | as_root tee "$src/VERSION" >/dev/null
	as_root sed -i "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$dkms_version\"/" "$src/dkms.conf"
	dkms status -m gosync -v "$dkms_version" | grep -q . ||
		as_root dkms add -m gosync -v "$dkms_version" >&2
	as_root dkms build --force -m gosync -v "$dkms_version" -k "$release" \
		--kernelsourcedir "$kdir" >&2
	as_root dkms install --force -m gosync -v "$dkms_version" -k "$release" \
		--kernelsourcedir "$kdir" >&2
	dkms status -m gosync -v "$dkms_version" -k "$release"
	;;
*)
	die "unknown action '$action'"
	;;
esac
