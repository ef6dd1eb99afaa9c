"""Every model behind one interface (:class:`Recommender`), and a registry by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recommender.models.base import Recommender, read_npz
from recommender.models.baselines import ItemKNNRecommender, PopularityRecommender
from recommender.models.content import ContentRecommender
from recommender.models.factorization import ALSRecommender, BPRRecommender
from recommender.models.hybrid import HybridRecommender
from recommender.models.linear import EASERecommender, EDLAERecommender, RP3betaRecommender

MODELS: dict[str, type[Recommender]] = {
    model.name: model
    for model in (
        PopularityRecommender,
        ItemKNNRecommender,
        BPRRecommender,
        ALSRecommender,
        EASERecommender,
        EDLAERecommender,
        RP3betaRecommender,
        ContentRecommender,
        HybridRecommender,
    )
}


def make_model(name: str, **params: Any) -> Recommender:
    """An unfitted model by registry name (``popularity``, ``itemknn``, ``bpr``, ``als``,
    ``ease``, ``edlae``, ``rp3beta``, ``content``, ``hybrid``) with the given parameters."""
    try:
        return MODELS[name](**params)
    except KeyError:
        raise ValueError(f"unknown model {name!r}; expected one of {sorted(MODELS)}") from None


def load_model(path: str | Path) -> Recommender:
    """A fitted model written by :meth:`Recommender.save`, whatever its class."""
    header, arrays = read_npz(path)
    return MODELS[header["model"]]._from_arrays(header, arrays)


__all__ = [
    "MODELS",
    "ALSRecommender",
    "BPRRecommender",
    "ContentRecommender",
    "EASERecommender",
    "EDLAERecommender",
    "HybridRecommender",
    "ItemKNNRecommender",
    "PopularityRecommender",
    "RP3betaRecommender",
    "Recommender",
    "load_model",
    "make_model",
]
