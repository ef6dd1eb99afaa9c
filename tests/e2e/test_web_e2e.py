"""The web app end to end: a real browser (Debian's chromium, headless, driven by
playwright-core) against a real API process, PostgreSQL and Redis.

The API runs on a scratch database derived from the suite's test database and on the suite's
Redis database, in development mode (dev login on). web/e2e/run.mjs holds the browser steps;
its screenshots are written to test-artifacts/e2e/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from redis import Redis
from sqlalchemy.engine import make_url

from api.config import PROJECT_ROOT
from api.embedded import free_tcp_port
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL
from tests.support.database import recreate_database, upgrade_to_head
from tests.support.processes import tunewave_env, wait_for

WEB = PROJECT_ROOT / "web"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "e2e"
# A few catalog tracks the browser searches for ("lanterns") and adds to a room's queue.
TRACKS = [
    ("0e2eLanternsMidnight01", "Midnight Lanterns", ["The Quiet Hours"], 183_000),
    ("0e2eLanternsHarbour002", "Harbour of Lanterns", ["Ada Voss"], 201_000),
    ("0e2eNeonRiverside00003", "Neon Riverside", ["Ada Voss", "Kiri"], 174_000),
]


def ensure_chromium() -> Path:
    """Debian's chromium, installed when missing (as root, with apt-get)."""
    if not CHROMIUM.exists() and shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "update", "-q"], check=True, timeout=300)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "chromium"],
            check=True,
            timeout=900,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
    assert CHROMIUM.exists(), "chromium is missing: install Debian's `chromium` package"
    return CHROMIUM


@pytest.fixture(scope="module")
async def e2e_database() -> str:
    test_url = make_url(TEST_DATABASE_URL)
    url = test_url.set(database=f"{test_url.database}_e2e")
    rendered = url.render_as_string(hide_password=False)
    await recreate_database(rendered)
    await upgrade_to_head(rendered)
    return rendered


@pytest.fixture(scope="module")
def built_web() -> None:
    subprocess.run(["npm", "run", "build"], cwd=WEB, check=True, capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def api_server(e2e_database: str, built_web: None) -> Iterator[str]:
    Redis.from_url(TEST_REDIS_URL).flushdb()
    port = free_tcp_port()
    base_url = f"http://127.0.0.1:{port}"
    env = tunewave_env(
        DATABASE_URL=e2e_database,
        REDIS_URL=TEST_REDIS_URL,
        TUNEWAVE_ENV="dev",
        TUNEWAVE_LOG_LEVEL="WARNING",
        TUNEWAVE_FRONTEND_URL=base_url,
        TUNEWAVE_PUBLIC_API_URL=base_url,
        TUNEWAVE_SPOTIFY_CLIENT_ID=None,
        TUNEWAVE_SPOTIFY_CLIENT_SECRET=None,
        TUNEWAVE_GOOGLE_CLIENT_ID=None,
        TUNEWAVE_GOOGLE_CLIENT_SECRET=None,
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:app", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )

    def answers() -> bool:
        try:
            return httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        # Generous: a loaded shared machine takes a while to import the app.
        wait_for(answers, 90, "the API under the browser tests to answer")
        token = httpx.post(f"{base_url}/auth/dev-login", json={"name": "catalog"}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        for spotify_id, title, artists, duration_ms in TRACKS:
            created = httpx.post(
                f"{base_url}/track/",
                headers=headers,
                json={
                    "spotify_id": spotify_id,
                    "title": title,
                    "artists": artists,
                    "album": "TuneWave Sessions",
                    "duration_ms": duration_ms,
                    "image_url": None,
                    "genres": [],
                },
            )
            assert created.status_code in (200, 201), created.text
        yield base_url
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=20)
        # An unhandled error in the API during the run is a failure even if the page coped.
        assert "Traceback" not in stderr, stderr


@pytest.mark.timeout(600)
def test_two_listeners_in_a_private_room(api_server: str) -> None:
    chromium = ensure_chromium()
    # Only this run's screenshots (a failure leaves failure-*.png of the pages it had).
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    run = subprocess.run(
        ["node", "e2e/run.mjs"],
        cwd=WEB,
        env={
            **os.environ,
            "TUNEWAVE_E2E_URL": api_server,
            "TUNEWAVE_E2E_ARTIFACTS": str(ARTIFACTS),
            "TUNEWAVE_E2E_CHROMIUM": str(chromium),
        },
        capture_output=True,
        text=True,
        timeout=480,
    )
    print(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr
    for page in ("discover", "room", "profile"):
        for width in ("desktop", "phone"):
            assert (ARTIFACTS / f"{page}-{width}.png").stat().st_size > 10_000
    # Every screen in both themes and both languages (axe-core ran on each theme).
    for page in ("signin", "discover", "room", "profile"):
        for width in ("desktop", "phone"):
            for theme in ("light", "dark"):
                for language in ("en", "ru"):
                    shot = ARTIFACTS / f"{page}-{width}-{theme}-{language}.png"
                    assert shot.stat().st_size > 10_000, shot
    assert "accessibility (axe-core" in run.stdout
