"""Keep freed memory in the C allocator for the next request (glibc's ``mallopt``), for ``riskgrade serve``.

A 1,000-record batch answer is some 835 kB: above glibc's threshold for ``mmap``, and each one freed lets
the heap's top be given back to the kernel, so the next request's answer faults its pages in again --
about 350 page faults per request, a fifth of the server's CPU time in a virtual machine
(docs/benchmarks.md). :func:`keep_freed_memory` sets a fixed ``mmap`` threshold and a high trim threshold,
so that memory freed by one request is reused by the next: the process's resident size stays at its
high-water mark (bounded by the body, batch and concurrency limits) instead of going up and down. It is
a setting of the whole process, so only the ``riskgrade serve`` command and its worker processes make
it (``--return-freed-memory`` not); on a C library without ``mallopt`` (musl has a stub, macOS none)
it does nothing and says so.
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "keep_freed_memory"]

#: allocations up to this come from the heap (glibc's most: 32 MiB on 64 bits)
MMAP_THRESHOLD = 32 * 1024 * 1024
#: freed memory at the heap's top is given back only past this much
TRIM_THRESHOLD = 128 * 1024 * 1024
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>


def keep_freed_memory() -> bool:
    """Set the thresholds (glibc); True when the C library took both (each is asked for either way: a
    refused one does not keep the other from being set)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    took = [bool(mallopt(option, value)) for option, value in ((_M_MMAP_THRESHOLD, MMAP_THRESHOLD),
                                                              (_M_TRIM_THRESHOLD, TRIM_THRESHOLD))]
    return all(took)  # both asked for, whichever is refused
