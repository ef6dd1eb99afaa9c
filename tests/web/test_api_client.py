"""The web app's typed API client is generated from this API's OpenAPI document.

If an endpoint or schema changes without `make web-api`, the committed client no longer
describes the API and this test says so.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from api.core.config import PROJECT_ROOT
from api.main import app

WEB = PROJECT_ROOT / "web"
GENERATED = WEB / "src" / "api" / "schema.d.ts"
GENERATOR = WEB / "node_modules" / ".bin" / "openapi-typescript"


def test_generated_client_matches_the_openapi_schema(tmp_path: Path) -> None:
    assert shutil.which("node"), "node is needed to generate the web app's API client"
    assert GENERATOR.exists(), "web/node_modules is missing: run `make web-install`"
    schema = tmp_path / "openapi.json"
    schema.write_text(json.dumps(app.openapi(), indent=2))
    fresh = tmp_path / "schema.d.ts"
    subprocess.run(
        [str(GENERATOR), str(schema), "-o", str(fresh)],
        cwd=WEB,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert GENERATED.read_text() == fresh.read_text(), (
        "web/src/api/schema.d.ts is stale: run `make web-api` and commit the result"
    )
