"""Infrastructure the API domains build on: settings, database, Redis, caches, limits, errors.

Nothing here imports a domain (tests/test_layers.py).
"""
