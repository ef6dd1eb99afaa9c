"""Property-based fuzzing of the whole OpenAPI schema with schemathesis.

A real API process (uvicorn) serves a scratch database that holds a user, a public and a
private room and a slice of the catalog; every operation gets generated requests, valid and
invalid, with that user's token. Every response must be a non-5xx that matches the schema
(status code declared, body valid, content type right). Bounded: a few dozen examples per
operation, well under two minutes in all.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis import Redis
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api.auth.tokens import issue_access_token
from api.core.config import PROJECT_ROOT, get_settings
from api.main import app
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL
from tests.support.database import drop_database, recreate_database, upgrade_to_head
from tests.support.processes import tunewave_env, wait_for
from tunewave.embedded import free_tcp_port

# The suite's own Redis database: suites running side by side (other checkouts) never share it.
FUZZ_REDIS_URL = TEST_REDIS_URL
EXAMPLES_PER_OPERATION = 60
FAKE_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaA"


@pytest.fixture(scope="module")
async def fuzz_database() -> AsyncIterator[str]:
    test_url = make_url(TEST_DATABASE_URL)
    url = test_url.set(database=f"{test_url.database}_fuzz")
    rendered = url.render_as_string(hide_password=False)
    await recreate_database(rendered)
    await upgrade_to_head(rendered)
    yield rendered
    await drop_database(rendered)


@pytest.fixture(scope="module")
def seeded(fuzz_database: str) -> dict[str, str]:
    """A user with a token, one public and one private room, and catalog tracks."""
    user_id = uuid.uuid4()
    engine = create_engine(fuzz_database)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO users (id, display_name, email) VALUES (:id, 'fuzz', 'f@x.io')"),
            {"id": user_id},
        )
        for name, private in (("Fuzz Public", False), ("Fuzz Private", True)):
            room_id = uuid.uuid4()
            connection.execute(
                text(
                    "INSERT INTO rooms (id, name, owner_id, is_private, password_hash) "
                    "VALUES (:id, :name, :owner, :private, :hash)"
                ),
                {
                    "id": room_id,
                    "name": name,
                    "owner": user_id,
                    "private": private,
                    "hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaA"
                    if private
                    else None,
                },
            )
            connection.execute(
                text("INSERT INTO room_members (room_id, user_id, role) VALUES (:r, :u, 'owner')"),
                {"r": room_id, "u": user_id},
            )
    engine.dispose()
    token, _ = issue_access_token(get_settings(), user_id)
    return {"token": token}


@pytest.fixture(scope="module")
def api_server(fuzz_database: str, seeded: dict[str, str]) -> Iterator[str]:
    Redis.from_url(FUZZ_REDIS_URL).flushdb()
    port = free_tcp_port()
    env = tunewave_env(
        DATABASE_URL=fuzz_database,
        REDIS_URL=FUZZ_REDIS_URL,
        TUNEWAVE_ENV="test",
        TUNEWAVE_LOG_LEVEL="WARNING",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:app", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(answers, 30, "the API under fuzzing to answer")
        yield base_url
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=20)
        # A 5xx is also visible here: uvicorn logs the traceback of every unhandled error.
        assert "Traceback" not in stderr, stderr


# Operations come from the app's own OpenAPI document, so collection needs no server.
SCHEMA = schemathesis.openapi.from_dict(app.openapi())
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_every_operation_answers_within_its_schema(
    label: str, api_server: str, seeded: dict[str, str]
) -> None:
    operation = OPERATIONS[label]
    headers = {"Authorization": f"Bearer {seeded['token']}"}
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case: schemathesis.Case) -> None:
        response = case.call(base_url=api_server, headers=headers)
        if "x-request-id" not in response.headers:
            # Refused by the HTTP server before it reached the app (a request line longer than
            # uvicorn accepts): a protocol-level 4xx that no OpenAPI document describes.
            assert 400 <= response.status_code < 500, response.status_code
            return
        case.validate_response(
            response,
            headers=headers,
            # A schema-valid request may still break a rule JSON Schema cannot state (a genre
            # outside the vocabulary, a name that is only whitespace): that is a 4xx with a
            # reason, which is what we want, not a failure.
            excluded_checks=[positive_data_acceptance],
        )

    check()
