"""The trading ledger: positions, cash, realized P&L and tax lots, replayed fill by fill (pure, exact Decimal).

One ``PositionBook`` per (account, symbol) is folded over that symbol's fills with ``apply_fill``, a pure
function returning the new book and the ``Realization`` rows of the fill. Nothing here does I/O, reads the
environment or uses floats: money and quantities are ``decimal.Decimal`` computed in ``LEDGER_CONTEXT``
(60 significant digits, so products never round). The only divisions are pro-rata allocations (a fee or a
lot's cost split over part of its shares); they keep 12 decimal places at most and the LAST part always
takes the exact remainder, so every total is conserved to the last digit: the cost of a lot equals the sum
of the cost of its pieces, the proceeds of a fill equal the sum over the lots it relieved.

Conventions
- Sides: ``buy`` opens or increases a long position, ``sell`` reduces it; ``short`` opens or increases a
  short position, ``cover`` reduces it. A book is long, short or flat, never both: buying while short or
  shorting while long is a ``LedgerError`` (cover or sell first), as is selling or covering more than held.
- Cash: every fill moves cash by ``Fill.cash_flow``: ``-(quantity * price) - fee`` for buy/cover,
  ``+quantity * price - fee`` for sell/short. ``PositionBook.cash_flow`` is the sum over the symbol's fills.
- Economic cost versus tax basis. ``Lot.cost`` is what the lot's shares cost in money: for a long lot the
  price paid plus the opening fee; for a short lot the credit received (price minus the opening fee).
  ``Lot.tax_basis = cost + wash_adjustment`` adds the wash-sale losses carried into the lot. P&L, equity
  and the invariants use economic numbers (a wash sale moves tax, not money); the tax-lot and realized-gains
  reports use the tax basis and the disallowed losses.
- ``Realization.gain = proceeds - cost_basis`` is economic (fees included on both sides). For Form 8949 the
  report derives ``reportable_gain = proceeds - tax_basis + disallowed_loss`` (column (g) code W).
- Relief methods pick the lots a sell/cover closes: FIFO (earliest acquired first), LIFO (latest first),
  HIFO (the lot whose relief realizes the smallest gain first: highest tax basis per share for a long
  position, lowest credit per share for a short one; ties FIFO) and SPECIFIC (``Fill.lot_ids`` in the
  given order; a fill that carries ``lot_ids`` is always relieved by specific identification).
- Dates: the tax date of a fill is the UTC calendar date of its timestamp (US regular-session fills,
  13:30-21:00 UTC, fall on their trade date). Fills must be applied in time order.
- Lot ids: a lot opened by a fill has the fill's id. When a wash sale makes only part of a lot (or of a
  purchase) replacement shares, the replacement piece gets ``"<id>#<n>"`` with ``n`` a per-book sequence
  (``PositionBook.split_seq``), so ids never repeat; the plain shares keep the id. A partly closed lot keeps
  its id. Lots are kept in acquisition order (a late fill is inserted in place), so FIFO/LIFO need no sort.

Holding period (IRS Publication 550): counting starts the day after acquisition and the disposal day counts;
held MORE than one year is long-term. ``holding_term`` compares the disposal date with the first anniversary
of ``Lot.holding_start`` (an acquisition on February 29 has its anniversary on February 28).

Wash sales (IRC section 1091, Pub 550) - LONG stock positions only:
- A loss on a sale of shares (measured on their tax basis) is disallowed if substantially identical shares
  (here: the same symbol) are bought within 30 days before or after the sale date. Each replacement share
  absorbs at most one share of disallowed loss (per share, so a partial replacement disallows the same
  fraction of the loss); replacement shares are matched in acquisition order and loss sales in sale order.
- The disallowed loss is added to the replacement shares' tax basis (``Lot.wash_adjustment``) and the sold
  shares' holding period is added to theirs (``Lot.holding_start`` moves back by it).
- Shares bought within 30 days BEFORE the sale count if still held after the sale; the shares sold are not
  their own replacement, nor are the other shares of the same purchase (Rev. Rul. 56-602). A lot that
  already carries a wash adjustment does not absorb a second one.
- Shares bought AFTER the sale: the unmatched part of the loss stays in ``PositionBook.pending_wash`` until
  the 30th day after the sale; a later ``buy`` fill absorbs it and returns ``Realization`` rows of kind
  ``"wash"`` that amend the sale's row (same ``fill_id``/``lot_id``, ``disallowed_loss`` only, money 0).
- Gains are never affected.
Out of scope: wash sales on short positions (a cover at a loss, or a short sale as the replacement),
options, contracts and acquisitions in another account or by a spouse, the 1.1091-1(d) rules for
acquisitions of several lots on the same day, and the special holding-period rules of Pub 550 for short
sales (every short-sale gain or loss here is short-term: the shares delivered are bought to cover).
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from enum import StrEnum
from operator import attrgetter
from typing import Any, Final, Literal, get_args

Side = Literal["buy", "sell", "short", "cover"]
Direction = Literal["long", "short"]
Term = Literal["short", "long"]
RealizationKind = Literal["close", "wash"]

SIDES: Final = frozenset(get_args(Side))
WASH_WINDOW: Final = timedelta(days=30)
ZERO: Final = Decimal(0)
ALLOCATION_PLACES: Final = 12  # pro-rata allocations keep at most this many decimal places
_QUANTUM: Final = Decimal(1).scaleb(-ALLOCATION_PLACES)
_QUANTITY: Final = attrgetter("quantity")
_COST: Final = attrgetter("cost")
_OPENED: Final = attrgetter("opened")
LEDGER_CONTEXT: Final = Context(
    prec=60, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow]
)


class ReliefMethod(StrEnum):
    FIFO = "fifo"
    LIFO = "lifo"
    HIFO = "hifo"
    SPECIFIC = "specific"


class LedgerError(ValueError):
    """A fill the ledger refuses (the message names the rule and the numbers) or a broken invariant."""


class InvariantError(LedgerError):
    """``check_invariants`` found books that disagree with their fills."""


# ---------------------------------------------------------------------------- value helpers
def to_decimal(value: object, name: str) -> Decimal:
    """``value`` as a finite Decimal: Decimal, int, str, or a float through its shortest repr (never binary)."""
    if isinstance(value, bool):
        raise LedgerError(f"{name} must be a number, got {value!r}")
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError, ValueError):
        raise LedgerError(f"{name} must be a number, got {value!r}") from None
    if not number.is_finite():
        raise LedgerError(f"{name} must be finite, got {value!r}")
    return number


def to_utc(value: object, name: str) -> datetime:
    """A timezone-aware datetime (or ISO-8601 string) converted to UTC; naive times are refused."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise LedgerError(f"{name} must be an ISO-8601 timestamp, got {value!r}") from None
    if not isinstance(value, datetime):
        raise LedgerError(f"{name} must be a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise LedgerError(f"{name} must be timezone-aware (UTC), got {value.isoformat()}")
    return value.astimezone(UTC)


def dec_str(value: Decimal) -> str:
    """The exact decimal string of ``value`` without exponent notation (``Decimal('1E+2')`` -> ``'100'``)."""
    return format(value, "f")


def _prorate(total: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """``total * part / whole``, exact when that has at most ALLOCATION_PLACES decimals, else rounded to them."""
    if part == whole:
        return total
    share = total * part / whole
    exponent = share.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -ALLOCATION_PLACES:
        share = share.quantize(_QUANTUM)
    return share


class _Allocator:
    """Splits ``total`` over ``quantity`` shares piece by piece; the piece that ends it takes the remainder."""

    __slots__ = ("amount_left", "quantity_left")

    def __init__(self, total: Decimal, quantity: Decimal) -> None:
        self.amount_left = total
        self.quantity_left = quantity

    def take(self, quantity: Decimal) -> Decimal:
        amount = _prorate(self.amount_left, quantity, self.quantity_left)
        self.amount_left -= amount
        self.quantity_left -= quantity
        return amount


def _add_year(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # February 29 -> February 28
        return day.replace(year=day.year + 1, day=28)


def holding_term(holding_start: date | datetime, closed: date | datetime) -> Term:
    """``"long"`` when held MORE than one year (Pub 550: the day after acquisition starts the count)."""
    start = holding_start.date() if isinstance(holding_start, datetime) else holding_start
    end = closed.date() if isinstance(closed, datetime) else closed
    return "long" if end > _add_year(start) else "short"


# ---------------------------------------------------------------------------- records
@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. ``lot_ids`` names the lots a sell/cover closes, in order (specific identification)."""

    fill_id: str
    order_id: str
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    fee: Decimal
    ts: datetime
    strategy: str | None = None
    lot_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.fill_id or not self.symbol:
            raise LedgerError(f"fill_id and symbol are required, got {self.fill_id!r} and {self.symbol!r}")
        if self.side not in SIDES:
            raise LedgerError(f"side must be one of buy, sell, short, cover, got {self.side!r}")
        quantity = to_decimal(self.quantity, "quantity")
        price = to_decimal(self.price, "price")
        fee = to_decimal(self.fee, "fee")
        if quantity <= 0:
            raise LedgerError(f"quantity must be > 0, got {quantity}")
        if price <= 0:
            raise LedgerError(f"price must be > 0, got {price}")
        if fee < 0:
            raise LedgerError(f"fee must be >= 0, got {fee}")
        lot_ids = tuple(str(lot_id) for lot_id in self.lot_ids)
        if len(set(lot_ids)) != len(lot_ids):
            raise LedgerError(f"lot_ids must not repeat, got {list(lot_ids)}")
        object.__setattr__(self, "quantity", quantity)
        object.__setattr__(self, "price", price)
        object.__setattr__(self, "fee", fee)
        object.__setattr__(self, "ts", to_utc(self.ts, "ts"))
        object.__setattr__(self, "lot_ids", lot_ids)

    @property
    def gross(self) -> Decimal:
        return self.quantity * self.price

    @property
    def cash_flow(self) -> Decimal:
        """Cash in (+) or out (-) of the account: the notional and the fee."""
        with localcontext(LEDGER_CONTEXT):
            if self.side in ("buy", "cover"):
                return -self.gross - self.fee
            return self.gross - self.fee

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity if self.side in ("buy", "cover") else -self.quantity

    @property
    def trade_date(self) -> date:
        return self.ts.date()

    def to_dict(self) -> dict[str, Any]:
        return {
            "fill_id": self.fill_id,
            "order_id": self.order_id,
            "symbol": self.symbol,
            "side": self.side,
            "quantity": dec_str(self.quantity),
            "price": dec_str(self.price),
            "fee": dec_str(self.fee),
            "ts": self.ts.isoformat(),
            "strategy": self.strategy,
            "lot_ids": list(self.lot_ids),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Fill:
        return cls(
            fill_id=data["fill_id"],
            order_id=data["order_id"],
            symbol=data["symbol"],
            side=data["side"],
            quantity=data["quantity"],
            price=data["price"],
            fee=data.get("fee", "0"),
            ts=data["ts"],
            strategy=data.get("strategy"),
            lot_ids=tuple(data.get("lot_ids") or ()),
        )


@dataclass(frozen=True, slots=True)
class Lot:
    """Open shares of one acquisition (long) or one short sale (short).

    ``cost``: economic, total for the lot's ``quantity`` (long: paid incl. fee; short: credit net of fee).
    ``wash_adjustment``: disallowed wash-sale loss added to the tax basis (total for the lot).
    ``holding_start``: acquisition time moved back by the holding period tacked on by a wash sale.
    """

    lot_id: str
    direction: Direction
    quantity: Decimal
    cost: Decimal
    opened: datetime
    holding_start: datetime
    wash_adjustment: Decimal = ZERO
    strategy: str | None = None
    opening_fill_id: str = ""

    @property
    def tax_basis(self) -> Decimal:
        return self.cost + self.wash_adjustment

    @property
    def cost_per_share(self) -> Decimal:
        with localcontext(LEDGER_CONTEXT):
            return self.cost / self.quantity

    @property
    def tax_basis_per_share(self) -> Decimal:
        with localcontext(LEDGER_CONTEXT):
            return self.tax_basis / self.quantity

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity if self.direction == "long" else -self.quantity

    @property
    def origin(self) -> str:
        """The fill that acquired these shares (a split piece shares its origin)."""
        return self.opening_fill_id or self.lot_id

    def term_on(self, day: date | datetime) -> Term:
        return holding_term(self.holding_start, day) if self.direction == "long" else "short"

    def unrealized(self, price: Decimal) -> Decimal:
        """Economic P&L of the lot marked at ``price``."""
        with localcontext(LEDGER_CONTEXT):
            value = self.quantity * price
            return value - self.cost if self.direction == "long" else self.cost - value

    def to_dict(self) -> dict[str, Any]:
        return {
            "lot_id": self.lot_id,
            "direction": self.direction,
            "quantity": dec_str(self.quantity),
            "cost": dec_str(self.cost),
            "wash_adjustment": dec_str(self.wash_adjustment),
            "tax_basis": dec_str(self.tax_basis),
            "opened": self.opened.isoformat(),
            "holding_start": self.holding_start.isoformat(),
            "strategy": self.strategy,
            "opening_fill_id": self.origin,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Lot:
        return cls(
            lot_id=data["lot_id"],
            direction=data["direction"],
            quantity=to_decimal(data["quantity"], "quantity"),
            cost=to_decimal(data["cost"], "cost"),
            opened=to_utc(data["opened"], "opened"),
            holding_start=to_utc(data["holding_start"], "holding_start"),
            wash_adjustment=to_decimal(data.get("wash_adjustment", "0"), "wash_adjustment"),
            strategy=data.get("strategy"),
            opening_fill_id=data.get("opening_fill_id") or "",
        )


@dataclass(frozen=True, slots=True)
class Realization:
    """Closed shares of one lot by one fill (``kind="close"``), or a later wash-sale amendment of such a row.

    A ``"wash"`` row is returned by the buy fill (``trigger_fill_id``) whose shares replaced shares of an
    earlier loss sale: it carries the sale's ``fill_id``, ``lot_id``, dates and term, the replaced share
    count in ``quantity`` and only ``disallowed_loss``; its money columns are 0. Reports add the rows of one
    (fill_id, lot_id) together.
    """

    fill_id: str
    lot_id: str
    symbol: str
    direction: Direction
    quantity: Decimal
    proceeds: Decimal
    cost_basis: Decimal
    gain: Decimal
    disallowed_loss: Decimal
    opened: datetime
    holding_start: datetime
    closed: datetime
    term: Term
    strategy: str | None
    tax_basis: Decimal = ZERO
    kind: RealizationKind = "close"
    trigger_fill_id: str | None = None

    @property
    def key(self) -> str:
        """Unique per row: a storage key."""
        suffix = f"|wash|{self.trigger_fill_id}" if self.kind == "wash" else ""
        return f"{self.fill_id}|{self.lot_id}{suffix}"

    @property
    def reportable_gain(self) -> Decimal:
        """Form 8949 column (h): proceeds - tax basis + the disallowed loss (code W)."""
        return self.proceeds - self.tax_basis + self.disallowed_loss

    def to_dict(self) -> dict[str, Any]:
        return {
            "fill_id": self.fill_id,
            "lot_id": self.lot_id,
            "symbol": self.symbol,
            "direction": self.direction,
            "quantity": dec_str(self.quantity),
            "proceeds": dec_str(self.proceeds),
            "cost_basis": dec_str(self.cost_basis),
            "tax_basis": dec_str(self.tax_basis),
            "gain": dec_str(self.gain),
            "disallowed_loss": dec_str(self.disallowed_loss),
            "opened": self.opened.isoformat(),
            "holding_start": self.holding_start.isoformat(),
            "closed": self.closed.isoformat(),
            "term": self.term,
            "strategy": self.strategy,
            "kind": self.kind,
            "trigger_fill_id": self.trigger_fill_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Realization:
        money = {
            name: to_decimal(data[name], name)
            for name in ("quantity", "proceeds", "cost_basis", "tax_basis", "gain", "disallowed_loss")
        }
        return cls(
            fill_id=data["fill_id"],
            lot_id=data["lot_id"],
            symbol=data["symbol"],
            direction=data["direction"],
            opened=to_utc(data["opened"], "opened"),
            holding_start=to_utc(data["holding_start"], "holding_start"),
            closed=to_utc(data["closed"], "closed"),
            term=data["term"],
            strategy=data.get("strategy"),
            kind=data.get("kind", "close"),
            trigger_fill_id=data.get("trigger_fill_id"),
            **money,
        )


@dataclass(frozen=True, slots=True)
class PendingWash:
    """The part of a loss sale not yet matched by replacement shares, open until ``expires`` (inclusive)."""

    sale_fill_id: str
    lot_id: str
    sold_at: datetime
    quantity: Decimal  # sold shares still without a replacement share
    loss: Decimal  # their loss (> 0), still deductible unless a purchase replaces them
    opened: datetime
    holding_start: datetime
    term: Term
    strategy: str | None = None

    @property
    def expires(self) -> date:
        return self.sold_at.date() + WASH_WINDOW

    def to_dict(self) -> dict[str, Any]:
        return {
            "sale_fill_id": self.sale_fill_id,
            "lot_id": self.lot_id,
            "sold_at": self.sold_at.isoformat(),
            "quantity": dec_str(self.quantity),
            "loss": dec_str(self.loss),
            "opened": self.opened.isoformat(),
            "holding_start": self.holding_start.isoformat(),
            "term": self.term,
            "strategy": self.strategy,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PendingWash:
        return cls(
            sale_fill_id=data["sale_fill_id"],
            lot_id=data["lot_id"],
            sold_at=to_utc(data["sold_at"], "sold_at"),
            quantity=to_decimal(data["quantity"], "quantity"),
            loss=to_decimal(data["loss"], "loss"),
            opened=to_utc(data["opened"], "opened"),
            holding_start=to_utc(data["holding_start"], "holding_start"),
            term=data["term"],
            strategy=data.get("strategy"),
        )


@dataclass(frozen=True, slots=True)
class PositionBook:
    """Everything the ledger knows about one symbol of one account, in a JSON-safe round trip."""

    symbol: str
    lots: tuple[Lot, ...] = ()
    cash_flow: Decimal = ZERO
    realized: Decimal = ZERO
    fees: Decimal = ZERO
    pending_wash: tuple[PendingWash, ...] = ()
    split_seq: int = 0

    @classmethod
    def empty(cls, symbol: str) -> PositionBook:
        return cls(symbol=symbol)

    @property
    def quantity(self) -> Decimal:
        """Signed position: long positive, short negative (the lots of a book share one direction)."""
        total = sum(map(_QUANTITY, self.lots), ZERO)
        return -total if self.lots and self.lots[0].direction == "short" else total

    @property
    def direction(self) -> Direction | None:
        return self.lots[0].direction if self.lots else None

    @property
    def cost_basis(self) -> Decimal:
        """Signed economic cost of the open lots: long = paid, short = minus the credit received."""
        total = sum(map(_COST, self.lots), ZERO)
        return -total if self.lots and self.lots[0].direction == "short" else total

    @property
    def tax_basis(self) -> Decimal:
        return sum((lot.tax_basis for lot in self.lots), ZERO)

    @property
    def average_cost(self) -> Decimal:
        """Economic cost (long) or credit (short) per share; 0 when flat."""
        quantity = self.quantity
        if quantity == 0:
            return ZERO
        with localcontext(LEDGER_CONTEXT):
            return self.cost_basis / quantity

    def market_value(self, price: Decimal) -> Decimal:
        with localcontext(LEDGER_CONTEXT):
            return self.quantity * price

    def unrealized(self, price: Decimal) -> Decimal:
        with localcontext(LEDGER_CONTEXT):
            return self.quantity * price - self.cost_basis

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "quantity": dec_str(self.quantity),
            "lots": [lot.to_dict() for lot in self.lots],
            "cash_flow": dec_str(self.cash_flow),
            "realized": dec_str(self.realized),
            "fees": dec_str(self.fees),
            "pending_wash": [pending.to_dict() for pending in self.pending_wash],
            "split_seq": self.split_seq,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PositionBook:
        return cls(
            symbol=data["symbol"],
            lots=tuple(Lot.from_dict(lot) for lot in data.get("lots", ())),
            cash_flow=to_decimal(data.get("cash_flow", "0"), "cash_flow"),
            realized=to_decimal(data.get("realized", "0"), "realized"),
            fees=to_decimal(data.get("fees", "0"), "fees"),
            pending_wash=tuple(PendingWash.from_dict(item) for item in data.get("pending_wash", ())),
            split_seq=int(data.get("split_seq", 0)),
        )


# ---------------------------------------------------------------------------- apply_fill
def apply_fill(
    book: PositionBook, fill: Fill, method: ReliefMethod | str = ReliefMethod.FIFO
) -> tuple[PositionBook, list[Realization]]:
    """The book after ``fill`` and the rows it realized (pure; ``LedgerError`` leaves nothing changed)."""
    if fill.symbol != book.symbol:
        raise LedgerError(f"fill {fill.fill_id} is for {fill.symbol}, not for the {book.symbol} book")
    try:
        relief = ReliefMethod(method)
    except ValueError:
        raise LedgerError(
            f"relief method must be one of fifo, lifo, hifo, specific, got {method!r}"
        ) from None
    with localcontext(LEDGER_CONTEXT):
        state = _State(book, fill)
        rows = state.open() if fill.side in ("buy", "short") else state.close(relief)
        new_book = PositionBook(
            symbol=book.symbol,
            lots=tuple(state.lots),
            cash_flow=book.cash_flow + fill.cash_flow,
            realized=book.realized + sum((row.gain for row in rows), ZERO),
            fees=book.fees + fill.fee,
            pending_wash=tuple(state.pending),
            split_seq=state.split_seq,
        )
    return new_book, rows


class _State:
    """The mutable working copy of one book while one fill is applied."""

    def __init__(self, book: PositionBook, fill: Fill) -> None:
        self.book = book
        self.fill = fill
        self.lots: list[Lot] = list(book.lots)
        day = fill.trade_date
        self.pending = [item for item in book.pending_wash if item.expires >= day]
        self.split_seq = book.split_seq

    def _opened_since(self, start: datetime) -> list[Lot]:
        """The lots opened at or after ``start``, found from the end (lots are in acquisition order)."""
        found: list[Lot] = []
        for lot in reversed(self.lots):
            if lot.opened < start:
                break
            found.append(lot)
        return found

    def _add(self, lot: Lot) -> None:
        """Append ``lot``, or insert it in acquisition order when a fill arrives late."""
        if self.lots and self.lots[-1].opened > lot.opened:
            insort(self.lots, lot, key=_OPENED)
        else:
            self.lots.append(lot)

    def _new_id(self, base: str) -> str:
        self.split_seq += 1
        return f"{base}#{self.split_seq}"

    # -------------------------------------------------------------------- opening
    def open(self) -> list[Realization]:
        fill = self.fill
        held = self.book.quantity
        if fill.side == "buy" and held < 0:
            raise LedgerError(f"cannot buy {fill.symbol} while short {-held} shares: cover the short first")
        if fill.side == "short" and held > 0:
            raise LedgerError(f"cannot short {fill.symbol} while long {held} shares: sell the long first")
        if any(lot.origin == fill.fill_id for lot in self._opened_since(fill.ts)):
            raise LedgerError(f"fill {fill.fill_id} was already applied to the {fill.symbol} book")
        if fill.side == "short":
            credit = fill.gross - fill.fee
            self._add(
                Lot(
                    fill.fill_id,
                    "short",
                    fill.quantity,
                    credit,
                    fill.ts,
                    fill.ts,
                    ZERO,
                    fill.strategy,
                    fill.fill_id,
                )
            )
            return []
        return self._buy()

    def _buy(self) -> list[Realization]:
        """A long purchase, split into pieces that replace pending loss sales and a plain remainder."""
        fill = self.fill
        remaining = fill.quantity
        pieces: list[tuple[Decimal, Decimal, datetime]] = []  # quantity, wash adjustment, holding start
        rows: list[Realization] = []
        kept: list[PendingWash] = []
        for item in self.pending:
            if remaining == 0 or item.sold_at > fill.ts:
                kept.append(item)
                continue
            shares = min(remaining, item.quantity)
            disallowed = _prorate(item.loss, shares, item.quantity)
            pieces.append((shares, disallowed, fill.ts - (item.sold_at - item.holding_start)))
            rows.append(_wash_row(item, fill, shares, disallowed))
            remaining -= shares
            if shares < item.quantity:
                kept.append(replace(item, quantity=item.quantity - shares, loss=item.loss - disallowed))
        self.pending = kept
        if remaining > 0:
            pieces.append((remaining, ZERO, fill.ts))
        cost = _Allocator(fill.gross + fill.fee, fill.quantity)
        for shares, adjustment, holding_start in pieces:
            lot_id = fill.fill_id if len(pieces) == 1 or adjustment == 0 else self._new_id(fill.fill_id)
            lot_cost = cost.take(shares)
            self._add(
                Lot(
                    lot_id,
                    "long",
                    shares,
                    lot_cost,
                    fill.ts,
                    holding_start,
                    adjustment,
                    fill.strategy,
                    fill.fill_id,
                )
            )
        return rows

    # -------------------------------------------------------------------- closing
    def close(self, method: ReliefMethod) -> list[Realization]:
        fill = self.fill
        direction: Direction = "long" if fill.side == "sell" else "short"
        held = self.book.quantity
        available = held if direction == "long" else -held
        if available <= 0:
            position = f"long {held}" if held > 0 else (f"short {-held}" if held < 0 else "flat")
            raise LedgerError(f"cannot {fill.side} {fill.quantity} {fill.symbol}: the position is {position}")
        if fill.quantity > available:
            raise LedgerError(
                f"cannot {fill.side} {fill.quantity} {fill.symbol}: only {available} held {direction}"
            )
        order = self._relief_order(method)
        slots: list[Lot | None] = list(self.lots)
        pieces: list[Lot] = []
        remaining = fill.quantity
        for index in order:
            if remaining == 0:
                break
            lot = self.lots[index]
            take = min(remaining, lot.quantity)
            piece, slots[index] = _split(lot, take)
            pieces.append(piece)
            remaining -= take
        self.lots = [lot for lot in slots if lot is not None]
        rows = self._realize(pieces)
        if direction == "short":
            return rows
        return [
            self._wash_at_sale(row, piece.origin) if row.proceeds < row.tax_basis else row
            for row, piece in zip(rows, pieces, strict=True)
        ]

    def _relief_order(self, method: ReliefMethod) -> Iterable[int]:
        fill, lots = self.fill, self.lots
        if fill.lot_ids or method is ReliefMethod.SPECIFIC:
            return self._specific_order()
        indices = range(len(lots))  # lots are kept in acquisition order
        if method is ReliefMethod.FIFO:
            return indices
        if method is ReliefMethod.LIFO:
            return reversed(indices)
        if fill.side == "sell":  # HIFO: the smallest gain first
            return sorted(indices, key=lambda i: (-lots[i].tax_basis_per_share, lots[i].opened, i))
        return sorted(indices, key=lambda i: (lots[i].tax_basis_per_share, lots[i].opened, i))

    def _specific_order(self) -> list[int]:
        fill = self.fill
        if not fill.lot_ids:
            raise LedgerError(f"specific-lot relief needs lot_ids on fill {fill.fill_id}")
        index = {lot.lot_id: i for i, lot in enumerate(self.lots)}
        missing = [lot_id for lot_id in fill.lot_ids if lot_id not in index]
        if missing:
            raise LedgerError(f"unknown or closed {fill.symbol} lots: {', '.join(missing)}")
        order = [index[lot_id] for lot_id in fill.lot_ids]
        held = sum((self.lots[i].quantity for i in order), ZERO)
        if held < fill.quantity:
            raise LedgerError(
                f"lots {', '.join(fill.lot_ids)} hold {held} {fill.symbol}, "
                f"fewer than the {fill.quantity} to {fill.side}"
            )
        return order

    def _realize(self, pieces: list[Lot]) -> list[Realization]:
        """One row per relieved lot piece; the fill's proceeds (sell) or cost (cover) are split pro rata."""
        fill = self.fill
        rows: list[Realization] = []
        if fill.side == "sell":
            proceeds = _Allocator(fill.gross - fill.fee, fill.quantity)
            for lot in pieces:
                amount = proceeds.take(lot.quantity)
                rows.append(_close_row(fill, lot, proceeds=amount, cost=lot.cost, tax_basis=lot.tax_basis))
            return rows
        cover = _Allocator(fill.gross + fill.fee, fill.quantity)
        for lot in pieces:
            amount = cover.take(lot.quantity)
            rows.append(_close_row(fill, lot, proceeds=lot.cost, cost=amount, tax_basis=amount))
        return rows

    # -------------------------------------------------------------------- wash sales at the sale
    def _wash_at_sale(self, row: Realization, sold_origin: str) -> Realization:
        """Disallow the loss of ``row`` against shares bought in the 30 days before; the rest waits."""
        fill = self.fill
        first = datetime.combine(fill.trade_date - WASH_WINDOW, datetime.min.time(), UTC)
        recent = len(self.lots) - len(self._opened_since(first))
        candidates = [
            i
            for i in range(recent, len(self.lots))
            if self.lots[i].wash_adjustment == 0
            and self.lots[i].origin != sold_origin
            and self.lots[i].opened <= fill.ts
        ]
        shares_left = row.quantity
        loss_left = row.tax_basis - row.proceeds
        replaced: dict[int, list[Lot]] = {}
        for i in candidates:
            if shares_left == 0:
                break
            lot = self.lots[i]
            shares = min(lot.quantity, shares_left)
            disallowed = _prorate(loss_left, shares, shares_left)
            replaced[i] = self._absorb(lot, shares, disallowed, row)
            shares_left -= shares
            loss_left -= disallowed
        if replaced:
            self.lots = [piece for i, lot in enumerate(self.lots) for piece in replaced.get(i, (lot,))]
        if shares_left > 0:
            self.pending.append(
                PendingWash(
                    fill.fill_id,
                    row.lot_id,
                    fill.ts,
                    shares_left,
                    loss_left,
                    row.opened,
                    row.holding_start,
                    row.term,
                    row.strategy,
                )
            )
        return replace(row, disallowed_loss=row.tax_basis - row.proceeds - loss_left)

    def _absorb(self, lot: Lot, shares: Decimal, disallowed: Decimal, row: Realization) -> list[Lot]:
        """``lot`` with ``shares`` of it carrying ``disallowed`` and the sold shares' holding period."""
        tacked = lot.opened - (row.closed - row.holding_start)
        if shares == lot.quantity:
            return [replace(lot, wash_adjustment=disallowed, holding_start=tacked)]
        piece, rest = _split(lot, shares)
        assert rest is not None
        piece = replace(
            piece, lot_id=self._new_id(lot.lot_id), wash_adjustment=disallowed, holding_start=tacked
        )
        return [rest, piece]


def _split(lot: Lot, take: Decimal) -> tuple[Lot, Lot | None]:
    """``take`` shares of ``lot`` (cost and adjustment pro rata) and what remains (None when nothing does)."""
    if take == lot.quantity:
        return lot, None
    cost = _prorate(lot.cost, take, lot.quantity)
    adjustment = _prorate(lot.wash_adjustment, take, lot.quantity)
    piece = replace(lot, quantity=take, cost=cost, wash_adjustment=adjustment)
    rest = replace(
        lot,
        quantity=lot.quantity - take,
        cost=lot.cost - cost,
        wash_adjustment=lot.wash_adjustment - adjustment,
    )
    return piece, rest


def _close_row(fill: Fill, lot: Lot, *, proceeds: Decimal, cost: Decimal, tax_basis: Decimal) -> Realization:
    return Realization(
        fill_id=fill.fill_id,
        lot_id=lot.lot_id,
        symbol=fill.symbol,
        direction=lot.direction,
        quantity=lot.quantity,
        proceeds=proceeds,
        cost_basis=cost,
        gain=proceeds - cost,
        disallowed_loss=ZERO,
        opened=lot.opened,
        holding_start=lot.holding_start,
        closed=fill.ts,
        term=lot.term_on(fill.ts),
        strategy=lot.strategy,
        tax_basis=tax_basis,
    )


def _wash_row(item: PendingWash, fill: Fill, shares: Decimal, disallowed: Decimal) -> Realization:
    return Realization(
        fill_id=item.sale_fill_id,
        lot_id=item.lot_id,
        symbol=fill.symbol,
        direction="long",
        quantity=shares,
        proceeds=ZERO,
        cost_basis=ZERO,
        gain=ZERO,
        disallowed_loss=disallowed,
        opened=item.opened,
        holding_start=item.holding_start,
        closed=item.sold_at,
        term=item.term,
        strategy=item.strategy,
        tax_basis=ZERO,
        kind="wash",
        trigger_fill_id=fill.fill_id,
    )


# ---------------------------------------------------------------------------- account level
def equity(cash: Decimal, books: Iterable[PositionBook], prices: Mapping[str, Decimal]) -> Decimal:
    """Cash plus every position marked at ``prices`` (a missing price for an open position is an error)."""
    with localcontext(LEDGER_CONTEXT):
        total = to_decimal(cash, "cash")
        for book in books:
            quantity = book.quantity
            if quantity == 0:
                continue
            if book.symbol not in prices:
                raise LedgerError(f"no price to mark the {book.symbol} position of {quantity}")
            total += quantity * to_decimal(prices[book.symbol], f"price of {book.symbol}")
        return total


def check_invariants(
    starting_cash: Decimal,
    books: Iterable[PositionBook],
    fills_by_symbol: Mapping[str, Sequence[Fill]],
    *,
    cash: Decimal | None = None,
    prices: Mapping[str, Decimal] | None = None,
) -> None:
    """Raise ``InvariantError`` naming the first broken invariant of the books against their fills.

    Per symbol: the lots are positive and of one direction, their quantities sum to the position implied by
    the fills, and the book's cash flow and fees equal the fills'. Per account: ``cash`` (when given) equals
    the starting cash plus every fill's cash flow, and realized + unrealized P&L equals equity minus the
    starting cash at ``prices`` (default: each symbol's last fill price).
    """
    with localcontext(LEDGER_CONTEXT):
        book_list = list(books)
        by_symbol = {book.symbol: book for book in book_list}
        missing = sorted(
            symbol for symbol, fills in fills_by_symbol.items() if fills and symbol not in by_symbol
        )
        if missing:
            raise InvariantError(f"fills without a book: {', '.join(missing)}")
        expected_cash = to_decimal(starting_cash, "starting_cash")
        marks: dict[str, Decimal] = {}
        for book in book_list:
            fills = fills_by_symbol.get(book.symbol, ())
            _check_book(book, fills)
            expected_cash += sum((fill.cash_flow for fill in fills), ZERO)
            if fills:
                marks[book.symbol] = max(fills, key=lambda fill: fill.ts).price
        if cash is not None and cash != expected_cash:
            raise InvariantError(f"cash {cash} != starting cash + fill cash flows = {expected_cash}")
        marks.update(prices or {})
        pnl = sum((book.realized + book.unrealized(marks.get(book.symbol, ZERO)) for book in book_list), ZERO)
        gain = equity(expected_cash, book_list, marks) - to_decimal(starting_cash, "starting_cash")
        if pnl != gain:
            raise InvariantError(f"realized + unrealized = {pnl} != equity - starting cash = {gain}")


def _check_book(book: PositionBook, fills: Sequence[Fill]) -> None:
    symbol = book.symbol
    directions = {lot.direction for lot in book.lots}
    if len(directions) > 1 or any(lot.quantity <= 0 for lot in book.lots):
        raise InvariantError(
            f"{symbol}: lots must be positive and of one direction, got {book.to_dict()['lots']}"
        )
    position = sum((fill.signed_quantity for fill in fills), ZERO)
    if book.quantity != position:
        raise InvariantError(
            f"{symbol}: sum of lot quantities {book.quantity} != position from fills {position}"
        )
    flows = sum((fill.cash_flow for fill in fills), ZERO)
    if book.cash_flow != flows:
        raise InvariantError(f"{symbol}: book cash flow {book.cash_flow} != sum of fill cash flows {flows}")
    fees = sum((fill.fee for fill in fills), ZERO)
    if book.fees != fees:
        raise InvariantError(f"{symbol}: book fees {book.fees} != sum of fill fees {fees}")
