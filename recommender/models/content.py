"""Genre/content profile model: TF-IDF over item genres and tags."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.data import Interactions
from recommender.genres import GenreSpace
from recommender.models.base import Recommender


class ContentRecommender(Recommender):
    """Scores items by cosine between the user's genre profile and the item's TF-IDF vector.

    Needs ``item_tags`` at fit time. It is the model that still works for items nobody has
    played yet (they only need genres) and for users known only by their favourite genres
    (``score_genres``). Items without any tag fall back to a small popularity prior, so the
    ranking is never arbitrary.
    """

    name = "content"

    def __init__(self, min_item_count: int = 2, popularity_prior: float = 0.01) -> None:
        super().__init__()
        self.min_item_count = min_item_count
        self.popularity_prior = popularity_prior
        self.genres = GenreSpace(min_item_count=min_item_count)
        self.item_prior = np.zeros(0, dtype=np.float32)

    def get_params(self) -> dict[str, Any]:
        return {"min_item_count": self.min_item_count, "popularity_prior": self.popularity_prior}

    def _fit(self, train: Interactions, item_tags: pd.DataFrame | None) -> None:
        if item_tags is None:
            raise ValueError("ContentRecommender needs item_tags (item_id, tag, weight)")
        self.genres = GenreSpace(min_item_count=self.min_item_count).fit(train.item_ids, item_tags)
        listeners = np.diff(sp.csc_matrix(train.matrix).indptr).astype(np.float32)
        prior = np.log1p(listeners)
        self.item_prior = (self.popularity_prior * prior / max(float(prior.max()), 1.0)).astype(
            np.float32
        )

    def score(self, user_items: sp.csr_matrix, user_rows: np.ndarray | None = None) -> np.ndarray:
        profiles = self.genres.profiles(sp.csr_matrix(user_items))
        return self._score_profiles(profiles)

    def score_genres(self, genre_lists: list[list[str]]) -> np.ndarray:
        """Scores for users known only by genre names (a new user's favourite genres)."""
        return self._score_profiles(self.genres.genre_vectors(genre_lists))

    def _score_profiles(self, profiles: sp.csr_matrix) -> np.ndarray:
        scores = np.asarray((profiles @ self.genres.item_matrix.T).todense(), dtype=np.float32)
        return scores + self.item_prior

    def _state(self) -> dict[str, np.ndarray]:
        return {"item_prior": self.item_prior, **self.genres.state()}

    def _load_state(self, state: dict[str, np.ndarray]) -> None:
        self.item_prior = state.pop("item_prior")
        self.genres = GenreSpace.from_state(state)
