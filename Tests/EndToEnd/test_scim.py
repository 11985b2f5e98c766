"""SCIM 2.0 against the real binary: scim2-tester finds no failure; SCIM tokens are good for SCIM
only; bad input is a SCIM error and applies nothing; and the PATCH sequences Entra ID and Okta
send when a user is deactivated or leaves a group take access away at once, down to the grant
on a real PostgreSQL."""
import json
import statistics
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from helpers import CLI, audit_actions, call, sign_in, wait_until

ADMIN_PASSWORD = "admin password 123"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def scim(server, token: str | None, method: str, path: str, body=None, raw: bytes | None = None):
    """One SCIM call; returns (status, body, headers)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(server.url + "/scim/v2" + path, method=method, data=data)
    request.add_header("Content-Type", "application/scim+json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}"), response.headers
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}"), error.headers


def patch(*operations) -> dict:
    return {"schemas": [PATCH], "Operations": list(operations)}


def start(server_factory, *args):
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD}).start(*args)
    admin = sign_in(server, "admin", ADMIN_PASSWORD)
    status, created = call(server.url + "/v1/scim/tokens", "POST", {"name": "entra"}, admin)
    assert status == 201, created
    return server, admin, created


def test_scim2_tester_finds_no_failure(server_factory):
    server, _, created = start(server_factory)
    client = SyncSCIMClient(Client(base_url=server.url + "/scim/v2",
                                   headers={"Authorization": f"Bearer {created['token']}"}))
    results = check_server(client, raise_exceptions=False)
    failures = [f"{r.title}: {r.reason}" for r in results if r.status != Status.SUCCESS]
    assert not failures, failures
    assert len(results) >= 60, len(results)


def test_scim_tokens_are_for_scim_only(server_factory):
    server, admin, created = start(server_factory)
    token = created["token"]
    assert scim(server, token, "GET", "/Users")[0] == 200
    # A SCIM token is no session, and a session is no SCIM token.
    assert call(server.url + "/v1/me", "GET", None, token)[0] == 401
    status, body, headers = scim(server, admin, "GET", "/Users")
    assert status == 401 and body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"], body
    assert headers["Content-Type"] == "application/scim+json" and "Bearer" in headers["WWW-Authenticate"]
    assert scim(server, None, "GET", "/ServiceProviderConfig")[0] == 401
    # The secret is shown once; the list never has it.
    status, listed = call(server.url + "/v1/scim/tokens", "GET", None, admin)
    assert status == 200 and [t["name"] for t in listed["items"]] == ["entra"] and "token" not in listed["items"][0]
    assert call(server.url + f"/v1/scim/tokens/{created['id']}", "DELETE", None, admin)[0] == 204
    assert scim(server, token, "GET", "/Users")[0] == 401
    assert audit_actions(server, admin, "scim.") == ["scim.token_revoked", "scim.token_created"]


def test_scim_tokens_from_the_cli(server_factory, tmp_path):
    server, _, _ = start(server_factory)
    cli = CLI(server, tmp_path / "home")
    cli.login("admin", ADMIN_PASSWORD)
    made = cli("scim-token", "create", "okta")
    assert made.returncode == 0 and made.stdout.startswith("scim_"), made.stderr
    token = made.stdout.strip()
    assert scim(server, token, "GET", "/ServiceProviderConfig")[0] == 200
    listed = cli("scim-token", "list", "--json")
    assert listed.returncode == 0 and sorted(t["name"] for t in json.loads(listed.stdout)) == ["entra", "okta"]
    okta = next(t for t in json.loads(listed.stdout) if t["name"] == "okta")
    assert cli("scim-token", "revoke", okta["id"]).returncode == 0
    assert scim(server, token, "GET", "/ServiceProviderConfig")[0] == 401
    again = cli("scim-token", "revoke", okta["id"])
    assert again.returncode != 0 and again.stderr.count("\n") == 1, again.stderr


def test_bad_input_is_a_scim_error_and_applies_nothing(server_factory):
    server, admin, created = start(server_factory)
    token = created["token"]

    def refused(status, scim_type, method, path, body=None, raw=None):
        got, answer, headers = scim(server, token, method, path, body, raw)
        assert got == status, answer
        assert answer["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"], answer
        assert answer["status"] == str(status) and answer.get("scimType") == scim_type, answer
        assert headers["Content-Type"] == "application/scim+json"

    status, zoe, _ = scim(server, token, "POST", "/Users", {"schemas": [USER], "userName": "Zoë.O'Brien@Contoso.com"})
    assert status == 201, zoe
    refused(400, "invalidFilter", "GET", "/Users?filter=" + urllib.parse.quote('userName eq'))
    refused(400, "invalidFilter", "GET", "/Users?filter=" + urllib.parse.quote('userName xx "a"'))
    refused(400, "invalidFilter", "GET", "/Users?filter=" + urllib.parse.quote('(' * 50 + 'userName pr' + ')' * 50))
    refused(400, "invalidValue", "POST", "/Users", {"schemas": [USER], "userName": "amy", "shoeSize": 42})
    refused(400, "invalidValue", "POST", "/Users", {"schemas": [USER], "userName": "amy", "active": "perhaps"})
    refused(400, "invalidValue", "POST", "/Users", {"schemas": [USER], "displayName": "No Name"})
    refused(400, "invalidSyntax", "POST", "/Users", raw=b"{not json")
    refused(409, "uniqueness", "POST", "/Users", {"schemas": [USER], "userName": "ZOË.O'BRIEN@contoso.com"})
    # Another person whose name gives the same Regent name: refused, never merged.
    refused(409, "uniqueness", "POST", "/Users", {"schemas": [USER], "userName": "zoe.obrien@contoso.com"})
    refused(409, "uniqueness", "POST", "/Users", {"schemas": [USER], "userName": "admin"})
    refused(400, "invalidSyntax", "PATCH", f"/Users/{zoe['id']}", {"Operations": [{"op": "add", "path": "x"}]})
    refused(400, "mutability", "PATCH", f"/Users/{zoe['id']}",
            patch({"op": "add", "path": "groups", "value": [{"value": zoe["id"]}]}))
    refused(404, None, "GET", "/Users/not-an-id")
    refused(404, None, "GET", "/Nothing")
    refused(405, None, "DELETE", "/ServiceProviderConfig")

    status, group, _ = scim(server, token, "POST", "/Groups", {"schemas": [GROUP], "displayName": "DBAs"})
    assert status == 201, group
    # One missing member in a PATCH that also adds a real one: nothing of it is applied.
    missing = "00000000-0000-0000-0000-000000000001"
    refused(404, None, "PATCH", f"/Groups/{group['id']}", patch(
        {"op": "add", "path": "members", "value": [{"value": zoe["id"]}, {"value": missing}]}))
    refused(404, None, "PATCH", f"/Groups/{group['id']}", patch(
        {"op": "remove", "path": f'members[value eq "{missing}"]'}))
    status, unchanged, _ = scim(server, token, "GET", f"/Groups/{group['id']}")
    assert status == 200 and "members" not in unchanged, unchanged
    # A local principal is not a member SCIM may name.
    status, me = call(server.url + "/v1/me", "GET", None, admin)
    refused(404, None, "PATCH", f"/Groups/{group['id']}", patch(
        {"op": "add", "path": "members", "value": [{"value": me["id"]}]}))
    refused(404, None, "DELETE", f"/Users/{me['id']}")

    # Names as the directory spells them; the Regent name derived once.
    status, found, _ = scim(server, token, "GET", "/Users?filter=" + urllib.parse.quote('userName eq "zoë.o\'brien@contoso.com"'))
    assert status == 200 and found["totalResults"] == 1 and found["Resources"][0]["userName"] == "Zoë.O'Brien@Contoso.com"
    assert call(server.url + "/v1/principals/zoe.obrien@contoso.com", "GET", None, admin)[0] == 200
    assert "directory.change.refused" in audit_actions(server, admin, "directory.")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def test_entra_and_okta_offboarding_end_access_at_once(server_factory, postgres):
    server, admin, created = start(server_factory, "--reconcile-interval", "PT1H")
    token = created["token"]
    postgres.admin("CREATE ROLE app_dba NOLOGIN")
    postgres.admin('CREATE ROLE "zoe.obrien@contoso.com" LOGIN')
    postgres.admin("CREATE ROLE dbas LOGIN")
    status, target = call(server.url + "/v1/targets", "POST", {
        "kind": "postgres", "name": "payroll-db", "scope": "/",
        "config": {"dsn": f"postgres://postgres@127.0.0.1:{postgres.port}/postgres"},
        "secrets": {"password": postgres.password}}, admin)
    assert status == 201, target
    assert call(server.url + "/v1/roles", "POST", {
        "name": "dba", "entitlements": [{"targetId": target["id"], "value": "app_dba"}]}, admin)[0] == 201
    status, zoe, _ = scim(server, token, "POST", "/Users", {
        "schemas": [USER], "userName": "Zoë.O'Brien@Contoso.com", "externalId": "e-1", "active": True,
        "emails": [{"value": "zoe@contoso.com", "type": "work", "primary": True}]})
    assert status == 201, zoe
    name = "zoe.obrien@contoso.com"

    def checked(principal: str) -> bool:
        status, answer = call(server.url + f"/v1/check?principal={principal}&role=dba&scope=/", "GET", None, admin)
        assert status == 200, answer
        return answer["active"]

    # Deactivation, 20 times, alternating Entra ID's and Okta's PATCH.
    to_check, to_revoke = [], []
    for run in range(20):
        status, request = call(server.url + "/v1/requests", "POST", {
            "action": "adminAssign", "principalId": name, "roleId": "dba", "scope": "/", "kind": "active",
            "duration": "PT1H", "justification": "on call"}, admin)
        assert status == 201, request
        wait_until(lambda: name in postgres.members("app_dba"), timeout=10)
        assert checked(name)
        off = ({"op": "Replace", "path": "active", "value": "False"} if run % 2 == 0
               else {"op": "replace", "value": {"active": False}})
        started = time.monotonic()
        status, answer, _ = scim(server, token, "PATCH", f"/Users/{zoe['id']}", patch(off))
        assert status == 200 and answer["active"] is False, answer
        wait_until(lambda: not checked(name), timeout=5, interval=0.001)
        to_check.append(time.monotonic() - started)
        wait_until(lambda: name not in postgres.members("app_dba"), timeout=10, interval=0.005)
        to_revoke.append(time.monotonic() - started)
        # Enabled again: eligibility would come back, the active assignment does not.
        on = ({"op": "Replace", "path": "active", "value": "True"} if run % 2 == 0
              else {"op": "replace", "value": {"active": True}})
        assert scim(server, token, "PATCH", f"/Users/{zoe['id']}", patch(on))[0] == 200
        assert not checked(name)
    print(f"\nSCIM active:false → /v1/check false: p50 {statistics.median(to_check) * 1000:.1f} ms, "
          f"p99 {percentile(to_check, 99) * 1000:.1f} ms; → PostgreSQL grant gone: "
          f"p50 {statistics.median(to_revoke) * 1000:.1f} ms, p99 {percentile(to_revoke, 99) * 1000:.1f} ms")
    assert audit_actions(server, admin, "assignment.").count("assignment.withdrawn") == 20
    assert audit_actions(server, admin, "grant.").count("grant.revoked") == 20

    # Leaving a group (Okta's value path, then Entra ID's value list) ends what the group gave.
    status, group, _ = scim(server, token, "POST", "/Groups", {
        "schemas": [GROUP], "displayName": "DBAs", "members": [{"value": zoe["id"], "display": "Zoë"}]})
    assert status == 201 and [m["value"] for m in group["members"]] == [zoe["id"]], group
    status, request = call(server.url + "/v1/requests", "POST", {
        "action": "adminAssign", "principalId": "dbas", "roleId": "dba", "scope": "/", "kind": "active",
        "duration": "PT1H", "justification": "team on call"}, admin)
    assert status == 201, request
    wait_until(lambda: "dbas" in postgres.members("app_dba"), timeout=10)
    assert checked(name)
    status, answer, _ = scim(server, token, "PATCH", f"/Groups/{group['id']}",
                             patch({"op": "remove", "path": f'members[value eq "{zoe["id"]}"]'}))
    assert status == 200 and "members" not in answer, answer
    assert not checked(name)
    status, answer, _ = scim(server, token, "PATCH", f"/Groups/{group['id']}",
                             patch({"op": "Add", "path": "members", "value": [{"value": zoe["id"]}]}))
    assert status == 200 and checked(name)
    status, answer, _ = scim(server, token, "PATCH", f"/Groups/{group['id']}",
                             patch({"op": "Remove", "path": "members", "value": [{"value": zoe["id"]}]}))
    assert status == 200 and not checked(name)
    # Deleting the group ends its own assignment: the grant to its account goes.
    assert scim(server, token, "DELETE", f"/Groups/{group['id']}")[0] == 204
    wait_until(lambda: "dbas" not in postgres.members("app_dba"), timeout=10)
    assert scim(server, token, "GET", f"/Groups/{group['id']}")[0] == 404
    # SCIM is audited with the directory as actor.
    status, page = call(server.url + "/v1/audit?action=directory.&limit=50", "GET", None, admin)
    assert status == 200 and {e["actor"]["name"] for e in page["items"]} == {"scim:entra"}, page
