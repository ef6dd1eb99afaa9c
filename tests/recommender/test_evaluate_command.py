"""``tunewave evaluate``: the real data set, the package's protocol, a table and a CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from recommender import tuning
from tunewave.cli import main


def test_evaluate_prints_a_table_and_writes_every_fold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "results.csv"
    status = main(
        [
            "evaluate",
            "--dataset",
            "lastfm-hetrec2011",
            "--folds",
            "2",
            "--models",
            "popularity,content",
            "--output",
            str(output),
        ]
    )
    assert status == 0
    printed = capsys.readouterr()
    assert "1,892 users, 17,632 items, 92,834 interactions; 2 folds, seed 0" in printed.out
    table_lines = [line for line in printed.out.splitlines() if line.startswith(("pop", "con"))]
    assert [line.split()[0] for line in table_lines] == ["popularity", "content"]
    assert "evaluate" in printed.err  # the progress bar
    rows = pd.read_csv(output)
    assert sorted(zip(rows["model"], rows["fold"], strict=True)) == [
        ("content", 0),
        ("content", 1),
        ("popularity", 0),
        ("popularity", 1),
    ]
    assert rows["ndcg@10"].between(0.01, 1).all()


def test_evaluate_with_tuning_adds_the_tuned_best_row(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real search spaces take minutes on the full data; one small family keeps the
    # command's own path (search per fold on validation, refit, test) and stays quick.
    monkeypatch.setattr(tuning, "DEFAULT_SPACES", {"itemknn": {"neighbours": [50]}})
    monkeypatch.setattr(tuning, "HYBRID_SPACE", {})
    status = main(
        ["evaluate", "--folds", "2", "--models", "popularity", "--tune", "--max-trials", "1"]
    )
    assert status == 0
    printed = capsys.readouterr()
    assert any(line.startswith("tuned best") for line in printed.out.splitlines())
    assert printed.err.count("validation picked itemknn") == 2


def test_evaluate_refuses_unknown_models(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--models", "popularity,magic"]) == 1
    assert "unknown models ['magic']" in capsys.readouterr().err
