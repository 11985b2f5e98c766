"""Sign-in through a real OpenID provider (oidc-provider-mock, on loopback): the portal in
headless Chromium, the groups claim filling a Regent group whose eligibility follows the
directory, MFA met by `amr` and missing without it, key rotation at the provider, and the
attacks a relying party must refuse (a mismatched or reused state, a replayed code, an
unverified email), each audited."""
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


@pytest.fixture
def provider():
    from oidc_provider_mock._app import app
    from oidc_provider_mock._server import _threaded_server
    with _threaded_server(app=app(require_nonce=True), host="127.0.0.1", port=0) as server:
        server.issuer = f"http://127.0.0.1:{server.server_port}"
        yield server


def provider_storage(provider):
    """The provider's own key and user store (the mock keeps it in its request hook)."""
    from oidc_provider_mock._storage import Storage
    hooks = [f for functions in provider.app.before_request_funcs.values() for f in functions]
    return next(c.cell_contents for f in hooks for c in (f.__closure__ or []) if isinstance(c.cell_contents, Storage))


def set_user(provider, sub: str, claims: dict) -> None:
    request = urllib.request.Request(f"{provider.issuer}/users/{sub}", method="PUT", data=json.dumps(claims).encode())
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 204


def start(server_factory, provider, *extra):
    port = free_port()
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD, "REGENT_OIDC_CLIENT_SECRET": "s3cret"}).start(
        "--listen", f"127.0.0.1:{port}", "--public-url", f"http://127.0.0.1:{port}",
        "--oidc-issuer", provider.issuer, "--oidc-client-id", "regent", "--oidc-name", "Contoso",
        "--oidc-groups-claim", "groups", "--oidc-group-prefix", "idp-", *extra)
    return server, sign_in(server, "admin", ADMIN_PASSWORD)


def provider_sign_in(server, sub: str) -> tuple[int, str, str | None]:
    """Regent → the provider's form (the person types their subject) → back to Regent; returns
    the callback's status, page and session token."""
    status, headers, _ = fetch(server.url + "/login/provider/Contoso")
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
