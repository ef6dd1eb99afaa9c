"""A hybrid that blends collaborative, content and popularity scores per user."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.data import Interactions
from recommender.models.base import Recommender, standardise_rows
from recommender.models.baselines import ItemKNNRecommender, PopularityRecommender
from recommender.models.content import ContentRecommender
from recommender.models.factorization import ALSRecommender, BPRRecommender
from recommender.models.linear import EASERecommender, EDLAERecommender, RP3betaRecommender

_CF_MODELS: dict[str, type[Recommender]] = {
    "als": ALSRecommender,
    "bpr": BPRRecommender,
    "itemknn": ItemKNNRecommender,
    "ease": EASERecommender,
    "edlae": EDLAERecommender,
    "rp3beta": RP3betaRecommender,
}


class HybridRecommender(Recommender):
    """``w_cf(u)·z(cf) + content_weight·z(content) + popularity_weight·z(popularity)``.

    Each component's scores are standardised per user. The collaborative weight grows with
    what the model knows about the user, ``w_cf = n / (n + shrink)`` for a user with ``n``
    played items, so a brand-new user is served by genres and popularity and a regular by
    their taste neighbours. Without ``item_tags`` at fit time the content term is left out.

    Cold items (no listener in the training matrix) get no collaborative signal: the
    collaborative model scores them at its floor, so they would never reach a top-10. For
    them the content score stands in for the collaborative one, ``cold_weight·z(content)``
    replaces ``z(cf)``, so an item nobody has played yet competes on how well its genres
    match the listener's (``cold_weight`` = 0 switches that off; tuned on validation).
    """

    name = "hybrid"

    def __init__(
        self,
        cf: str = "als",
        cf_params: dict[str, Any] | None = None,
        content_weight: float = 0.2,
        popularity_weight: float = 0.05,
        shrink: float = 2.0,
        cold_weight: float = 1.0,
    ) -> None:
        super().__init__()
        if cf not in _CF_MODELS:
            raise ValueError(f"unknown collaborative model {cf!r}; expected {list(_CF_MODELS)}")
        self.cf = cf
        self.cf_params = dict(cf_params or {})
        self.content_weight = content_weight
        self.popularity_weight = popularity_weight
        self.shrink = shrink
        self.cold_weight = cold_weight
        self.cold_items = np.zeros(0, dtype=bool)
        self.cf_model: Recommender = _CF_MODELS[cf](**self.cf_params)
        self.content_model: ContentRecommender | None = None
        self.popularity_model = PopularityRecommender()

    def get_params(self) -> dict[str, Any]:
        return {
            "cf": self.cf,
            "cf_params": self.cf_params,
            "content_weight": self.content_weight,
            "popularity_weight": self.popularity_weight,
            "shrink": self.shrink,
            "cold_weight": self.cold_weight,
        }

    def _fit(self, train: Interactions, item_tags: pd.DataFrame | None) -> None:
        self.cf_model.fit(train)
        self.popularity_model.fit(train)
        self.cold_items = np.diff(sp.csc_matrix(train.matrix).indptr) == 0
        self.content_model = None
        if item_tags is not None and self.content_weight > 0:
            self.content_model = ContentRecommender().fit(train, item_tags)

    def score(self, user_items: sp.csr_matrix, user_rows: np.ndarray | None = None) -> np.ndarray:
        user_items = sp.csr_matrix(user_items)
        played = np.diff(user_items.indptr).astype(np.float32)
        cf_weight = (played / (played + self.shrink))[:, None]
        cf = standardise_rows(self.cf_model.score(user_items, user_rows))
        if self.content_model is not None:
            content = standardise_rows(self.content_model.score(user_items))
            if self.cold_weight and self.cold_items.any():
                cold = self.cold_items
                cf[:, cold] = self.cold_weight * content[:, cold]
            total = cf_weight * cf + self.content_weight * content
        else:
            total = cf_weight * cf
        if self.popularity_weight:
            total += self.popularity_weight * standardise_rows(
                self.popularity_model.score(user_items[:1])
            )
        return total.astype(np.float32)

    def user_vectors(
        self, user_items: sp.csr_matrix, user_rows: np.ndarray | None = None
    ) -> np.ndarray | None:
        return self.cf_model.user_vectors(user_items, user_rows)

    def item_vectors(self) -> np.ndarray | None:
        return self.cf_model.item_vectors()

    def _state(self) -> dict[str, np.ndarray]:
        state = {f"cf__{k}": v for k, v in self.cf_model._state().items()}
        state["cold_items"] = self.cold_items
        state.update({f"pop__{k}": v for k, v in self.popularity_model._state().items()})
        if self.content_model is not None:
            state.update({f"content__{k}": v for k, v in self.content_model._state().items()})
        return state

    def _load_state(self, state: dict[str, np.ndarray]) -> None:
        def part(prefix: str) -> dict[str, np.ndarray]:
            return {k.removeprefix(prefix): v for k, v in state.items() if k.startswith(prefix)}

        self.cold_items = np.asarray(state.get("cold_items", np.zeros(0, dtype=bool)), dtype=bool)
        self.cf_model._load_state(part("cf__"))
        self.popularity_model._load_state(part("pop__"))
        content_state = part("content__")
        self.content_model = None
        if content_state:
            self.content_model = ContentRecommender()
            self.content_model._load_state(content_state)
