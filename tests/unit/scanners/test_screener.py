"""The screener's filter language: validation with the allowed values, evaluation equal to hand filtering on
the real panel, missing values (close-only data) failing conditions, sorting with missing values last."""

from __future__ import annotations

import numpy as np
import pytest
import talib

from trade2026.domain import screener
from trade2026.domain.scanners import SCANNERS

AS_OF = "2016-06-30"


@pytest.mark.parametrize(
    ("filter_", "words"),
    [
        ({"field": "pe_ratio", "op": ">", "value": 1}, "unknown field 'pe_ratio'; allowed: price"),
        ({"field": "return_20d", "op": "~", "value": 1}, "unknown operator '~'; allowed: >, >="),
        ({"field": "return_20d", "op": ">", "value": "high"}, "value must be a number"),
        ({"field": "rsi_1", "op": ">", "value": 1}, "N in 'rsi_1' must be in [2, 1000]"),
        ({"field": "return_20d", "op": "between", "value": [2, 1]}, "between takes [low, high]"),
        ({"all": []}, "must be a non-empty list"),
        ({"all": [{"field": "price"}]}, "filter.all[0]: expected one of all, any, not"),
        ({"any": [{"field": "price", "op": ">", "value": 1}], "all": []}, "expected one of all, any, not"),
    ],
)
def test_bad_filters_name_the_problem_and_the_allowed_values(filter_, words):
    # Given a filter with a mistake, When it is parsed, Then the error names it (and what is allowed)
    with pytest.raises(screener.ScreenError) as error:
        screener.parse(filter_, [], 10)
    assert words in str(error.value)
    if "unknown field" in words:
        assert "score_time_machine" in error.value.allowed


def test_a_nested_filter_equals_filtering_by_hand(panel):
    # Given: 20-day return > 0 and (RSI(14) < 70 or 12-1 momentum score > 0.2), sorted by return
    filter_ = {"all": [
        {"field": "return_20d", "op": ">", "value": 0.0},
        {"any": [{"field": "rsi_14", "op": "<", "value": 70},
                 {"field": "score_momentum_12_1", "op": ">", "value": 0.2}]},
    ]}  # fmt: skip
    screen = screener.parse(filter_, [{"field": "return_20d", "order": "desc"}], 50)
    t = panel.row_of(AS_OF)
    # When it runs on the real panel
    result = screener.run(screen, panel, t)
    # Then the rows are exactly the symbols that pass by hand, in descending return order
    c = panel.close
    ret = c[t] / c[t - 20] - 1
    rsi = np.array([talib.RSI(c[: t + 1, j], 14)[-1] for j in range(c.shape[1])])
    mom = c[t - 21] / c[t - 252] - 1
    passed = (ret > 0) & ((rsi < 70) | (mom > 0.2))
    expected = [panel.symbols[j] for j in np.argsort(-ret) if passed[j]]
    assert [row["symbol"] for row in result["rows"]] == expected
    assert result["matched"] == len(expected) > 3
    first = result["rows"][0]
    j = panel.symbols.index(first["symbol"])
    assert first["values"]["rsi_14"] == pytest.approx(rsi[j], abs=1e-9)
    assert first["values"]["score_momentum_12_1"] == pytest.approx(mom[j], rel=1e-12)


def test_missing_volume_fails_conditions_and_is_reported(panel):
    # Given a volume filter on the universe where only the indices have volume
    screen = screener.parse({"not": {"field": "rel_volume_20d", "op": ">", "value": 100.0}}, [], 50)
    result = screener.run(screen, panel, panel.row_of(AS_OF))
    # Then only the indices can pass (even a negated condition proves nothing about a missing value)
    assert {row["symbol"] for row in result["rows"]} == {"^GSPC", "^IXIC"}
    assert len(result["missing"]["rel_volume_20d"]) == 20


def test_sorting_puts_missing_values_last_and_limits(panel):
    # Given a sort on ADX (indices only) then the limit
    screen = screener.parse(
        None, [{"field": "adx_14", "order": "desc"}, {"field": "price", "order": "asc"}], 5
    )
    result = screener.run(screen, panel, panel.row_of(AS_OF))
    symbols = [row["symbol"] for row in result["rows"]]
    # Then the indices come first, the rest by ascending price, and 5 rows are returned of 22 matches
    assert set(symbols[:2]) == {"^GSPC", "^IXIC"}
    prices = [row["values"]["price"] for row in result["rows"][2:]]
    assert prices == sorted(prices)
    assert result["matched"] == 22 and len(symbols) == 5


def test_every_scanner_has_a_score_field():
    fields = screener.allowed_fields()
    assert all(f"score_{name}" in fields for name in SCANNERS)
