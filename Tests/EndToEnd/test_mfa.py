"""Sign-in with TOTP against the real binary; codes come from pyotp, an independent RFC 6238 implementation."""
import json
import time
import urllib.error
import urllib.request

import pyotp


def call(url: str, method: str = "GET", body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return response.status, json.loads(text) if text else {}
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_totp_enrollment_survives_restart(server_factory):
    env = {"REGENT_BOOTSTRAP_PASSWORD": "admin password 123"}
    server = server_factory(env).start()
    status, login = call(server.url + "/v1/auth/login", "POST", {"username": "admin", "password": "admin password 123"})
    assert status == 200 and login["mfaRequired"] is False
    token = login["token"]

    status, enrollment = call(server.url + "/v1/me/mfa/totp", "POST", {}, token)
    assert status == 201
    totp = pyotp.TOTP(enrollment["secret"])
    assert pyotp.parse_uri(enrollment["otpauthUri"]).secret == enrollment["secret"]
    status, _ = call(server.url + "/v1/me/mfa/totp/confirm", "POST", {"code": totp.now()}, token)
    assert status == 200
    assert server.stop() == 0

    # After a restart the sealed secret still opens: sign-in asks for a code, and pyotp's next code passes.
    server = server_factory(env).start()
    status, login = call(server.url + "/v1/auth/login", "POST", {"username": "admin", "password": "admin password 123"})
    assert status == 200 and login["mfaRequired"] is True
    token = login["token"]
    status, problem = call(server.url + "/v1/me", token=token)
    assert status == 401 and problem["type"] == "urn:regent:problem:mfa-required"
    next_code = totp.at(time.time() + 30)
    status, verified = call(server.url + "/v1/auth/mfa", "POST", {"code": next_code}, token)
    assert status == 200, verified
    status, me = call(server.url + "/v1/me", token=token)
    assert status == 200 and me["name"] == "admin"
    status, _ = call(server.url + "/v1/auth/mfa", "POST", {"code": next_code}, token)
    assert status == 401, "a used code must never be accepted again"
    assert server.stop() == 0
