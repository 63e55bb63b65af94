"""One real ``dask.distributed`` cluster (2 worker processes) for the whole scale suite."""

from __future__ import annotations

import pytest
from dask import distributed


@pytest.fixture(scope="session")
def client():
    """A ``Client`` on a ``LocalCluster`` of 2 single-threaded worker processes, closed at the end.

    Worker processes (not threads) make every task's inputs and results cross a process
    boundary, as on a real cluster: a statistic that only works in shared memory fails here.
    """
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        memory_limit="2GiB",
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()
