"""Query in the local cloud reads one partition, as DynamoDB does.

moto answers a Query on a table by listing and sorting every item of the table, then keeping those with the
partition key asked for: O(table size) per call. The order path queries the account's partition on every order
(risk reads the account, its positions and open-order sums together), so a 10,000-order run slowed down as its
tables grew (risk's p50 tripled). Here moto's own Query runs on a view of the table whose items are that
partition's only (within the sort-key range asked for); everything else (key conditions, order, pagination,
filters, projections) stays moto's. An index's partitions are not stored apart: an index Query still reads every
item, but only compares its key instead of sorting the whole table first (the broker's open orders per symbol on
every bar, the outbox sweep).
"""

from __future__ import annotations

from typing import Any


class _PartitionView:
    """The table, except that its items are one partition's."""

    def __init__(self, table: Any, items: list[Any]) -> None:  # items: in any order, moto sorts what it keeps
        self._table, self._items = table, items

    def all_items(self) -> list[Any]:
        return self._items

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def _every_item(table: Any) -> list[Any]:
    if not table.range_key_attr:
        return list(table.items.values())
    return [item for partition in table.items.values() for item in partition.values()]


def _has_keys(item: Any, keys: list[tuple[str, Any]]) -> bool:
    """The item has these key values (an item without the attribute is not in a sparse index)."""
    for name, value in keys:
        found = item.attrs.get(name)
        if found is None or found != value:
            return False
    return True


def _candidates(table: Any, hash_key: Any, range_comparison: str | None, range_objs: list[Any],
                index_name: str | None, index_keys: list[tuple[str, Any]]) -> list[Any] | None:  # fmt: skip
    """The items that can answer the Query (any order); None where moto's own listing is needed."""
    if index_name:
        if not index_keys:
            return None
        return [item for item in _every_item(table) if _has_keys(item, index_keys)]
    if hash_key is None:
        return None
    partition = table.items.get(hash_key)  # .get: the defaultdict must not grow an empty partition
    if partition is None:
        return []
    if not table.range_key_attr:
        return [partition]
    if range_comparison:  # moto would sort the whole partition first: keep the sort-key range only
        return [item for item in partition.values() if item.range_key.compare(range_comparison, range_objs)]
    return list(partition.values())


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
        index_keys = kwargs.get("hash_key_conditions") or []
        items = _candidates(self, hash_key, range_comparison, range_objs, index_name, index_keys)
        target: Any = self if items is None else _PartitionView(self, items)
        return scan_query(target, hash_key, range_comparison, range_objs, *args, **kwargs)

    query.scan_query = scan_query  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]
