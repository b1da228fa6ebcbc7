#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages gosync's build and test harness need.
. "$(dirname "$0")/common.sh"
ensure_host_packages
