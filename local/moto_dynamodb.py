"""moto's DynamoDB, without its whole-table walks and its per-item overheads on a Query.

What moto 5.2 does, on each Query page:

- ``Table.query`` (``moto/dynamodb/models/table.py``) starts from ``self.all_items()``: every
  item of the table, listed and sorted. A table Query then keeps its partition and sorts it
  again; an index Query keeps the items of its index partition and sorts them by the index's
  keys. The page is found by walking that list from its first item past ``ExclusiveStartKey``
  on to the end of the partition, computing each item's size. Relance's single table holds
  every organization: each page costs the whole table.
- ``Item.project`` turns the whole item into Python values and back once per path of the
  ProjectionExpression (the customer list names 22), then checks the size of the new item
  once per attribute: ~10 ms an item.
- The response goes through moto's generic serializer, which looks up each member of each
  ``AttributeValue`` under half a dozen aliases: ~1 ms an item.
- ``transact_write_items`` deep-copies every table a transaction names, to roll back.

So a page of the customer list at 10,000 customers took ~40 s. While installed (``install()``,
which ``LocalRuntime`` calls when moto starts; ``uninstall()`` puts moto's methods back):

- ``Table.query`` reads one partition. A table Query reads ``table.items[<hash key>]``; an
  index Query reads a map from the index's hash-key values to the items that have every key
  attribute of the index (DynamoDB's sparse indexes), built at the table's first Query and
  kept in step by the write choke points: ``Table.put_item`` and ``Table.delete_item`` (every
  PutItem, DeleteItem, BatchWriteItem, transaction, PartiQL statement and import, and the
  UpdateItem that creates its item) and ``DynamoDBBackend.update_item`` (which changes the
  stored item in place). A partition's order, by moto's own sort keys compared as moto
  compares them, and its items' sizes are kept until it changes. ``ExclusiveStartKey`` and
  the key condition's range are found by bisection; then moto's loop runs as moto wrote it
  (Limit, the 1 MB page, ScannedCount, LastEvaluatedKey, QueryFilter), then the index's
  projection, FilterExpression and ProjectionExpression. The answer is moto's, item for item,
  quirks included (a page that ends exactly at Limit has a LastEvaluatedKey when the
  partition has items past the range). One assumption: no item is over DynamoDB's 400 KB,
  so the items outside the range never end a page by size on their own.
  A Query this does not answer (an unknown index, a request moto rejects, an
  ``ExclusiveStartKey`` without the index's keys...) goes to moto's own ``query``.
- Projections naming top-level attributes copy them, when boto3's round trip (what moto
  does) would give them back unchanged: strings, booleans, nulls, numbers in boto3's form,
  maps and lists of those. Other projections are moto's.
- Results of DynamoDB operations (``DynamoResult``) are rendered by the output shape with
  plain key lookups, which is what moto's serializer finds when every key of the result is
  a member name of its shape (the rendering falls back to moto's serializer otherwise).
- A transaction copies the items it names, not the tables, and puts them back if it fails.
  DynamoDB applies a transaction entirely or not at all; moto lets a few errors through
  half-applied, which this rolls back too. With a stream on a table, moto's own way.

GetItem, BatchGetItem and TransactGetItems look items up by key in moto: nothing to change.
Scan walks the table, as a Scan does. Not thread-safe, like moto's backend: the local runtime
handles DynamoDB requests one at a time (``MotoServer`` in ``local/runtime.py``).
"""

from __future__ import annotations

import base64
import copy
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from operator import itemgetter
from typing import Any, cast

from boto3.dynamodb.types import DYNAMODB_CONTEXT
from botocore.model import Shape
from moto import settings
from moto.core.responses import ActionContext
from moto.core.serialize import BaseJSONSerializer
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, GlobalSecondaryIndex, SecondaryIndex, Table
from moto.dynamodb.responses import DynamoResult

