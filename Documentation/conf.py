# SPDX-License-Identifier: GPL-2.0
#
# Sphinx configuration of gosync's documentation ("make htmldocs").  The
# API reference is rendered from the kernel-doc comments of the sources by
# the kernel tree's own kernel-doc extension; tools/htmldocs.sh passes the
# kernel source tree in the environment as GOSYNC_KERNEL_SRC.

import os
import sys

kernel_src = os.environ['GOSYNC_KERNEL_SRC']
sys.path.insert(0, os.path.join(kernel_src, 'Documentation', 'sphinx'))

project = 'gosync'
copyright = 'the gosync authors; GPL-2.0'
extensions = ['kerneldoc']
kerneldoc_bin = os.path.join(kernel_src, 'scripts', 'kernel-doc')
kerneldoc_srctree = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
master_doc = 'index'
exclude_patterns = ['_build']
html_theme = 'alabaster'
primary_domain = 'c'
highlight_language = 'none'

# Kernel annotations that appear in prototypes; the C domain must know them
# to parse the declarations (the kernel's own conf.py lists the same kind).
c_id_attributes = [
    '__must_check', '__init', '__exit', '__always_inline', 'inline',
    'noinline', '__sched',
]
c_paren_attributes = ['__acquires', '__releases', '__printf']
