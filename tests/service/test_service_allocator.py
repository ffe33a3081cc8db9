"""The server's allocator keeps large blocks on its heap instead of mapping each one anew.

Run in a process of its own (its allocator is changed for good), counting the blocks glibc maps
for themselves (``mallinfo2().hblks``) while a 3 MiB block is alive."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import ctypes
from mediadl.service.allocator import tune_allocator

class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Info

def mapped_for_a_block():
    before = libc.mallinfo2().hblks
    block = bytes(3 << 20)
    during = libc.mallinfo2().hblks
    del block
    return during - before

print(tune_allocator({"MALLOC_TRIM_THRESHOLD_": "131072"}), mapped_for_a_block())
print(tune_allocator({}), mapped_for_a_block())
"""


def test_large_blocks_come_from_the_heap_unless_the_operator_said_otherwise() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split("\n")
    assert out[0] == "False 1"  # the operator's variable wins: glibc maps the block itself
    assert out[1] == "True 0"  # tuned: the block comes from the heap