MAX_ITEM_SIZE = 400 * 1024  # DynamoDB's item size limit
MOTO_ITEM_SIZE = 405_000  # moto's: it refuses larger items when an attribute is set
_STATE = "_relance_partitions"  # the attribute of a moto Table that holds its _TableState

ItemKey = tuple[DynamoType, DynamoType | None]
SortKey = tuple[Any, ...]
Page = tuple[list[Item], int, dict[str, Any] | None]

# The methods replaced: (class, name), and moto's own.
_SEAMS: list[tuple[type, str]] = [
    (Table, "query"),
    (Table, "put_item"),
    (Table, "delete_item"),
    (DynamoDBBackend, "update_item"),
    (DynamoDBBackend, "transact_write_items"),
    (DynamoResult, "execute_result"),  # inherited from moto's ActionResult
]
_MOTO: dict[str, Callable[..., Any]] = {name: getattr(owner, name) for owner, name in _SEAMS}
_OWN = {name: name in owner.__dict__ for owner, name in _SEAMS}  # defined there, not inherited
# Each install starts an epoch: partitions built under an earlier one missed writes since.
_installation = {"installed": False, "epoch": 0}
stats = {"answered": 0, "delegated": 0, "rendered": 0}  # Queries answered here, by moto; results rendered here


# ---------------------------------------------------------------- installation
def install() -> None:
    """Patch moto's DynamoDB (idempotent)."""
    if _installation["installed"]:
        return
    _installation["epoch"] += 1
    _installation["installed"] = True
    replacements = [query, _put_item, _delete_item, _update_item, _transact_write_items, _execute_result]
    for (owner, name), replacement in zip(_SEAMS, replacements, strict=True):
        setattr(owner, name, replacement)


def uninstall() -> None:
    """Put moto's own methods back."""
    _installation["installed"] = False
    for owner, name in _SEAMS:
        _restore_method(owner, name)


def _restore_method(owner: type, name: str) -> None:
    if _OWN[name]:
        setattr(owner, name, _MOTO[name])
    elif name in owner.__dict__:
        delattr(owner, name)


@contextmanager
def moto_reads() -> Iterator[None]:
    """Meanwhile, moto answers Queries and renders results itself (the partitions stay in step)."""
    patched = [(owner, name, owner.__dict__[name]) for owner, name in _SEAMS if name in owner.__dict__]
    _restore_method(Table, "query")
    _restore_method(DynamoResult, "execute_result")
    try:
        yield
    finally:
        for owner, name, method in patched:
            setattr(owner, name, method)


# ---------------------------------------------------------------- partitions
@dataclass
class _Order:
    """A partition in moto's order: its items and their sort keys, ascending."""

    attrs: tuple[str, ...]
    keys: list[SortKey]
    items: list[Item]


def _ordered(items: Sequence[Item], attrs: tuple[str, ...]) -> _Order:
    # moto sorts by tuples of DynamoType, which compare by ``cast_value``: the same order.
    pairs = sorted(((tuple(i.attrs[a].cast_value for a in attrs), i) for i in items), key=itemgetter(0))
    return _Order(attrs, [k for k, _ in pairs], [i for _, i in pairs])


@dataclass
class _IndexPartitions:
    """An index's items by the values of its hash keys: the items with every key attribute."""

    schema: list[dict[str, str]]
    hash_attrs: tuple[str, ...]
    key_attrs: tuple[str, ...]
    buckets: dict[tuple[DynamoType, ...], dict[ItemKey, Item]] = field(default_factory=dict)
    where: dict[ItemKey, tuple[DynamoType, ...]] = field(default_factory=dict)
    orders: dict[tuple[DynamoType, ...], _Order] = field(default_factory=dict)

    def sync(self, key: ItemKey, item: Item | None) -> None:
        """Move the item now stored at ``key`` (None: none is) to its partition."""
        old = self.where.pop(key, None)
        if old is not None:
            bucket = self.buckets[old]
            del bucket[key]
            self.orders.pop(old, None)
            if not bucket:
                del self.buckets[old]
        if item is None or any(a not in item.attrs for a in self.key_attrs):
            return
        value = tuple(item.attrs[a] for a in self.hash_attrs)
        try:
            hash(value)
        except TypeError:  # a map, list or set where a key belongs: no key condition matches it
            return
        self.buckets.setdefault(value, {})[key] = item
        self.where[key] = value
        self.orders.pop(value, None)

    def order(self, value: tuple[DynamoType, ...], attrs: tuple[str, ...]) -> _Order:
        cached = self.orders.get(value)
        if cached is None or cached.attrs != attrs:
            cached = self.orders[value] = _ordered(list(self.buckets.get(value, {}).values()), attrs)
        return cached


