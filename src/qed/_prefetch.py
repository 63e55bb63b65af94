"""A software prefetch for compiled loops that visit memory in an order the hardware cannot
guess (a random permutation of rows): LLVM's ``llvm.prefetch``, exposed to numba.

``prefetch(A, i, j)`` asks the CPU to bring the cache line holding ``A[i, j]`` (a 2-D array)
towards L1 and returns at once: it never faults, blocks, or changes anything a program can
observe, so a stale or out-of-range guess costs only a wasted fetch (the index is not checked,
and the address is not read). Used by the linear SVM's dual coordinate descent, where a
visit in random order waited on memory for each row (``classify._dcd``).
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["prefetch"]


@intrinsic
def prefetch(typingctx, arr, i, j):  # pragma: no cover - compiled into its callers
    """Prefetch the line of arr[i, j] for reading, kept in all cache levels."""
    sig = types.void(arr, i, j)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(
            context, builder, aryty, ary, [args[1], args[2]], wraparound=False
        )
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        # (address, read = 0, locality = 3: keep in every level, data cache = 1)
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen
