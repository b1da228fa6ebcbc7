#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or reuse) the gosync test kernel and print its build directory.
# The kernel is Debian's linux-source-6.12 configured as allnoconfig plus
# tools/vm/config/base.config and flavor-$FLAVOR.config, built out of tree
# in $GOSYNC_CACHE.

. "$(dirname "$0")/common.sh"

ensure_host_packages

kernel_config_fragments >/dev/null
build=$(kernel_build_dir)
mapfile -t fragments < <(kernel_config_fragments)
if [ -f "$build/.gosync-complete" ]; then
	printf '%s\n' "$build"
	exit 0
fi

mkdir -p "$GOSYNC_CACHE"
# One build at a time on this machine: two would only halve each other.
exec 9>"$GOSYNC_CACHE/.kernel-build.lock"
flock 9
if [ -f "$build/.gosync-complete" ]; then
	printf '%s\n' "$build"
	exit 0
fi

version=$(kernel_source_version)
src=$GOSYNC_CACHE/src-$(printf '%s' "$version" | tr -c 'A-Za-z0-9.' '_')
tarball=/usr/src/$KERNEL_SOURCE_PACKAGE.tar.xz
if [ ! -f "$src/.gosync-unpacked" ]; then
	log "unpacking $tarball"
	rm -rf "$src"
	mkdir -p "$src"
	tar -xf "$tarball" -C "$src" --strip-components=1
	touch "$src/.gosync-unpacked"
fi

log "building $FLAVOR test kernel $version in $build (about 5 minutes the first time)"
rm -rf "$build"
mkdir -p "$build"
cat "${fragments[@]}" > "$build/gosync.config"
make -C "$src" O="$build" KCONFIG_ALLCONFIG="$build/gosync.config" \
	allnoconfig >"$build/config.log" 2>&1 || die "configuration failed: $build/config.log"

# Kconfig silently drops options whose dependencies are unmet: refuse to
# test on a kernel that lacks a checker the fragments asked for.
# A flavour may override base.config (rt turns CONFIG_PREEMPT off): the last
# fragment to set an option is the one checked.
grep -hE '^(CONFIG_[A-Z0-9_]+=|# CONFIG_[A-Z0-9_]+ is not set)' "${fragments[@]}" |
	tac | awk '{ name = $0; sub(/^# /, "", name); sub(/[= ].*/, "", name) }
		!seen[name]++' |
	while read -r want; do
		grep -qxF "$want" "$build/.config" ||
			die "option '$want' did not survive configuration; see $build/.config"
	done

make -C "$src" O="$build" -j"$(nproc)" bzImage modules >"$build/build.log" 2>&1 ||
	die "kernel build failed; last lines of $build/build.log:
$(tail -n 30 "$build/build.log")"
touch "$build/.gosync-complete"
log "test kernel ready"
printf '%s\n' "$build"
