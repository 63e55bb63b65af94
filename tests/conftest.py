"""Suite-wide settings.

pytest runs on two worker processes (``-n 2`` in pyproject), one per core of the CI machine,
so each worker's BLAS is held to one thread: two workers each starting two OpenBLAS threads
on two cores made small LAPACK calls stall by orders of magnitude. Benchmarks, not tests,
measure speed.
"""

import matplotlib
from threadpoolctl import threadpool_limits

matplotlib.use("Agg")
_BLAS_LIMIT = threadpool_limits(limits=1, user_api="blas")
