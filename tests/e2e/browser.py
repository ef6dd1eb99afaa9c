"""What the browser tests share: Debian's chromium (driven by playwright-core from
web/e2e/run.mjs) and the catalog tracks the browser scenario searches for."""

from __future__ import annotations

from pathlib import Path

from api.core.config import PROJECT_ROOT

WEB = PROJECT_ROOT / "web"
CHROMIUM = Path("/usr/bin/chromium")
# A few catalog tracks the browser searches for ("lanterns") and adds to a room's queue.
TRACKS = [
    ("0e2eLanternsMidnight01", "Midnight Lanterns", ["The Quiet Hours"], 183_000),
    ("0e2eLanternsHarbour002", "Harbour of Lanterns", ["Ada Voss"], 201_000),
    ("0e2eNeonRiverside00003", "Neon Riverside", ["Ada Voss", "Kiri"], 174_000),
]


def ensure_chromium() -> Path:
    """Debian's chromium (`make browser-deps` installs it; `make test` does that first)."""
    assert CHROMIUM.exists(), (
        f"{CHROMIUM} is missing: run `make browser-deps` (Debian's `chromium` package)"
    )
    return CHROMIUM


def assert_every_screen_shot(artifacts: Path, stdout: str) -> None:
    """run.mjs saved every screen in both themes and both languages, and ran axe-core."""
    for page in ("discover", "room", "profile"):
        for width in ("desktop", "phone"):
            assert (artifacts / f"{page}-{width}.png").stat().st_size > 10_000
    for page in ("signin", "discover", "room", "profile"):
        for width in ("desktop", "phone"):
            for theme in ("light", "dark"):
                for language in ("en", "ru"):
                    shot = artifacts / f"{page}-{width}-{theme}-{language}.png"
                    assert shot.stat().st_size > 10_000, shot
    assert "accessibility (axe-core" in stdout
