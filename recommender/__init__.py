"""TuneWave's recommender: a pure library (DataFrames and sparse matrices in, arrays out).

No database, web, Redis or Celery code is imported here; the training pipeline (workers/),
the API and the notebooks all call the same functions. See docs/recommender.md.
"""

from recommender.data import Dataset, Interactions
from recommender.datasets import (
    dataset_from_export,
    load_dataset,
    load_lastfm_hetrec2011,
    load_spotify_playlists,
)
from recommender.evaluation import (
    evaluate,
    evaluate_model,
    holdout_split,
    kfold_splits,
    per_user_metrics,
    ranking_metrics,
    summarise,
)
from recommender.features import ItemFeatures
from recommender.genres import GenreSpace, normalise_genre
from recommender.models import (
    MODELS,
    ALSRecommender,
    BPRRecommender,
    ContentRecommender,
    EASERecommender,
    EDLAERecommender,
    HybridRecommender,
    ItemKNNRecommender,
    PopularityRecommender,
    Recommender,
    RP3betaRecommender,
    load_model,
    make_model,
)
from recommender.scoring import (
    LiveRoom,
    Recommendation,
    RoomIndex,
    RoomScorer,
    RoomWeights,
    TasteIndex,
    UserTaste,
    user_taste,
)
from recommender.serving import recommend_all
from recommender.tuning import SearchResult, search

__all__ = [
    "MODELS",
    "ALSRecommender",
    "BPRRecommender",
    "ContentRecommender",
    "Dataset",
    "EASERecommender",
    "EDLAERecommender",
    "GenreSpace",
    "HybridRecommender",
    "Interactions",
    "ItemFeatures",
    "ItemKNNRecommender",
    "LiveRoom",
    "PopularityRecommender",
    "RP3betaRecommender",
    "Recommendation",
    "Recommender",
    "RoomIndex",
    "RoomScorer",
    "RoomWeights",
    "SearchResult",
    "TasteIndex",
    "UserTaste",
    "dataset_from_export",
    "evaluate",
    "evaluate_model",
    "holdout_split",
    "kfold_splits",
    "load_dataset",
    "load_lastfm_hetrec2011",
    "load_model",
    "load_spotify_playlists",
    "make_model",
    "normalise_genre",
    "per_user_metrics",
    "ranking_metrics",
    "recommend_all",
    "search",
    "summarise",
    "user_taste",
]
