"""Sign-in through a real OpenID provider (oidc-provider-mock, on loopback): the portal in
headless Chromium, the groups claim filling a Regent group whose eligibility follows the
directory (by prefix or by an explicit map), several providers at once, MFA met by `amr` and
missing without it, key rotation at the provider, `regent login --sso` by loopback redirect and by
the device authorization grant (Authlib's RFC 8628 grant added to the same provider), and the
attacks a relying party must refuse (a mismatched or reused state, a replayed code, an
unverified email), each audited."""
import contextlib
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from helpers import audit_actions, call, free_port, sign_in

ADMIN_PASSWORD = "admin password 123"


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirects)


def fetch(url: str, method: str = "GET", form: dict | None = None) -> tuple[int, dict, str]:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, method=method, data=data)
    try:
        with OPENER.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@contextlib.contextmanager
def running_provider():
    from oidc_provider_mock._app import app
    from oidc_provider_mock._server import _threaded_server
    with _threaded_server(app=app(require_nonce=True), host="127.0.0.1", port=0) as server:
        server.issuer = f"http://127.0.0.1:{server.server_port}"
        yield server


@pytest.fixture
def provider():
    with running_provider() as server:
        yield server


@pytest.fixture
def second_provider():
    with running_provider() as server:
        yield server


def from_request_hook(provider, kind):
    """An object the mock keeps in its request hook's closure (its store, its Authlib server)."""
    hooks = [f for functions in provider.app.before_request_funcs.values() for f in functions]
    return next(c.cell_contents for f in hooks for c in (f.__closure__ or []) if isinstance(c.cell_contents, kind))


def provider_storage(provider):
    """The provider's own key and user store."""
    from oidc_provider_mock._storage import Storage
    return from_request_hook(provider, Storage)


def add_device_grant(provider):
    """Gives the provider the device authorization grant (RFC 8628) with Authlib's own endpoint
    and grant, registered on the provider's Authlib server beside its authorization code grant,
    with the same OpenID extension, so the ID token is signed with the provider's key. The mock
    has no page where a person types the user code; `approve(user_code, sub, yes)` is that page."""
    import time
    from datetime import timedelta

    import flask
    from authlib.integrations.flask_oauth2 import AuthorizationServer
    from authlib.oauth2 import rfc8628
    from oidc_provider_mock import _app as mock
    from oidc_provider_mock._storage import Client

    app, storage = provider.app, provider_storage(provider)
    authorization = from_request_hook(provider, AuthorizationServer)
    credentials, decisions = {}, {}

    class Endpoint(rfc8628.DeviceAuthorizationEndpoint):
        INTERVAL = 1

        def get_verification_uri(self):
            return f"{provider.issuer}/device"

        def save_device_credential(self, client_id, scope, data):
            credentials[data["device_code"]] = rfc8628.DeviceCredentialDict(
                client_id=client_id, scope=scope, user_code=data["user_code"],
                expires_at=time.time() + data["expires_in"])

    class Grant(rfc8628.DeviceCodeGrant):
        def query_device_credential(self, device_code):
            return credentials.get(device_code)

        def query_user_grant(self, user_code):
            return decisions.get(user_code)

        def should_slow_down(self, credential):
            return False

    Client.GRANT_TYPES_SUPPORTED = tuple({*Client.GRANT_TYPES_SUPPORTED, rfc8628.DEVICE_CODE_GRANT_TYPE})
    authorization.register_grant(Grant, [mock.OpenIDCode(require_nonce=False, token_max_age=timedelta(hours=1))])
    authorization.register_endpoint(Endpoint)
    app.add_url_rule("/oauth2/device", "device_authorization", methods=["POST"],
                     view_func=lambda: authorization.create_endpoint_response("device_authorization"))
    # The mock's token view takes only its own grants; the device grant goes to Authlib directly.
    token_view = app.view_functions["oidc-provider-mock.issue_token"]
    app.view_functions["oidc-provider-mock.issue_token"] = lambda: (
        authorization.create_token_response()
        if flask.request.form.get("grant_type") == rfc8628.DEVICE_CODE_GRANT_TYPE else token_view())
    discovery = app.view_functions["oidc-provider-mock.openid_config"]
    app.view_functions["oidc-provider-mock.openid_config"] = lambda: flask.jsonify(
        {**discovery().get_json(), "device_authorization_endpoint": f"{provider.issuer}/oauth2/device"})

    def approve(user_code: str, sub: str, yes: bool = True) -> None:
        decisions[user_code] = (storage.get_user(sub), yes)
    return approve


