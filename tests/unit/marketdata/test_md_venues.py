"""Venue formats map onto the canonical tick schema (formats are SYNTHETIC, see trade2026...venues)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from trade2026.domain.marketdata import KIND_QUOTE, KIND_TRADE, VENUE_FORMATS, normalize

NOW = 1_704_300_000_000_000_000
TS = 1_704_205_800_123_456_789  # 2024-01-02T14:30:00.123456789Z
TS_MS = 1_704_205_800_123_000_000

TRADES = {
    "XNYS": (
        {
            "type": "trade",
            "sym": "AAPL",
            "px": 185.5,
            "qty": 300,
            "t": "2024-01-02T14:30:00.123456789Z",
            "seq": 7,
        },
        TS,
    ),
    "XNAS": (
        {
            "event": "T",
            "symbol": "AAPL",
            "price": 185.5,
            "size": 300,
            "timestamp_ms": 1704205800123,
            "sequence": 7,
        },
        TS_MS,
    ),
    "BATS": ({"ev": "t", "S": "AAPL", "p": 185.5, "s": 300, "ts_ns": str(TS), "q": 7}, TS),
}
QUOTES = {
    "XNYS": (
        {
            "type": "quote",
            "sym": "AAPL",
            "bp": 185.4,
            "ap": 185.6,
            "bq": 100,
            "aq": 200,
            "t": "2024-01-02T14:30:00.123456789Z",
            "seq": 8,
        },
        TS,
    ),
    "XNAS": (
        {
            "event": "Q",
            "symbol": "AAPL",
            "bid": 185.4,
            "ask": 185.6,
            "bid_size": 100,
            "ask_size": 200,
            "timestamp_ms": 1704205800123,
            "sequence": 8,
        },
        TS_MS,
    ),
    "BATS": (
        {"ev": "q", "S": "AAPL", "bp": 185.4, "ap": 185.6, "bs": 100, "as": 200, "ts_ns": str(TS), "q": 8},
        TS,
    ),
}


@pytest.mark.parametrize("venue", sorted(TRADES))
def test_trade_of_each_venue_maps_to_the_canonical_schema(venue: str) -> None:
    # Given a trade in the venue's own raw format
    record, expected_ts = TRADES[venue]
    # When it is normalized
    result = normalize([json.dumps(record)], now_ns=NOW, known_symbols={"AAPL"})
    # Then one canonical trade comes out with the venue's fields in canonical names
    assert result.rejects == []
    ticks = result.ticks
    assert len(ticks) == 1
    assert ticks.symbol.tolist() == ["AAPL"] and ticks.venue.tolist() == [venue]
    assert ticks.kind[0] == KIND_TRADE and ticks.ts[0] == expected_ts and ticks.seq[0] == 7
    assert ticks.price[0] == 185.5 and ticks.size[0] == 300.0
    assert np.isnan([ticks.bid[0], ticks.ask[0], ticks.bid_size[0], ticks.ask_size[0]]).all()


@pytest.mark.parametrize("venue", sorted(QUOTES))
def test_quote_of_each_venue_maps_to_the_canonical_schema(venue: str) -> None:
    # Given a quote in the venue's own raw format
    record, expected_ts = QUOTES[venue]
    # When it is normalized
    result = normalize([json.dumps(record)], now_ns=NOW, known_symbols={"AAPL"})
    # Then one canonical quote comes out; trade-only fields are NaN
    ticks = result.ticks
    assert result.rejects == [] and len(ticks) == 1
    assert ticks.venue.tolist() == [venue] and ticks.kind[0] == KIND_QUOTE
    assert (ticks.ts[0], ticks.seq[0]) == (expected_ts, 8)
    assert (ticks.bid[0], ticks.ask[0], ticks.bid_size[0], ticks.ask_size[0]) == (185.4, 185.6, 100.0, 200.0)
    assert np.isnan(ticks.price[0]) and np.isnan(ticks.size[0])


def test_bytes_str_and_dict_records_are_all_accepted_and_kept_in_input_order() -> None:
    # Given the same venues' records as bytes, str and already-decoded dict, mixed
    records = [
        json.dumps(TRADES["BATS"][0]).encode(),
        QUOTES["XNAS"][0],
        json.dumps(TRADES["XNYS"][0]),
    ]
    # When normalized
    result = normalize(records, now_ns=NOW, known_symbols={"AAPL"})
    # Then all three come out, in input order, with their input positions
    assert result.ticks.venue.tolist() == ["BATS", "XNAS", "XNYS"]
    assert result.source_index.tolist() == [0, 1, 2]


def test_every_venue_format_declares_all_canonical_fields() -> None:
    # Given the venue format table / When each layout is inspected
    for venue_format in VENUE_FORMATS:
        for layout in (venue_format.trade, venue_format.quote):
            # Then it has a raw key for every canonical field and its timestamp key is the venue's
            assert len(layout.extracted_keys) == len(layout.canonical)
            assert layout.ts_key == venue_format.ts_key
    # And the timestamp key tells venues apart
    assert len({f.ts_key for f in VENUE_FORMATS}) == len(VENUE_FORMATS)


def test_unknown_symbols_are_accepted_when_no_symbol_set_is_given() -> None:
    # Given records of two symbols and no known-symbol set
    other = dict(TRADES["BATS"][0], S="MSFT", q=9)
    records = [json.dumps(TRADES["BATS"][0]), json.dumps(other)]
    # When normalized without known_symbols
    result = normalize(records, now_ns=NOW)
    # Then both are accepted and the symbol table is built from the data
    assert result.ticks.symbols == ("AAPL", "MSFT")
    assert result.ticks.symbol.tolist() == ["AAPL", "MSFT"]


def test_a_caller_can_plug_in_another_json_decoder() -> None:
    # Given a decoder with json.loads' contract that counts its calls (as orjson.loads would be passed)
    calls = []

    def counting_loads(raw: str | bytes) -> object:
        calls.append(raw)
        return json.loads(raw)

    records = [json.dumps(TRADES["BATS"][0]), "{broken", QUOTES["XNYS"][0]]
    # When normalizing with it
    result = normalize(records, now_ns=NOW, known_symbols={"AAPL"}, loads=counting_loads)
    # Then it decoded every text record (dicts are taken as they are) and its errors are bad JSON
    assert len(calls) == 2
    assert [(r.index, r.reason.value) for r in result.rejects] == [(1, "bad JSON")]
    assert len(result.ticks) == 2