@dataclass
class _TableState:
    epoch: int
    table_orders: dict[DynamoType, _Order] = field(default_factory=dict)
    indexes: dict[str, _IndexPartitions] = field(default_factory=dict)
    sizes: dict[ItemKey, int] = field(default_factory=dict)  # Item.size() of the stored items

    def size(self, item: Item) -> int:
        key = (item.hash_key, item.range_key)
        size = self.sizes.get(key)
        if size is None:
            size = self.sizes[key] = item.size()
        return size


def _state(table: Table) -> _TableState:
    state: _TableState | None = table.__dict__.get(_STATE)
    if state is None or state.epoch != _installation["epoch"]:
        state = _TableState(_installation["epoch"])
        setattr(table, _STATE, state)
    return state


def _stored_items(table: Table) -> Iterator[tuple[ItemKey, Item]]:
    for partition in table.items.values():
        if isinstance(partition, Item):
            yield (partition.hash_key, None), partition
        else:
            for item in partition.values():
                yield (item.hash_key, item.range_key), item


def _stored(table: Table, key: ItemKey) -> Item | None:
    partition = table.items.get(key[0])  # not table.items[...]: it is a defaultdict
    if table.range_key_attr is None:
        return partition if isinstance(partition, Item) else None
    return partition.get(key[1]) if isinstance(partition, dict) else None


