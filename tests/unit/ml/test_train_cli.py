"""`trade2026 train` builds the same request as POST /v1/models/train."""

from __future__ import annotations

import pytest
import typer

from localcloud.train_cli import build_request
from trade2026.services.ml_dataset import TrainRequest


def test_cli_options_become_a_valid_training_request() -> None:
    # Given the options of `trade2026 train --symbols AAPL,MSFT --label meta ...`
    body = build_request(
        "AAPL, MSFT", "meta", "alpha_v1", "2005-01-01", None, 15, 5, 3, '{"max_depth": [2, 3]}', 2, 6, 2
    )

    # Then the API's own model accepts it, with the label kind spelled the API's way
    request = TrainRequest.model_validate(body)
    assert request.symbols == ["AAPL", "MSFT"]
    assert (request.label.kind, request.label.horizon, request.cv_folds) == ("meta", 15, 3)
    assert (request.cpcv_groups, request.cpcv_test_groups) == (6, 2)
    assert request.hyperparameters == {"max_depth": [2, 3]}


def test_cli_rejects_an_unknown_label_and_bad_json() -> None:
    with pytest.raises(typer.BadParameter, match="--label must be one of"):
        build_request("AAPL", "up-or-down", "alpha_v1", None, None, 10, 1, 0, "", 1)
    with pytest.raises(typer.BadParameter, match="--hyperparameters is not JSON"):
        build_request("AAPL", "meta", "alpha_v1", None, None, 10, 1, 0, "{max_depth: 2}", 1)
