"""Embedded PostgreSQL/Redis for the test suite on machines that have neither installed.

Used by scripts/test-services.sh: ``up postgres`` / ``up redis`` start one and print the URL
the tests should use; ``down postgres`` / ``down redis`` stop it. The servers live in
``.tunewave/test-services/`` and outlive this process between ``up`` and ``down``.

``up embedded-redis`` / ``down embedded-redis`` do the same for the second pass of
``make test`` (the suite against the embedded Redis `tunewave run` uses), in a directory of
its own so that it never touches a fallback server of the first pass.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from api.core.config import PROJECT_ROOT
from tunewave.embedded import EmbeddedPostgres, EmbeddedRedis

DATA_DIR = PROJECT_ROOT / ".tunewave" / "test-services"


def postgres(action: str) -> None:
    server = EmbeddedPostgres(DATA_DIR)
    if action == "up":
        url = make_url(server.start()).set(database="tunewave_test")
        print(url.render_as_string(hide_password=False))
    elif server.pid is not None:
        server.start()  # attaches to the running server, which stop() then shuts down
        server.stop()


def redis(action: str, data_dir: Path = DATA_DIR) -> None:
    server = EmbeddedRedis(data_dir)
    if action == "up":
        server.stop_leftover()
        url = server.start()
        # Leave it running for the test run; `down` finds it through its pid file.
        server.process = None
        print(url.rsplit("/", 1)[0] + "/15")
    else:
        server.stop_leftover()


def main(argv: list[str]) -> int:
    services = ("postgres", "redis", "embedded-redis")
    if len(argv) != 2 or argv[0] not in ("up", "down") or argv[1] not in services:
        print(f"usage: embedded_test_services.py up|down {'|'.join(services)}", file=sys.stderr)
        return 2
    action, service = argv
    if service == "postgres":
        postgres(action)
    elif service == "redis":
        redis(action)
    else:
        redis(action, DATA_DIR / "second-pass")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
