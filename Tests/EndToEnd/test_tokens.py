"""Role tokens verified by PyJWT through the served JWKS, as an app would."""
import json
import time
import urllib.request

import jwt


def call(url: str, method: str = "GET", body: dict | None = None, token: str | None = None) -> dict:
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def test_token_verifies_through_jwks(server_factory):
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": "admin password 123"}).start("--public-url", "https://regent.example")
    admin = call(server.url + "/v1/auth/login", "POST", {"username": "admin", "password": "admin password 123"})["token"]
    issued = call(server.url + "/v1/tokens", "POST", {}, admin)

    signing_key = jwt.PyJWKClient(server.url + "/.well-known/jwks.json").get_signing_key_from_jwt(issued["token"])
    claims = jwt.decode(issued["token"], signing_key.key, algorithms=["EdDSA"], issuer="https://regent.example")
    roles = {(role["role"], role["scope"]) for role in claims["roles"]}
    assert ("regent-admin", "/") in roles
    assert claims["name"] == "admin"
    assert claims["exp"] <= time.time() + 900 + 1
    assert jwt.get_unverified_header(issued["token"])["kid"] == signing_key.key_id

    tampered = issued["token"][:-4] + ("AAAA" if not issued["token"].endswith("AAAA") else "BBBB")
    try:
        jwt.decode(tampered, signing_key.key, algorithms=["EdDSA"], issuer="https://regent.example")
        raise AssertionError("a tampered token must not verify")
    except jwt.InvalidSignatureError:
        pass
    assert server.stop() == 0
