"""The physics service on the real 20 stocks (close-only: pressure says volume is missing) and its 400s."""

from __future__ import annotations

import numpy as np
import pytest

from trade2026.adapters.demo_data import load_daily
from trade2026.domain import physics as domain
from trade2026.errors import BadRequest
from trade2026.services import physics


def stocks20_reader():
    data = load_daily("stocks20")

    def read(symbol: str) -> dict[str, np.ndarray]:
        rows = data["symbol"] == symbol
        ts = data["date"][rows].astype("datetime64[ns]").astype(np.int64)
        return {"ts": ts, "close": data["close"][rows], "volume": data["volume"][rows]}

    return read


def test_signals_of_five_real_stocks_are_downsampled_and_match_the_domain():
    # Given 5 of the real stocks
    symbols = ["AAPL", "JNJ", "JPM", "MSFT", "XOM"]
    req = physics.PhysicsRequest(symbols=symbols, max_points=300)
    universe = physics.load_universe(symbols, stocks20_reader())
    # When the signals are computed
    out = physics.compute_signals(req, universe)
    # Then 300 dates are returned, the last being the last day, and the values are the domain's at those dates
    assert len(out["dates"]) == 300 and out["dates"][-1] == "2022-12-28"
    r = universe.close[1:] / universe.close[:-1] - 1
    turb = domain.turbulence(r, 252)
    assert out["cross_section"]["turbulence"][-1] == pytest.approx(turb[-1], rel=1e-6)
    score = [v for v in out["cross_section"]["regime_score"] if v is not None]
    assert score and all(0 <= v <= 1 for v in score)
    # And pressure is absent with the reason (skfolio's data set has no volume)
    assert out["symbols"]["AAPL"]["pressure"] is None
    assert "needs volume" in out["symbols"]["AAPL"]["pressure_note"]


def test_one_symbol_has_no_cross_section_and_too_long_windows_are_400():
    read = stocks20_reader()
    one = physics.load_universe(["KO"], read)
    out = physics.compute_signals(physics.PhysicsRequest(symbols=["KO"], max_points=50), one)
    assert out["cross_section"] is None and "at least 2 symbols" in out["cross_section_note"]
    short = physics.Universe(one.symbols, one.ts[:100], one.close[:100], one.volume[:100])
    with pytest.raises(BadRequest, match="the windows need 119 daily returns; the range has 99"):
        physics.compute_signals(physics.PhysicsRequest(symbols=["KO"]), short)
