# SPDX-License-Identifier: GPL-2.0
#
# gosync: build the modules out of tree, and drive the test kernel.
#
#   make            build gosync.ko and the samples (no test knobs: only the
#                   harness makes test builds, GOSYNC_TESTING=1)
#   make run        boot the test kernel, run the demo workload, show counters
#   make test       boot the test kernel and run every KUnit suite
#   make check      checkpatch, sparse, W=1 and kernel-doc over every source
#   make bench      gosync against the kernel's own primitives, stock kernel
#   make torture    gosync_torture for minutes, then load/unload cycles
#                   (TORTURE_ARGS="duration=600 primitive=mutex", TORTURE_CYCLES)
#   make clean      remove every build product
#   make compat     build, boot and self-check on Debian's stock kernels
#   make install    gosync.ko and the client SDK for KDIR (see README)

VM := $(CURDIR)/tools/vm
KDIR ?= $(shell if [ -d /lib/modules/$$(uname -r)/build ]; then \
		echo /lib/modules/$$(uname -r)/build; \
	else $(VM)/build-kernel.sh; fi)

export VM_CPUS ?= 2
export EXTRA_KMODS KMOD_ARGS GOSYNC_CACHE FLAVOR TORTURE_ARGS TORTURE_CYCLES

.PHONY: all modules clean test run check bench torture test-harness kernel
.PHONY: compat compat-build install uninstall dkms-install htmldocs

all: modules

modules:
	$(VM)/build-modules.sh "$(KDIR)"

kernel:
	@$(VM)/build-kernel.sh

test:
	$(VM)/vm-run.sh test

run:
	$(VM)/vm-run.sh run

bench:
	$(VM)/bench.sh

torture:
	$(VM)/vm-run.sh torture

test-harness:
	$(VM)/check-harness.sh

check:
	$(VM)/check.sh

clean:
	@kdir=$$(head -n 1 .kdir-stamp 2>/dev/null); if [ -d "$$kdir" ]; then \
		$(MAKE) -C "$$kdir" M=$(CURDIR) clean; fi
	find . \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
		-o -name '.*.cmd' -o -name '*.symvers' -o -name 'modules.order' \
		-o -name '*.o.d' \) -type f -delete
	rm -f .kdir-stamp

# Debian's stock 6.1, 6.12 and 6.12-rt kernels (COMPAT_SERIES to narrow).
compat:
	tools/vm/compat.sh boot $(COMPAT_SERIES)

compat-build:
	tools/vm/compat.sh build $(COMPAT_SERIES)

install uninstall dkms-install:
	tools/install.sh $@ "$(KDIR)"

htmldocs:
	tools/htmldocs.sh
