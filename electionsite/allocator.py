"""The C allocator's two thresholds, set once for the process (glibc's malloc; elsewhere, nothing).

An export builds each chunk's text, hundreds of kilobytes, from texts of about a kilobyte each, and
frees them all when it builds the next. glibc's defaults give such memory back to the system as soon
as it is free: a block of more than 128 KB (at first) is mapped for itself and unmapped when freed, and
the heap is cut back once more than twice the largest such block is free at its top. The next chunk
then touches fresh pages, and the kernel faults each in and zeroes it, 4 KB at a time. At a million
excerpts, an export of 10,000 of them faulted 1,100–3,000 pages and spent 11–13 ms in the kernel; with
blocks of up to 8 MB kept in the heap and up to 32 MB of free heap kept, it faulted 5–8 pages and spent
1–2 ms there. A worker then holds on to memory it no longer uses, for its next requests: free memory
at the top of its heap is given back only beyond 32 MB, and a freed block below memory still in use
stays with it (as it did before for blocks under 128 KB). gunicorn replaces each worker after
max_requests requests.
"""

import ctypes
import sys

# mallopt()'s parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 8 * 1024 * 1024
TRIM_THRESHOLD = 32 * 1024 * 1024


def tune():
    """Set the thresholds; whether they were set (False on a system without glibc's mallopt)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # mallopt() answers 1 when it has set a parameter (musl's answers 0, and sets nothing).
    return mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
