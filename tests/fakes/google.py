"""Google, played by ``oidc-provider-mock`` (a real OpenID provider) on loopback.

Around the mock's Flask app this adds what negative tests need: faults per path (500, 429,
hang) and swapping the ID token in the token answer for another one.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import flask
import httpx

from tests.fakes.faults import HANG_LIMIT_S, FaultTable, InjectsFaults

TOKEN_PATH = "/oauth2/token"


class FakeGoogle(InjectsFaults):
    def __init__(self) -> None:
        self.faults = FaultTable()
        # When set, the token endpoint's answer carries this ID token instead of its own.
        self.id_token_override: str | None = None
        self.base_url = ""
        # Imported here, not at collection: it imports deprecated authlib modules, and only
        # inside a test do pyproject's narrow warning filters apply.
        import oidc_provider_mock

        self.app = oidc_provider_mock.app(require_nonce=True)
        self.app.before_request(self._misbehave)
        self.app.after_request(self._swap_id_token)

    @property
    def discovery_url(self) -> str:
        return f"{self.base_url}/.well-known/openid-configuration"

    def reset(self) -> None:
        self.faults.clear()
        self.id_token_override = None

    # --- driving the provider like a browser, non-interactively -----------------------------

    async def set_user(self, sub: str, claims: dict[str, Any]) -> None:
        async with httpx.AsyncClient() as http:
            response = await http.put(f"{self.base_url}/users/{sub}", json=claims)
            assert response.status_code == 204, response.text

    async def authorize(self, authorize_url: str, sub: str, *, deny: bool = False) -> str:
        """Submit the mock's consent form; returns the redirect back to the client."""
        form = {"action": "deny"} if deny else {"sub": sub}
        async with httpx.AsyncClient() as http:
            page = await http.get(authorize_url)
            assert page.status_code == 200, page.text
            response = await http.post(authorize_url, data=form)
        assert response.status_code == 302, response.text
        return response.headers["location"]

    async def id_token_for(self, *, client_id: str, sub: str, nonce: str, redirect_uri: str) -> str:
        """A genuine ID token the provider issues to some other client."""
        async with httpx.AsyncClient() as http:
            metadata = (await http.get(self.discovery_url)).json()
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid email profile",
            "state": "other-client-state",
            "nonce": nonce,
        }
        authorize_url = str(httpx.URL(metadata["authorization_endpoint"], params=params))
        location = await self.authorize(authorize_url, sub)
        code = parse_qs(urlsplit(location).query)["code"][0]
        async with httpx.AsyncClient() as http:
            response = await http.post(
                metadata["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "client_id": client_id,
                    "client_secret": "other-secret",
                },
            )
        assert response.status_code == 200, response.text
        return str(response.json()["id_token"])

    # --- hooks --------------------------------------------------------------------------------

    def _misbehave(self) -> flask.typing.ResponseReturnValue | None:
        fault = self.faults.take(flask.request.path)
        if fault is None:
            return None
        if fault.hang:
            self.faults.release.wait(HANG_LIMIT_S)
            return flask.jsonify(error="server_error"), 504
        headers = {"Retry-After": str(fault.retry_after_s)} if fault.retry_after_s else {}
        return flask.jsonify(error="server_error"), fault.status, headers

    def _swap_id_token(self, response: flask.Response) -> flask.Response:
        if (
            self.id_token_override
            and flask.request.path == TOKEN_PATH
            and response.status_code == 200
        ):
            body = json.loads(response.get_data())
            body["id_token"] = self.id_token_override
            response.set_data(json.dumps(body))
        return response
