# syntax=docker/dockerfile:1.7
# One image for every process type: web (the default CMD), worker, beat and the release step
# (`alembic upgrade head`). See docs/deployment.md.

# --- 1. The SPA: web/ -> web/dist ------------------------------------------------------------
FROM node:20-bookworm-slim AS web
WORKDIR /app/web
COPY web/package.json web/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

# --- 2. Python dependencies from the committed lock ------------------------------------------
FROM python:3.11-slim AS python
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /bin/
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
# Dependencies first, so a source change does not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-dev --no-install-project
# Then the project itself, installed editable: the packages stay at /app/<name>, where the app
# looks for web/dist and data/ next to them.
COPY api/ api/
COPY workers/ workers/
COPY recommender/ recommender/
COPY tunewave/ tunewave/
RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-dev

# --- 3. The runtime image --------------------------------------------------------------------
FROM python:3.11-slim AS runtime
RUN groupadd --system --gid 10001 tunewave \
    && useradd --system --uid 10001 --gid tunewave --home-dir /app --no-create-home tunewave
WORKDIR /app
ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TUNEWAVE_ENV=prod \
    TUNEWAVE_DATA_DIR=/tmp/tunewave \
    PORT=8000
COPY --from=python /app/.venv /app/.venv
COPY pyproject.toml alembic.ini README.md ./
COPY api/ api/
COPY workers/ workers/
COPY recommender/ recommender/
COPY tunewave/ tunewave/
COPY migrations/ migrations/
COPY data/ data/
COPY --from=web /app/web/dist web/dist/
USER tunewave
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"
# Shell form so $PORT (set by Heroku and most hosts) is expanded; exec keeps uvicorn as PID 1
# so it receives SIGTERM and drains.
CMD exec uvicorn api.main:app --host 0.0.0.0 --port $PORT --proxy-headers --forwarded-allow-ips='*'
