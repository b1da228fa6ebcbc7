# SPDX-License-Identifier: GPL-2.0
# Shared settings for the gosync test-kernel scripts; sourced, not run.

set -euo pipefail

GOSYNC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GOSYNC_CACHE=${GOSYNC_CACHE:-${HOME:-/root}/.cache/gosync}
KERNEL_SOURCE_PACKAGE=${KERNEL_SOURCE_PACKAGE:-linux-source-6.12}
VM_CONFIG_DIR=$GOSYNC_ROOT/tools/vm/config
# The test kernel's flavour: default (lockdep), kasan or kcsan.  Each is
# base.config plus flavor-$FLAVOR.config, built and cached on its own.
FLAVOR=${FLAVOR:-default}

# Debian packages the build, the checks and the harness need.
HOST_PACKAGES="build-essential bc bison flex libelf-dev libssl-dev python3 cpio
	busybox-static qemu-system-x86 sparse kmod $KERNEL_SOURCE_PACKAGE"

log() { printf '[gosync] %s\n' "$*" >&2; }
die() { printf '[gosync] error: %s\n' "$*" >&2; exit 1; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Install whatever is missing, once; a no-op on a machine that has it all.
ensure_host_packages() {
	local missing=() pkg
	for pkg in $HOST_PACKAGES; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing Debian packages: ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}

kernel_source_version() {
	dpkg-query -W -f='${Version}' "$KERNEL_SOURCE_PACKAGE"
}

# The config fragments of the selected flavour, base first.
kernel_config_fragments() {
	local flavor_fragment=$VM_CONFIG_DIR/flavor-$FLAVOR.config
	[ -f "$flavor_fragment" ] ||
		die "unknown FLAVOR '$FLAVOR' (have: $(cd "$VM_CONFIG_DIR" &&
			ls flavor-*.config | sed 's/^flavor-//; s/\.config$//' | tr '\n' ' '))"
	printf '%s\n' "$VM_CONFIG_DIR/base.config" "$flavor_fragment"
}

# The build directory is named after what went into it: the exact Debian
# source version, the flavour and a hash of its config fragments.  A change
# to any makes a new directory; an unchanged set reuses the finished build.
kernel_build_dir() {
	local fragments_hash
	fragments_hash=$(kernel_config_fragments | xargs cat | sha256sum | cut -c1-12)
	printf '%s/kernel-%s-%s-%s\n' "$GOSYNC_CACHE" \
		"$(kernel_source_version | tr -c 'A-Za-z0-9.\n' '_')" "$FLAVOR" \
		"$fragments_hash"
}

# vm_boot KERNEL INITRD CPUS LOG APPEND...: boot under QEMU TCG (no KVM on
# this kind of host) with the console on LOG; the guest ends with
# "reboot -f" (-no-reboot makes QEMU exit).  Returns QEMU's status, 124
# when it ran out of VM_TIMEOUT seconds.
vm_boot() {
	local kernel=$1 initrd=$2 cpus=$3 console_log=$4 status=0
	shift 4
	timeout --foreground -k 10 "${VM_TIMEOUT:-900}" \
		qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp "$cpus" \
		-m "${VM_MEMORY:-2G}" -nographic -nodefaults -serial stdio \
		-no-reboot -kernel "$kernel" -initrd "$initrd" -append "$*" \
		</dev/null >"$console_log" 2>&1 || status=$?
	[ "$status" -eq 124 ] && log "QEMU timed out after ${VM_TIMEOUT:-900} s"
	return "$status"
}
