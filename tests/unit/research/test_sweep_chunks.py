"""A sweep's chunks are counted once however often Step Functions retries their task."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from tests.unit.dynamodb_tables import create_tables
from trade2026.adapters import research_store


@pytest.fixture
def table() -> Iterator[None]:
    with mock_aws():
        create_tables({"backtests": "BacktestsTable"})
        research_store.bind_table("backtests")
        yield


def test_a_retried_chunk_counts_once(table: None):
    # Given a sweep of 3 chunks
    research_store.create_run("sweep", "s1", "alice", {}, status="RUNNING", chunks_total=3)
    # When chunk 0 reports twice (a retried task) and chunk 1 once
    first, retried = (
        research_store.record_chunk_done("s1", 0, 10),
        research_store.record_chunk_done("s1", 0, 10),
    )
    research_store.record_chunk_done("s1", 1, 10)
    # Then the retry is recognised and two chunks are done
    assert (first, retried) == (True, False)
    run = research_store.get_run("sweep", "s1")
    assert run is not None and run.chunks_done == 2
