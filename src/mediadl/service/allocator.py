"""The C allocator's thresholds for a server that relays large buffers (glibc).

Every piece of a body the server relays is a new ``bytes`` of up to 256 KiB (the socket's read,
the HTTP parser's piece), freed a moment later. glibc serves a block of 128 KiB or more with a
fresh ``mmap`` (its threshold then follows the largest block freed) and gives the top of its heap
back to the system once twice that is free there: a server relaying files maps the same memory,
faults it in page by page (zero-filled) and unmaps it, over and over. Under a profiler, through
one server (3 MB tunnels, one client), the HTTP parser's part of the server's CPU went from
0.29 s to 0.06 s per 600 MB with the thresholds below, the server's whole CPU by a fifth.

:func:`tune_allocator` sets both for the process: blocks up to ``MMAP_THRESHOLD`` come from the
heap, and up to ``TRIM_THRESHOLD`` bytes free at its top stay mapped for the next ones (the
price: up to that much more resident memory after a burst). An operator's own
``MALLOC_MMAP_THRESHOLD_`` or ``MALLOC_TRIM_THRESHOLD_`` (glibc's environment variables) wins;
with another C library nothing is changed.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Mapping

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "tune_allocator"]

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
"""``mallopt`` parameters (``malloc.h``)."""
MMAP_THRESHOLD = 4 << 20
TRIM_THRESHOLD = 32 << 20
OPERATOR = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


def tune_allocator(environ: Mapping[str, str] = os.environ) -> bool:
    """Set the thresholds; whether they were (not with another C library, nor when the
    operator set them)."""
    if any(name in environ for name in OPERATOR) or not _glibc():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )


def _glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (ValueError, OSError):  # not a name this system knows
        return False
