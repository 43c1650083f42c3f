"""Query in the local cloud reads one partition, as DynamoDB does.

moto answers a Query on a table by listing and sorting every item of the table, then keeping those with the
partition key asked for: O(table size) per call. The order path queries the account's partition on every order
(risk reads the account, its positions and open-order sums together), so a 10,000-order run slowed down as its
tables grew (risk's p50 tripled). Here moto's own Query runs on a view of the table whose items are that
partition's only (within the sort-key range asked for); everything else (key conditions, order, pagination,
filters, projections) stays moto's.
Index queries keep moto's scan: an index's partition is not stored apart.
"""

from __future__ import annotations

from typing import Any


class _PartitionView:
    """The table, except that its items are one partition's."""

    def __init__(self, table: Any, items: list[Any]) -> None:
        self._table, self._items = table, items

    def all_items(self) -> list[Any]:
        return self._items

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def install_partition_query() -> None:
    """Make moto's table Query read one partition (idempotent)."""
    from moto.dynamodb.models.table import Table

    scan_query = getattr(Table.query, "scan_query", Table.query)

    def query(
        self: Any,
        hash_key: Any,
        range_comparison: str | None,
        range_objs: list[Any],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        # moto's backend passes index_name 8th, after limit, start key, direction and projections
        index_name = args[4] if len(args) > 4 else kwargs.get("index_name")
        target = self
        if not index_name and hash_key is not None:
            partition = self.items.get(hash_key)  # .get: the defaultdict must not grow an empty partition
            if partition is None:
                items: list[Any] = []
            elif not self.range_key_attr:
                items = [partition]
            elif range_comparison:  # moto would sort the whole partition first: keep the sort-key range only
                items = [i for i in partition.values() if i.range_key.compare(range_comparison, range_objs)]
            else:
                items = list(partition.values())
            target = _PartitionView(self, items)
        return scan_query(target, hash_key, range_comparison, range_objs, *args, **kwargs)

    query.scan_query = scan_query  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]