def set_user(provider, sub: str, claims: dict) -> None:
    request = urllib.request.Request(f"{provider.issuer}/users/{sub}", method="PUT", data=json.dumps(claims).encode())
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 204


def start(server_factory, provider, *extra, env=None):
    port = free_port()
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD, "REGENT_OIDC_CLIENT_SECRET": "s3cret",
                             **(env or {})}).start(
        "--listen", f"127.0.0.1:{port}", "--public-url", f"http://127.0.0.1:{port}",
        "--oidc-issuer", provider.issuer, "--oidc-client-id", "regent", "--oidc-name", "Contoso",
        "--oidc-groups-claim", "groups", "--oidc-group-prefix", "idp-", *extra)
    return server, sign_in(server, "admin", ADMIN_PASSWORD)


def provider_sign_in(server, sub: str, name: str = "Contoso") -> tuple[int, str, str | None]:
    """Regent → the provider's form (the person types their subject) → back to Regent; returns
    the callback's status, page and session token."""
    status, headers, _ = fetch(server.url + f"/login/provider/{name}")
    assert status == 303, status
    authorize = headers["Location"]
    assert "code_challenge_method=S256" in authorize and "nonce=" in authorize
    status, headers, body = fetch(authorize, "POST", {"sub": sub})
    assert status == 302, body
    return callback(headers["Location"])


def callback(url: str) -> tuple[int, str, str | None]:
    status, headers, page = fetch(url)
    cookie = headers.get("Set-Cookie", "")
    token = cookie.split("regent_session=", 1)[1].split(";", 1)[0] if "regent_session=" in cookie else None
    return status, page, token


def test_groups_and_mfa_from_the_provider(server_factory, provider):
    server, admin = start(server_factory, provider)
    assert call(server.url + "/v1/principals", "POST", {"kind": "group", "name": "idp-dbas"}, admin)[0] == 201
    assert call(server.url + "/v1/principals", "POST", {"kind": "group", "name": "local-ops"}, admin)[0] == 201
    assert call(server.url + "/v1/roles", "POST", {"name": "dba"}, admin)[0] == 201
    assert call(server.url + "/v1/roles/dba/policy", "PUT", {"activation": {"requireMfa": True}}, admin)[0] == 200
    assert call(server.url + "/v1/requests", "POST", {"action": "adminAssign", "principalId": "idp-dbas",
                                                      "roleId": "dba", "scope": "/", "kind": "eligible"}, admin)[0] == 201
    set_user(provider, "00u-zoe", {"preferred_username": "Zoë.O'Brien@Contoso.com", "name": "Zoë O'Brien",
                                   "groups": ["dbas", "local-ops"], "amr": ["pwd", "mfa"]})
    status, page, zoe = provider_sign_in(server, "00u-zoe")
    assert status == 200 and zoe, page
    status, me = call(server.url + "/v1/me", "GET", None, zoe)
    assert status == 200 and me["name"] == "zoe.obrien@contoso.com" and me["displayName"] == "Zoë O'Brien", me
    # The provider fills the group under its prefix, never a local one.
    group_id = call(server.url + "/v1/principals/idp-dbas", "GET", None, admin)[1]["id"]
    status, added = call(server.url + "/v1/audit?action=group.member_added&limit=10", "GET", None, admin)
    assert status == 200 and [e["subject"]["principalId"] for e in added["items"]] == [group_id], added
    # MFA met by amr: the activation needs no TOTP.
    status, request = call(server.url + "/v1/requests", "POST", {
        "action": "selfActivate", "roleId": "dba", "scope": "/", "duration": "PT30M", "justification": "INC-1"}, zoe)
    assert status == 201 and request["status"] in {"provisioning", "provisioned"}, request
    status, page_ = call(server.url + "/v1/audit?action=auth.login.&limit=5", "GET", None, admin)
    login = next(e for e in page_["items"] if e["actor"]["name"] == "zoe.obrien@contoso.com")
    assert login["details"]["mfa"] == "amr:mfa" and login["details"]["method"] == "oidc:Contoso", login
    status, created = call(server.url + "/v1/audit?action=request.created&limit=5", "GET", None, admin)
    assert created["items"][0]["details"]["mfa"] == "amr:mfa", created

    # Without a second factor at the provider, the same policy asks for MFA.
    set_user(provider, "00u-bob", {"preferred_username": "bob@contoso.com", "groups": ["dbas"], "amr": ["pwd"]})
    _, _, bob = provider_sign_in(server, "00u-bob")
    status, refused = call(server.url + "/v1/requests", "POST", {
        "action": "selfActivate", "roleId": "dba", "scope": "/", "duration": "PT30M", "justification": "INC-1"}, bob)
    assert status == 401 and refused["type"] == "urn:regent:problem:mfa-required", refused
    # The portal offers a step-up at the provider: a fresh sign-in with MFA asked for.
    status, headers, _ = fetch(server.url + "/login/provider/Contoso?stepUp=1&return=/roles")
    assert status == 303 and "prompt=login" in headers["Location"] and "max_age=0" in headers["Location"]

    # Leaving the group at the provider ends the activation it gave at the next sign-in.
    check = server.url + "/v1/check?principal=zoe.obrien@contoso.com&role=dba&scope=/"
    assert call(check, "GET", None, admin)[1]["active"] is True
    set_user(provider, "00u-zoe", {"preferred_username": "Zoë.O'Brien@Contoso.com", "groups": [], "amr": ["mfa"]})
    status, _, zoe_again = provider_sign_in(server, "00u-zoe")
    assert status == 200 and zoe_again
    assert call(check, "GET", None, admin)[1]["active"] is False
    assert "assignment.withdrawn" in audit_actions(server, admin, "assignment.")
    # The same person again, matched by (issuer, subject): no second account.
    status, users = call(server.url + "/v1/principals?kind=user&limit=100", "GET", None, admin)
    assert [u["name"] for u in users["items"]].count("zoe.obrien@contoso.com") == 1

    # Key rotation at the provider: Regent reads the JWKS again for the new key id.
    from authlib import jose
    storage = provider_storage(provider)
    old_key = storage.jwk.as_dict()["n"]
    storage.jwk = jose.RSAKey.generate_key(is_private=True)
    assert storage.jwk.as_dict()["n"] != old_key
    status, page, rotated = provider_sign_in(server, "00u-zoe")
    assert status == 200 and rotated, page


