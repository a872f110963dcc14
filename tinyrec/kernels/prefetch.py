"""Software prefetch: ask for a table row a few loop iterations before the loop needs it.

Why: an embedding step reads and writes a few hundred rows scattered over tables of tens of
megabytes (the weights and, for Adam, the two moment tables of the same size). The rows of the
long tail are in no cache, and a loop that reaches such a row waits for main memory (about 100 ns)
before it can compute. The hardware prefetcher cannot guess the next row, since the ids are
random, but the loop knows it: ``rows[j + ahead]``. Asking for that row now lets the memory
system fetch several rows while the loop computes on the current one
(``benchmarks/bench_embedding.py`` times the embedding step that gains from it). A table under
:data:`PREFETCH_MIN_BYTES` stays in the caches, so the kernels skip the hint there.

:func:`prefetch_row` is only a hint: it changes no value, and the processor ignores a prefetch it
cannot serve (it never faults, even on an address outside the table). In plain Python (under
``NUMBA_DISABLE_JIT=1``, or a kernel's ``py_func``) it does nothing at all, so the kernels that call
it compute exactly what they compute without it.

How: compiled code gets its own version (:func:`numba.extending.overload`) that issues LLVM's
``llvm.prefetch`` once per 64-byte cache line of the row (LLVM defines it as a hint that leaves
what the program computes unchanged). The instruction is built with llvmlite, the LLVM binding
that Numba itself is built on. The kernels that call it compile it in, and Numba's on-disk cache
of a kernel looks only at the kernel's own file: after editing this module in a working copy,
delete ``tinyrec/kernels/__pycache__/*.nbi`` and ``*.nbc`` so that they compile again.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

#: Bytes per cache line on x86-64 and most ARM processors: one prefetch fetches one line.
CACHE_LINE = 64

#: A table smaller than this (a core's second-level cache on most current processors) stays in
#: the caches between steps, and the kernels do not ask for its rows: the hint would only cost
#: instructions (measured: a 943 x 8 float32 table took 17% longer per step with it).
PREFETCH_MIN_BYTES = 1 << 20


def prefetch_row(table, row):
    """Hint that row ``row`` of the 2-D ``table`` will be read and written soon.

    In plain Python this does nothing; compiled, it prefetches the row's cache lines.
    """
    return None


@overload(prefetch_row, inline="always")  # inlined: a call per row would cost more than it saves
def _prefetch_row_compiled(table, row):
    def prefetch_row_impl(table, row):
        for col in range(0, table.shape[1], max(1, CACHE_LINE // table.itemsize)):
            _prefetch_element(table, row, col)

    return prefetch_row_impl


@intrinsic
def _prefetch_element(typingctx, table, row, col):
    """``llvm.prefetch`` of the cache line that holds ``table[row, col]`` (for writing, every cache level)."""

    def codegen(context, builder, signature, args):
        table_type = signature.args[0]
        array = context.make_array(table_type)(context, builder, args[0])
        address = cgutils.get_item_pointer(context, builder, table_type, array, [args[1], args[2]])
        byte_pointer, int32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        function_type = ir.FunctionType(ir.VoidType(), [byte_pointer, int32, int32, int32])
        prefetch = builder.module.declare_intrinsic("llvm.prefetch", [byte_pointer], fnty=function_type)
        # llvm.prefetch(address, rw = 1: for writing, locality = 3: keep in every level, 1: data)
        flags = [ir.Constant(int32, 1), ir.Constant(int32, 3), ir.Constant(int32, 1)]
        builder.call(prefetch, [builder.bitcast(address, byte_pointer), *flags])
        return context.get_dummy_value()

    return types.void(table, row, col), codegen