def _index_partitions(table: Table, index: SecondaryIndex) -> _IndexPartitions:
    state = _state(table)
    partitions = state.indexes.get(index.name)
    if partitions is None or partitions.schema != index.schema:
        names = tuple(k["AttributeName"] for k in index.schema)
        hashes = tuple(k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH")
        partitions = _IndexPartitions(copy.deepcopy(index.schema), hashes, names)
        for key, item in _stored_items(table):  # once per index; then _sync keeps it in step
            partitions.sync(key, item)
        state.indexes[index.name] = partitions
    return partitions


def _table_order(table: Table, hash_key: DynamoType, attrs: tuple[str, ...]) -> _Order:
    state = _state(table)
    cached = state.table_orders.get(hash_key)
    if cached is None or cached.attrs != attrs:
        partition = table.items.get(hash_key)
        members = [partition] if isinstance(partition, Item) else list((partition or {}).values())
        cached = state.table_orders[hash_key] = _ordered(members, attrs)
    return cached


def _sync(table: Table, key: ItemKey, *, keys_changed: bool) -> None:
    """After a write at ``key``: the partitions follow what moto now stores there."""
    state: _TableState | None = table.__dict__.get(_STATE)
    if state is None or state.epoch != _installation["epoch"]:
        return  # built at the table's next Query
    if keys_changed:
        state.table_orders.pop(key[0], None)
    state.sizes.pop(key, None)
    item = _stored(table, key)
    for partitions in state.indexes.values():
        partitions.sync(key, item)


def _key_of(table: Table, attrs: dict[str, Any]) -> ItemKey | None:
    """The primary key named in a request's item or key (None if incomplete)."""
    try:
        hash_value = DynamoType(attrs[table.hash_key_attr])
        range_value = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
    except (KeyError, TypeError, AttributeError, IndexError):
        return None
    return hash_value, range_value


# ---------------------------------------------------------------- the write choke points
def _put_item(self: Table, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Item:
    try:
        return _MOTO["put_item"](self, item_attrs, *args, **kwargs)  # type: ignore[no-any-return]
    finally:
        key = _key_of(self, item_attrs)
        if key is not None:
            _sync(self, key, keys_changed=True)


def _delete_item(self: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Item | None:
    try:
        return _MOTO["delete_item"](self, hash_key, range_key)  # type: ignore[no-any-return]
    finally:
        _sync(self, (hash_key, range_key if self.range_key_attr else None), keys_changed=True)


def _update_item(self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Item:
    try:
        return _MOTO["update_item"](self, table_name, key, *args, **kwargs)  # type: ignore[no-any-return]
    finally:
        table = next((t for t in self.tables.values() if table_name in (t.name, t.table_arn)), None)
        item_key = _key_of(table, key) if table is not None else None
        if table is not None and item_key is not None:
            _sync(table, item_key, keys_changed=False)  # changed in place: no key comes or goes


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    tables = list(self.tables.values())
    if any(t.stream_shard is not None for t in tables):
        _MOTO["transact_write_items"](self, transact_items)
        return
    before: dict[tuple[int, ItemKey], tuple[Table, ItemKey, Item | None]] = {}
    for entry in transact_items:
        for operation in entry.values():
            try:
                table = self.get_table(operation["TableName"])
                key = _key_of(table, operation["Item"] if "Item" in operation else operation["Key"])
            except Exception:  # noqa: S112 (a malformed operation writes nothing: moto reports it)
                continue
            if key is not None and (id(table), key) not in before:
                before[(id(table), key)] = (table, key, copy.deepcopy(_stored(table, key)))
    for table in tables:  # moto's snapshot of each table is the table itself ...
        setattr(table, "__deepcopy__", _itself(table))  # noqa: B010
    try:
        _MOTO["transact_write_items"](self, transact_items)
    except BaseException:
        for table, key, item in before.values():  # ... and these copies are the rollback
            _restore(table, key, item)
        raise
    finally:
        for table in tables:
            table.__dict__.pop("__deepcopy__", None)


def _itself(table: Table) -> Callable[[dict[int, Any]], Table]:
    return lambda memo: table


def _restore(table: Table, key: ItemKey, item: Item | None) -> None:
    hash_value, range_value = key
    if table.range_key_attr is None:
        if item is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = item  # type: ignore[assignment]
    elif item is None:
        partition = table.items.get(hash_value)
        if isinstance(partition, dict):
            partition.pop(range_value, None)
    else:
        table.items[hash_value][range_value] = item
    _sync(table, key, keys_changed=True)


# ---------------------------------------------------------------- Query
class _Delegate(Exception):
    """moto's own query answers this one (usually to report an error of the request)."""


@dataclass
class _Partition:
    """What a Query reads: its partition in moto's order, and what moto compares it by."""

    keys: list[SortKey]
    items: list[Item]
    attrs: tuple[str, ...]  # the sort attributes, moto's ``_generate_attr_to_sort_by``
    constant: set[str]  # attributes of one value across the partition
    compared: str | None  # the attribute moto compares with the key condition's range


def query(
    self: Table,
    hash_key: DynamoType | None,
    range_comparison: str | None,
    range_objs: list[DynamoType],
    limit: int | None,
    exclusive_start_key: dict[str, Any] | None,
    scan_index_forward: bool,
    projection_expressions: list[list[str]] | None,
    index_name: str | None = None,
    consistent_read: bool = False,
    filter_expression: Any = None,
    hash_key_conditions: list[tuple[str, DynamoType]] | None = None,
    range_key_conditions: list[tuple[str, str, list[DynamoType]]] | None = None,
    **filter_kwargs: Any,
) -> Page:
    """``Table.query``, with moto's signature and answers, from one partition."""
    try:
        if limit is not None and limit < 1:
            raise _Delegate
        if index_name:
            partition = _index_partition(
                self, index_name, consistent_read, range_comparison, hash_key_conditions or [], range_key_conditions
            )
        else:
            partition = _table_partition(self, hash_key, range_comparison, range_key_conditions)
        walk, rest = _walk(
            partition, exclusive_start_key, scan_index_forward, range_comparison, range_objs, filter_kwargs
        )
        results, sizes, scanned_count, last_evaluated_key = _moto_loop(
            self, partition.compared, walk, rest, limit, range_comparison, range_objs, index_name, filter_kwargs
        )
    except Exception:  # moto's own query answers: the same answer, or the same error
        stats["delegated"] += 1
        return _MOTO["query"](  # type: ignore[no-any-return]
            self,
            hash_key,
            range_comparison,
            range_objs,
            limit,
            exclusive_start_key,
            scan_index_forward,
            projection_expressions,
            index_name,
            consistent_read,
            filter_expression,
            hash_key_conditions=hash_key_conditions,
            range_key_conditions=range_key_conditions,
            **filter_kwargs,
        )
    stats["answered"] += 1

    # As moto ends its query, but for its deep copy of the page: the handler turns the page into
    # plain dicts (``DynamoResult``) before any other request runs, so nothing can change it.
    page = list(zip(results, sizes, strict=True))
    if index_name:
        page = [(_index_projection(self.get_index(index_name), r, size), size) for r, size in page]
    if filter_expression is not None:
        page = [(r, size) for r, size in page if filter_expression.expr(r)]
    if projection_expressions:
        page = [(_projection(r, projection_expressions, size), size) for r, size in page]
    return [r for r, _ in page], scanned_count, last_evaluated_key


def _table_partition(
    table: Table,
    hash_key: DynamoType | None,
    range_comparison: str | None,
    range_key_conditions: list[tuple[str, str, list[DynamoType]]] | None,
) -> _Partition:
    if hash_key is None:
        raise _Delegate
    attrs = tuple(table._generate_attr_to_sort_by([table.hash_key_attr], [table.range_key_attr]))
    order = _table_order(table, hash_key, attrs)
    compared = None
    if range_comparison:
        compared = range_key_conditions[-1][0] if range_key_conditions else table.range_key_attr
    return _Partition(order.keys, order.items, attrs, {table.hash_key_attr}, compared)


def _index_partition(
    table: Table,
    index_name: str,
    consistent_read: bool,
    range_comparison: str | None,
    hash_key_conditions: list[tuple[str, DynamoType]],
    range_key_conditions: list[tuple[str, str, list[DynamoType]]] | None,
) -> _Partition:
    # The items moto selects, and their order: moto's rules (moto raises its validation errors).
    index = {i.name: i for i in table.all_indexes()}.get(index_name)
    if index is None or (consistent_read and index in table.global_indexes):
        raise _Delegate
    hash_keys = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
    range_keys: list[str | None] = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
    if not hash_keys or (not range_keys and range_comparison):
        raise _Delegate
    if not range_keys:
        if isinstance(index, GlobalSecondaryIndex) and table.range_key_attr:
            range_keys = [table.range_key_attr]
        else:
            range_keys = [table.hash_key_attr]
    attrs = tuple(
        table._generate_attr_to_sort_by([*hash_keys, table.hash_key_attr], [*range_keys, table.range_key_attr])
    )

    conditions = dict(hash_key_conditions)
    partitions = _index_partitions(table, index)
    if set(conditions) != set(partitions.hash_attrs):
        raise _Delegate
    order = partitions.order(tuple(conditions[a] for a in partitions.hash_attrs), attrs)
    keys, items = order.keys, order.items
    equalities = {name: values[0] for name, _, values in (range_key_conditions or [])[:-1]}
    if equalities:  # multi-attribute range keys: the leading ones are equalities
        kept = [n for n, i in enumerate(items) if all(a in i.attrs and i.attrs[a] == v for a, v in equalities.items())]
        keys, items = [keys[n] for n in kept], [items[n] for n in kept]
    compared = None
    if range_comparison:
        compared = range_key_conditions[-1][0] if range_key_conditions else range_keys[0]
    return _Partition(keys, items, attrs, set(conditions) | set(equalities), compared)


def _walk(
    partition: _Partition,
    exclusive_start_key: dict[str, Any] | None,
    forward: bool,
    range_comparison: str | None,
    range_objs: list[DynamoType],
    filter_kwargs: dict[str, Any],
) -> tuple[list[Item], list[Item]]:
    """The items moto's loop visits, in its order: those of the key condition, and the rest."""
    keys, items = partition.keys, partition.items
    # moto skips the items before ExclusiveStartKey, and the one at it.
    start, end = 0, len(items)
    if exclusive_start_key is not None:
        after = tuple(DynamoType(exclusive_start_key[a]).cast_value for a in partition.attrs)
        if forward:
            start = bisect_right(keys, after)
        else:
            end = bisect_left(keys, after)
    run: tuple[int, int] | None = (0, len(items))
    if filter_kwargs:
        run = None  # QueryFilter (the legacy API): moto's loop over the whole partition
    elif range_comparison:
        run = None
        # The items that meet the key condition are one run of the order when the compared
        # attribute is the first one that varies.
        compared = partition.compared
        if (
            compared in partition.attrs
            and set(partition.attrs[: partition.attrs.index(compared)]) <= partition.constant
        ):
            run = _run(keys, partition.attrs.index(compared), range_comparison, [o.cast_value for o in range_objs])
    if run is None:
        return (items[start:end] if forward else items[start:end][::-1]), []
    low, high = run
    if forward:
        return items[max(low, start) : max(high, start)], items[max(high, start) : end]
    return items[low : min(high, end)][::-1], items[start : min(low, end)][::-1]


def _moto_loop(
    table: Table,
    compared: str | None,
    walk: list[Item],
    rest: list[Item],
    limit: int | None,
    range_comparison: str | None,
    range_objs: list[DynamoType],
    index_name: str | None,
    filter_kwargs: dict[str, Any],
) -> tuple[list[Item], list[int], int, dict[str, Any] | None]:
    """moto's loop over ``walk``: Limit, the 1 MB page, ScannedCount, LastEvaluatedKey.

    Also the size of each item of the page.
    """
    results: list[Item] = []
    sizes: list[int] = []
    result_size = 0
    scanned_count = 0
    state = _state(table)
    for result in walk:
        size = state.size(result)
        if len(results) == limit or (result_size + size) > RESULT_SIZE_LIMIT:
            return results, sizes, scanned_count, table._get_last_evaluated_key(results[-1], index_name)
        appended, scanned = _appended(result, compared, range_comparison, range_objs, index_name, filter_kwargs)
        results += [result] * appended
        sizes += [size] * appended
        result_size += size * appended
        scanned_count += scanned
    # moto walks on to the end of the partition, where nothing meets the key condition; but
    # its first item ends a full page, and any item too large for the page ends the page.
    if rest and results:
        large = result_size > RESULT_SIZE_LIMIT - MAX_ITEM_SIZE
        if len(results) == limit or (large and any(result_size + state.size(r) > RESULT_SIZE_LIMIT for r in rest)):
            return results, sizes, scanned_count, table._get_last_evaluated_key(results[-1], index_name)
    return results, sizes, scanned_count, None


def _appended(
    result: Item,
    compared: str | None,
    range_comparison: str | None,
    range_objs: list[DynamoType],
    index_name: str | None,
    filter_kwargs: dict[str, Any],
) -> tuple[int, int]:
    """How many times moto's loop appends the item to the page, and counts it as scanned."""
    appended = scanned = 0
    if not range_comparison and not filter_kwargs:
        appended, scanned = 1, 1
    if range_comparison:
        value = result.attrs.get(compared) if compared else None
        if value is not None:
            if value.compare(range_comparison, range_objs):
                appended, scanned = appended + 1, scanned + 1
        elif not index_name and result.range_key.compare(range_comparison, range_objs):  # type: ignore[union-attr]
            appended, scanned = appended + 1, scanned + 1
    if filter_kwargs:
        for name, condition in filter_kwargs.items():
            operands = [DynamoType(v) for v in condition["AttributeValueList"]]
            if result.attrs[name].compare(condition["ComparisonOperator"], operands):
                appended += 1
        scanned += 1
    return appended, scanned


def _run(keys: list[SortKey], position: int, comparison: str, values: list[Any]) -> tuple[int, int] | None:
    """The positions whose ``position``-th sort value meets the comparison: [low, high)."""
    value = itemgetter(position)
    first = values[0] if values else None
    if comparison in ("=", "EQ"):
        return bisect_left(keys, first, key=value), bisect_right(keys, first, key=value)
    if comparison in ("<", "LT", "<=", "LE"):
        return 0, (bisect_left if comparison in ("<", "LT") else bisect_right)(keys, first, key=value)
    if comparison in (">", "GT", ">=", "GE"):
        return (bisect_right if comparison in (">", "GT") else bisect_left)(keys, first, key=value), len(keys)
    if comparison == "BETWEEN" and len(values) == 2:
        low = bisect_left(keys, values[0], key=value)
        return low, max(low, bisect_right(keys, values[1], key=value))
    if comparison == "BEGINS_WITH" and isinstance(first, str | bytes):
        size = len(first)
        return bisect_left(keys, first, key=value), bisect_right(keys, first, key=lambda k: k[position][:size])
    return None


# ---------------------------------------------------------------- projections
def _index_projection(index: SecondaryIndex, item: Item, size: int) -> Item:
    """``SecondaryIndex.project``: the index's projection (KEYS_ONLY, INCLUDE or ALL)."""
    projection_type = (index.projection or {}).get("ProjectionType")
    keys = [*index.table_key_attrs, *(k["AttributeName"] for k in index.schema)]
    if projection_type == "KEYS_ONLY":
        return _projection(item, [[a] for a in keys], size)
    if projection_type == "INCLUDE":
        return _projection(item, [[a] for a in [*keys, *index.projection.get("NonKeyAttributes", [])]], size)
    return item


def _projection(item: Item, paths: list[list[str]], size: int) -> Item:
    """``Item.project`` when every path is a top-level attribute; moto's own otherwise.

    moto turns the whole item into Python values, and back, once per path: a list page of 22
    attributes costs ~10 ms an item. The same attributes are taken here when that round trip
    (boto3's TypeDeserializer, then TypeSerializer) gives them back unchanged — strings,
    booleans, nulls, numbers already in boto3's form, and maps and lists of those; sets come
    back in another order, binaries in another type, so moto projects those itself. The new
    item skips moto's per-attribute size check (quadratic): it is part of an item of ``size``
    bytes, within the limit.
    """
    if size > MOTO_ITEM_SIZE or any(len(path) != 1 or "[" in path[0] for path in paths):
        return item.project(paths)
    attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    for name in dict.fromkeys(path[0] for path in paths):
        value = item.attrs.get(name)
        if value is None:
            continue
        if not _round_trips(value):
            return item.project(paths)
        dict.__setitem__(attrs, name, value)  # shared with the stored item, as the page is
    projected = cast(Item, Item.__new__(Item))  # as moto's Item.__deepcopy__ does
    projected.hash_key, projected.range_key, projected.attrs = item.hash_key, item.range_key, attrs
    return projected


def _round_trips(value: Any) -> bool:
    """Whether boto3's deserializer then serializer give this attribute value back as it is."""
    if not isinstance(value, DynamoType):
        return False
    if value.type in ("S", "BOOL"):
        return True
    if value.type == "NULL":
        return value.value is True
    if value.type == "N":
        try:
            return bool(str(DYNAMODB_CONTEXT.create_decimal(value.value)) == value.value)
        except (ArithmeticError, TypeError, ValueError):
            return False
    if value.type == "M":
        return all(_round_trips(v) for v in value.value.values())
    if value.type == "L":
        return all(_round_trips(v) for v in value.value)
    return False


# ---------------------------------------------------------------- responses
class _Unrendered(Exception):
    """moto's serializer renders this one."""


_UNSET = object()  # what moto's serializer leaves out: a structure that is None


def _execute_result(self: DynamoResult, context: ActionContext) -> Any:
    """``ActionResult.execute_result`` for DynamoDB: the JSON body rendered by the output shape."""
    try:
        response = _rendered(self.result, context)
    except Exception:  # moto's serializer: the same body, or the same error
        return _MOTO["execute_result"](self, context)
    stats["rendered"] += 1
    return response


def _rendered(result: Any, context: ActionContext) -> Any:
    operation = context.operation_model
    shape = operation.output_shape
    if shape is None or operation.has_event_stream_output or context.response.RESPONSE_KEY_PATH_TO_TRANSFORMER:
        raise _Unrendered
    serializer = context.serializer_class(operation_model=operation, pretty_print=settings.PRETTIFY_RESPONSES)
    if not isinstance(serializer, BaseJSONSerializer):
        raise _Unrendered
    body = _render(result, shape)
    response = serializer._serialized_result_to_response(
        serializer._create_default_response(), result, shape, {} if body is _UNSET else body
    )
    return response["status_code"], response["headers"], response["body"]


def _render(value: Any, shape: Shape) -> Any:
    """What moto's JSON serializer makes of ``value``, when a plain key lookup finds what it would.

    moto's serializer looks a structure member up under aliases (the shape's name, snake case,
    prefixes...) before and after its own name; none of them is a member name of DynamoDB's
    shapes, so when every key of a dict is a member name, the lookup by name finds the same.
    """
    kind = shape.type_name
    if kind == "structure":
        if value is None:
            return _UNSET
        members = shape.members
        if shape.is_document_type:
            return value
        if not isinstance(value, dict) or not value.keys() <= members.keys():
            raise _Unrendered
        if shape.name == "AttributeValue" and len(value) == 1:
            return _attribute_value(value, members)
        rendered = {}
        for name, member in members.items():
            if value.get(name) is not None:
                rendered[member.serialization.get("name", name)] = _render(value[name], member)
        return rendered
    if kind == "list":
        member = shape.member
        if not isinstance(value, list | tuple) or "name" in member.serialization:
            raise _Unrendered
        return [item if (r := _render(item, member)) is _UNSET else r for item in value]
    if kind == "map":
        member = shape.value
        if not isinstance(value, dict) or "name" in member.serialization or not all(value):
            raise _Unrendered  # (moto's serializer merges an entry of empty key into the map)
        return {k: r for k, v in value.items() if (r := _render(v, member)) is not _UNSET}
    return _scalar(value, kind)


def _scalar(value: Any, kind: str) -> Any:
    if kind == "string":
        if isinstance(value, Enum):
            value = value.value
        return str(value) if value not in [None, {}, []] else value
    if kind == "blob":
        return base64.b64encode(value.encode("utf-8") if isinstance(value, str) else value).strip().decode("utf-8")
    if kind in ("integer", "long"):
        return int(value)
    if kind in ("float", "double"):
        return float(value)
    if kind == "boolean":
        return value
    raise _Unrendered  # timestamps, and what else moto's serializer knows better


def _attribute_value(value: dict[str, Any], members: dict[str, Shape]) -> dict[str, Any]:
    """One ``AttributeValue``, the bulk of an item: its one member is its type."""
    ((kind, inner),) = value.items()
    if inner is None:
        return {}
    member = members[kind]
    if (type(inner) is str and member.type_name == "string") or member.type_name == "boolean":
        return {kind: inner}  # what _scalar gives back
    return {kind: _render(inner, member)}