def test_attacks_are_refused_and_audited(server_factory, provider):
    server, admin = start(server_factory, provider)
    set_user(provider, "00u-eve", {"preferred_username": "eve@contoso.com"})
    # A state Regent never issued.
    status, page, token = callback(server.url + "/login/provider/Contoso/callback?code=abc&state=forged")
    assert status == 401 and token is None and "state" in page
    # A real sign-in, then its callback again: the state works once.
    status, headers, _ = fetch(server.url + "/login/provider/Contoso")
    status, headers, _ = fetch(headers["Location"], "POST", {"sub": "00u-eve"})
    first = headers["Location"]
    assert callback(first)[0] == 200
    status, page, token = callback(first)
    assert status == 401 and token is None, page
    # The code replayed under a fresh state: the provider refuses it.
    code = urllib.parse.parse_qs(urllib.parse.urlparse(first).query)["code"][0]
    status, headers, _ = fetch(server.url + "/login/provider/Contoso")
    state = urllib.parse.parse_qs(urllib.parse.urlparse(headers["Location"]).query)["state"][0]
    status, page, token = callback(server.url + f"/login/provider/Contoso/callback?code={code}&state={state}")
    assert status == 401 and token is None and "code" in page, page
    # The person denied at the provider.
    status, headers, _ = fetch(server.url + "/login/provider/Contoso")
    status, headers, _ = fetch(headers["Location"], "POST", {"action": "deny"})
    status, page, token = callback(headers["Location"])
    assert status == 401 and token is None
    # A token signed by a key the provider does not publish: the provider signs with a new key
    # while its JWKS still lists only the old one.
    from authlib import jose
    from flask import jsonify
    storage = provider_storage(provider)
    published = jose.KeySet((storage.jwk,)).as_dict()
    provider.app.view_functions["oidc-provider-mock.jwks"] = lambda: jsonify(published)
    storage.jwk = jose.RSAKey.generate_key(is_private=True)
    status, page, token = provider_sign_in(server, "00u-eve")
    assert status == 401 and token is None and "signature" in page, page
    refusals = [e for e in call(server.url + "/v1/audit?action=auth.provider_login.&limit=50", "GET", None, admin)[1]["items"]]
    assert len(refusals) == 5 and all(e["outcome"] == "denied" and e["reason"] for e in refusals), refusals


