"""``tunewave evaluate``: the evaluation protocol on a bundled data set, with progress bars.

The argument parsing lives in ``tunewave/cli.py`` (the ``tunewave`` command); this module only
runs the evaluation, so it imports nothing outside the recommender.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import pandas as pd
from tqdm import tqdm

from recommender.datasets import load_dataset
from recommender.evaluation import evaluate_model, kfold_splits, summarise
from recommender.models import MODELS, make_model
from recommender.tuning import select_model

TABLE_COLUMNS = [
    "precision@10",
    "recall@10",
    "ndcg@10",
    "map@10",
    "coverage@10",
    "ndcg@20",
    "fit_s",
]


def run_evaluation(
    dataset_name: str,
    models: Sequence[str],
    n_folds: int = 5,
    seed: int = 0,
    tune: bool = False,
    max_trials: int = 10,
    output: Path | None = None,
    stream: IO[str] | None = None,
) -> pd.DataFrame:
    """Evaluate ``models`` (registry names, default parameters) on ``dataset_name``.

    With ``tune``, each fold also searches parameters on a validation split of its training
    part and adds a ``tuned best`` row. Prints the per-model means; writes the per-fold rows
    to ``output`` (CSV) when given. Returns the summary table.
    """
    out = stream or sys.stdout
    unknown = [name for name in models if name not in MODELS]
    if unknown:
        raise ValueError(f"unknown models {unknown}; expected some of {sorted(MODELS)}")
    dataset = load_dataset(dataset_name)
    interactions = dataset.interactions
    print(
        f"{dataset.name}: {interactions.n_users:,} users, {interactions.n_items:,} items, "
        f"{interactions.nnz:,} interactions; {n_folds} folds, seed {seed}",
        file=out,
    )
    rows: list[dict[str, Any]] = []
    steps = n_folds * (len(models) + (1 if tune else 0))
    with tqdm(total=steps, desc="evaluate", unit="fit", file=sys.stderr) as bar:
        splits = kfold_splits(interactions, n_folds=n_folds, seed=seed)
        for fold, (train, test) in enumerate(splits):
            for name in models:
                bar.set_postfix_str(f"fold {fold} {name}")
                result = evaluate_model(make_model(name), train, test, dataset.features)
                rows.append({"model": name, "fold": fold, **result})
                bar.update()
            if tune:
                bar.set_postfix_str(f"fold {fold} tuning")
                selection = select_model(
                    train, dataset.features, seed=seed + fold, max_trials=max_trials
                )
                result = evaluate_model(selection.build(), train, test, dataset.features)
                rows.append({"model": "tuned best", "fold": fold, **result})
                tqdm.write(
                    f"fold {fold}: validation picked {selection.model} {selection.params}",
                    file=sys.stderr,
                )
                bar.update()
    results = pd.DataFrame(rows)
    if output is not None:
        results.to_csv(output, index=False)
    table = summarise(results)
    with pd.option_context("display.width", 140):
        print(table[TABLE_COLUMNS].round(4).to_string(), file=out)
    if output is not None:
        print(f"per-fold results written to {output}", file=out)
    return table
