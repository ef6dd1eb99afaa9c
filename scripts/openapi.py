"""Print the API's OpenAPI document (JSON) for the web app's generated client.

`make web-api` turns it into web/src/api/schema.d.ts with openapi-typescript.
"""

from __future__ import annotations

import json
import sys

from api.main import app


def main() -> None:
    json.dump(app.openapi(), sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