def test_an_unverified_email_is_no_name(server_factory, provider):
    server, admin = start(server_factory, provider, "--oidc-username-claim", "email")
    set_user(provider, "00u-mallory", {"email": "admin@contoso.com", "email_verified": False})
    status, page, token = provider_sign_in(server, "00u-mallory")
    assert status == 401 and token is None and "verified" in page, page
    set_user(provider, "00u-amy", {"email": "amy@contoso.com", "email_verified": True})
    status, page, token = provider_sign_in(server, "00u-amy")
    assert status == 200 and token, page
    # A name that belongs to a local account is not taken over.
    set_user(provider, "00u-admin", {"email": "admin", "email_verified": True})
    status, page, token = provider_sign_in(server, "00u-admin")
    assert status == 401 and token is None and "another account" in page, page
    # A name with nothing Regent can use is refused too, and audited like every refusal.
    set_user(provider, "00u-kanji", {"email": "日本", "email_verified": True})
    status, page, token = provider_sign_in(server, "00u-kanji")
    assert status == 400 and token is None, page
    reasons = [e["reason"] for e in call(server.url + "/v1/audit?action=auth.provider_login.&limit=10", "GET", None,
                                         admin)[1]["items"]]
    assert len(reasons) == 3 and "letter or digit" in reasons[0], reasons


@pytest.fixture
def browser():
    """Headless Chromium. The provider's own form pulls a stylesheet from a CDN that loopback
    cannot reach, so the test holds only Regent's pages to a clean console."""
    import shutil
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip("Chromium is not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    yield driver
    driver.quit()


def test_portal_sign_in_in_a_real_browser(server_factory, provider, browser):
    from selenium.webdriver.common.by import By
    from test_portal import loaded, screenshot, submit
    server, _ = start(server_factory, provider)
    set_user(provider, "00u-zoe", {"preferred_username": "Zoë.O'Brien@Contoso.com", "name": "Zoë O'Brien"})
    driver = browser
    driver.get(server.url + "/login")
    screenshot(driver, "login-with-provider")
    link = driver.find_element(By.LINK_TEXT, "Sign in with Contoso")
    link.click()
    loaded(driver)
    driver.find_element(By.CSS_SELECTOR, "input[name=sub][type=text]").send_keys("00u-zoe")
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]:not([value=deny])"))
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, 10).until(lambda d: d.current_url.endswith("/roles"))
    assert "zoe.obrien@contoso.com" in driver.page_source
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and e["message"].startswith(server.url)]
    assert not errors, errors


def test_cli_login_through_the_provider(server_factory, provider, tmp_path):
    import html
    import re
    import subprocess
    from conftest import BINARY
    server, admin = start(server_factory, provider)
    set_user(provider, "00u-zoe", {"preferred_username": "zoe@contoso.com", "amr": ["mfa"]})
    env = {**__import__("os").environ, "XDG_CONFIG_HOME": str(tmp_path / "home"), "REGENT_SERVER": server.url}
    cli = subprocess.Popen([str(BINARY), "login", "--sso", "--provider", "Contoso"], env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert cli.stderr.readline().startswith("Open this address")
        start_url = cli.stderr.readline().strip()
        assert start_url.startswith(server.url + "/login/provider/Contoso?return=cli:"), start_url
        status, headers, _ = fetch(start_url)
        status, headers, _ = fetch(headers["Location"], "POST", {"sub": "00u-zoe"})
        status, page, token = callback(headers["Location"])
        # Regent asks before it hands the CLI a code, and sets no browser session for it.
        assert status == 200 and token is None, page
        link = html.unescape(re.search(r'href="(http://127\.0\.0\.1:\d+/\?code=[^"]+)"', page).group(1))
        status, _, answer = fetch(link)
        assert status == 200 and "signed in" in answer
        out, err = cli.communicate(timeout=30)
        assert cli.returncode == 0, err
    finally:
        if cli.poll() is None:
            cli.kill()
    whoami = subprocess.run([str(BINARY), "whoami"], env=env, capture_output=True, text=True, timeout=30)
    assert whoami.returncode == 0 and "zoe@contoso.com" in whoami.stdout, whoami
    # The code worked once.
    code = urllib.parse.parse_qs(urllib.parse.urlparse(link).query)["code"][0]
    status, _ = call(server.url + "/v1/auth/sso", "POST", {"code": code, "verifier": "v" * 43})
    assert status == 401
    status, page_ = call(server.url + "/v1/audit?action=auth.login.succeeded&limit=5", "GET", None, admin)
    assert page_["items"][0]["details"]["method"] == "oidc:Contoso (cli)", page_["items"][0]


def test_several_providers_and_a_group_map(server_factory, provider, second_provider, tmp_path):
    """A second provider from a provider file: its own sign-in link, its groups filled by an
    explicit map, and a person known by (issuer, subject), so one subject at two providers is two
    people. Two providers that would fill the same groups are refused at start."""
    import subprocess
    from conftest import BINARY, regent
    fabrikam = tmp_path / "fabrikam.yaml"
    fabrikam.write_text(f"""
name: Fabrikam
issuer: {second_provider.issuer}
client-id: regent-fabrikam
client-secret-env: FABRIKAM_SECRET
groups-claim: groups
group-map:
  "Fabrikam DBAs": dba-oncall
""")
    server, admin = start(server_factory, provider, "--oidc-provider", str(fabrikam),
                          env={"FABRIKAM_SECRET": "f4brikam"})
    status, listed = call(server.url + "/v1/auth/providers", "GET")
    assert status == 200 and listed["items"] == [{"name": "Contoso", "deviceSignIn": False},
                                                 {"name": "Fabrikam", "deviceSignIn": False}], listed
    login_page = fetch(server.url + "/login")[2]
    assert "Sign in with Contoso" in login_page and "Sign in with Fabrikam" in login_page
    assert call(server.url + "/v1/principals", "POST", {"kind": "group", "name": "dba-oncall"}, admin)[0] == 201
    assert call(server.url + "/v1/roles", "POST", {"name": "dba"}, admin)[0] == 201
    assert call(server.url + "/v1/requests", "POST", {"action": "adminAssign", "principalId": "dba-oncall",
                                                      "roleId": "dba", "scope": "/", "kind": "eligible"}, admin)[0] == 201
    set_user(second_provider, "00u-1", {"preferred_username": "ann@fabrikam.com", "amr": ["mfa"],
                                        "groups": ["Fabrikam DBAs", "Everyone"]})
    status, page, ann = provider_sign_in(server, "00u-1", "Fabrikam")
    assert status == 200 and ann, page
    status, request = call(server.url + "/v1/requests", "POST", {
        "action": "selfActivate", "roleId": "dba", "scope": "/", "duration": "PT30M", "justification": "INC-7"}, ann)
    assert status == 201 and request["status"] in {"provisioning", "provisioned"}, request
    # The same subject at the other provider is somebody else.
    set_user(provider, "00u-1", {"preferred_username": "andy@contoso.com", "amr": ["mfa"],
                                 "groups": ["Fabrikam DBAs"]})
    status, page, andy = provider_sign_in(server, "00u-1")
    assert status == 200 and call(server.url + "/v1/me", "GET", None, andy)[1]["name"] == "andy@contoso.com"
    # Contoso's groups are those under its prefix: the group Fabrikam's map fills is not its.
    status, refused = call(server.url + "/v1/requests", "POST", {
        "action": "selfActivate", "roleId": "dba", "scope": "/", "duration": "PT30M", "justification": "x"}, andy)
    assert status in {403, 422}, refused
    # Leaving the mapped group at the provider ends the activation at the next sign-in.
    check = server.url + "/v1/check?principal=ann@fabrikam.com&role=dba&scope=/"
    assert call(check, "GET", None, admin)[1]["active"] is True
    set_user(second_provider, "00u-1", {"preferred_username": "ann@fabrikam.com", "groups": ["Everyone"]})
    assert provider_sign_in(server, "00u-1", "Fabrikam")[0] == 200
    assert call(check, "GET", None, admin)[1]["active"] is False
    # With several providers the CLI asks which.
    env = {**__import__("os").environ, "XDG_CONFIG_HOME": str(tmp_path / "home"), "REGENT_SERVER": server.url}
    which = subprocess.run([str(BINARY), "login", "--sso"], env=env, capture_output=True, text=True, timeout=30)
    assert which.returncode == 1 and "Contoso, Fabrikam" in which.stderr and "--provider" in which.stderr, which

    common = f"name: Other\nissuer: {second_provider.issuer}\nclient-id: x\n"
    for text, needle in ((common + "groups-claim: groups\ngroup-map: {g: idp-dbas}\n", "both fill the group idp-dbas"),
                         (common + "client-secret: hunter2\n", "client-secret is never written"),
                         (common + "group-map: {{g: idp-dbas}: x}\n", "group-map maps"),
                         (common + "scope: openid\n", "scope is not a provider setting"),
                         ("- a list\n", "not a mapping")):
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        refused = regent("serve", "--listen", "127.0.0.1:0", "--public-url", "http://127.0.0.1:1",
                         "--oidc-issuer", provider.issuer, "--oidc-client-id", "regent", "--oidc-groups-claim",
                         "groups", "--oidc-group-prefix", "idp-", "--oidc-provider", str(bad), cwd=tmp_path)
        assert refused.returncode != 0 and needle in refused.stderr, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr


def test_cli_device_sign_in(server_factory, provider, tmp_path):
    """Where the CLI's machine has no desktop and the provider offers it, `regent login --sso`
    uses the device authorization grant through Regent: the person types a code at the provider
    on any device; a decline ends it; the handle works once."""
    import os
    import re
    import subprocess
    from conftest import BINARY
    approve = add_device_grant(provider)
    server, admin = start(server_factory, provider)
    set_user(provider, "00u-dev", {"preferred_username": "dev@contoso.com", "amr": ["mfa"]})
    env = {k: v for k, v in os.environ.items() if k not in {"DISPLAY", "WAYLAND_DISPLAY"}}
    env.update({"XDG_CONFIG_HOME": str(tmp_path / "home"), "REGENT_SERVER": server.url})

    def sign_in_on_another_device(sub: str, yes: bool) -> subprocess.CompletedProcess:
        cli = subprocess.Popen([str(BINARY), "login", "--sso"], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            shown = cli.stderr.readline()
            found = re.search(r"open (http\S+/device) and enter the code (\S+)", shown)
            assert found and found.group(1) == f"{provider.issuer}/device", shown
            approve(found.group(2), sub, yes)
            out, err = cli.communicate(timeout=60)
            return subprocess.CompletedProcess(cli.args, cli.returncode, out, shown + err)
        finally:
            if cli.poll() is None:
                cli.kill()

    assert call(server.url + "/v1/auth/providers", "GET")[1]["items"][0]["deviceSignIn"] is True
    signed_in = sign_in_on_another_device("00u-dev", True)
    assert signed_in.returncode == 0 and "Signed in" in signed_in.stdout, signed_in
    whoami = subprocess.run([str(BINARY), "whoami"], env=env, capture_output=True, text=True, timeout=30)
    assert whoami.returncode == 0 and "dev@contoso.com" in whoami.stdout, whoami
    login = call(server.url + "/v1/audit?action=auth.login.succeeded&limit=5", "GET", None, admin)[1]["items"][0]
    assert login["details"]["method"] == "oidc:Contoso (device)" and login["details"]["mfa"] == "amr:mfa", login

    declined = sign_in_on_another_device("00u-dev", False)
    assert declined.returncode == 1 and "declined" in declined.stderr, declined
    refusal = call(server.url + "/v1/audit?action=auth.provider_login.refused&limit=5", "GET", None, admin)[1]
    assert "declined" in refusal["items"][0]["reason"], refusal
    # A handle nobody was given, and one whose sign-in has ended, are refused alike.
    started = call(server.url + "/v1/auth/providers/Contoso/device", "POST")[1]
    approve(started["userCode"], "00u-dev", True)
    poll = server.url + "/v1/auth/providers/Contoso/device/poll"
    assert call(poll, "POST", {"handle": started["handle"]})[0] == 200
    assert call(poll, "POST", {"handle": started["handle"]})[0] == 401
    assert call(poll, "POST", {"handle": "forged"})[0] == 401
    assert call(server.url + "/v1/auth/providers/Nobody/device", "POST")[0] == 404
