"""The CLI drives a whole activation: assign, activate with approval and MFA, approve, check, deactivate."""
import json
import subprocess
import time
import urllib.request

import pyotp

from helpers import CLI


def api(url: str, method: str, body: dict | None, token: str) -> dict:
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read()
        return json.loads(text) if text else {}


def test_cli_scenario(server_factory, tmp_path):
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": "admin password 123"}).start("--self-deactivation-delay", "PT0S")
    admin, alice, bob = (CLI(server, tmp_path / name) for name in ("admin", "alice", "bob"))
    admin.login("admin", "admin password 123")

    # Directory and policy through the API (the CLI's admin commands for these come later).
    for name in ("alice", "bob"):
        api(server.url + "/v1/principals", "POST", {"kind": "user", "name": name, "password": f"{name} password 123"}, admin.token)
    api(server.url + "/v1/roles", "POST", {"name": "orders-db-admin"}, admin.token)
    api(server.url + "/v1/roles/orders-db-admin/policy?scope=/prod", "PUT", {
        "activation": {"maximumDuration": "PT2H", "requireMfa": True, "mfaFreshness": "PT10M",
                       "approval": {"stages": [{"approvers": ["bob"], "requiredApprovals": 1, "timeout": "PT4H"}]}},
    }, admin.token)

    assigned = admin("assign", "alice", "orders-db-admin", "--scope", "/prod", "--kind", "eligible")
    assert assigned.returncode == 0, assigned.stderr

    alice.login("alice", "alice password 123")
    enrollment = api(server.url + "/v1/me/mfa/totp", "POST", {}, alice.token)
    totp = pyotp.TOTP(enrollment["secret"])
    api(server.url + "/v1/me/mfa/totp/confirm", "POST", {"code": totp.now()}, alice.token)

    too_long = alice("activate", "orders-db-admin", "--scope", "/prod/db", "--duration", "3h", "--reason", "INC-42")
    assert too_long.returncode != 0
    assert len(too_long.stderr.strip().splitlines()) == 1
    assert too_long.stderr.strip() == "regent: Refused by policy: maximumDuration"

    # The code used at enrollment is spent; the next step's code is accepted once.
    activated = alice("activate", "orders-db-admin", "--scope", "/prod/db", "--duration", "1h", "--reason", "INC-42 failover",
                      "--ticket", "jira:INC-42", "--otp", totp.at(time.time() + 30), "--json")
    assert activated.returncode == 0, activated.stderr
    request = json.loads(activated.stdout)
    assert request["status"] == "pendingApproval"

    not_yet = bob("check", "alice", "orders-db-admin", "/prod/db")
    assert not_yet.returncode != 0  # bob is not signed in yet: one line on stderr
    assert len(not_yet.stderr.strip().splitlines()) == 1

    bob.login("bob", "bob password 123")
    waiting = bob("requests", "--awaiting", "--json")
    assert [item["id"] for item in json.loads(waiting.stdout)] == [request["id"]]
    assert alice("approve", request["id"]).returncode != 0, "nobody approves their own request"
    approved = bob("approve", request["id"], "--reason", "ok")
    assert approved.returncode == 0, approved.stderr
    assert "provisioning" in approved.stdout or "provisioned" in approved.stdout

    mine = json.loads(alice("roles", "--json").stdout)
    assert {(item["role"], item["assignment"]["kind"]) for item in mine} == {("orders-db-admin", "eligible"), ("orders-db-admin", "active")}
    assert all(0 < item["secondsLeft"] <= 3600 for item in mine if item["assignment"]["kind"] == "active")

    active = alice("check", "alice", "orders-db-admin", "/prod/db/orders")
    assert active.returncode == 0 and active.stdout.startswith("active until"), active.stdout + active.stderr

    # An extension of the activation waits for bob like the activation did.
    extended = alice("extend", "orders-db-admin", "--scope", "/prod/db", "--duration", "30m", "--reason", "still on it")
    assert extended.returncode == 0 and "pendingApproval" in extended.stdout, extended.stdout + extended.stderr

    deactivated = alice("deactivate", "orders-db-admin", "--scope", "/prod/db")
    assert deactivated.returncode == 0, deactivated.stderr
    after = alice("check", "alice", "orders-db-admin", "/prod/db")
    assert after.returncode == 1 and after.stdout.strip() == "not active"

    listing = admin("principals")
    assert listing.returncode == 0 and "alice" in listing.stdout and "bob" in listing.stdout
    assert "orders-db-admin" in admin("roles", "--all").stdout
    log = admin("audit", "--action", "request.", "--json")
    assert log.returncode == 0 and {event["action"] for event in json.loads(log.stdout)} >= {"request.created", "request.approved"}
    removed = admin("unassign", "alice", "orders-db-admin", "--scope", "/prod", "--kind", "eligible")
    assert removed.returncode == 0 and "revoked" in removed.stdout, removed.stdout + removed.stderr
    again = alice("activate", "orders-db-admin", "--scope", "/prod/db", "--duration", "1h", "--reason", "again")
    assert again.returncode != 0 and "eligibility" in again.stderr

    assert alice("logout").returncode == 0
    assert alice("whoami").returncode != 0
    assert server.stop() == 0


def test_cli_targets_and_ssh_certificate(server_factory, tmp_path):
    """Targets are added and changed from the CLI with secrets that are never printed back; an
    SSH certificate lands beside the key, where OpenSSH looks for it."""
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": "admin password 123"}).start()
    admin = CLI(server, tmp_path / "admin")
    admin.login("admin", "admin password 123")
    added = admin("targets", "add", "webhook", "bridge", "--config", "url=http://127.0.0.1:9/hook",
                  "--secret", "hmacKey", "--json", stdin="very secret key\n")
    assert added.returncode == 0, added.stderr
    target = json.loads(added.stdout)
    assert target["secretNames"] == ["hmacKey"] and "very secret key" not in added.stdout
    listed = admin("targets")
    assert "bridge" in listed.stdout and "hmacKey" in listed.stdout and "very secret" not in listed.stdout
    updated = admin("targets", "update", target["id"], "--config", "url=http://127.0.0.1:9/other")
    assert updated.returncode == 0, updated.stderr
    bad = admin("targets", "add", "ftp", "x")
    assert bad.returncode != 0 and bad.stderr.count("\n") == 1 and "unknown kind" in bad.stderr

    status = subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "id")])
    assert status.returncode == 0
    ssh_target = api(server.url + "/v1/targets", "POST", {"kind": "ssh", "name": "hosts", "scope": "/"}, admin.token)
    api(server.url + "/v1/roles", "POST", {"name": "ops", "entitlements": [
        {"targetId": ssh_target["id"], "value": "deploy;permit-pty"}]}, admin.token)
    api(server.url + "/v1/principals", "POST", {"kind": "user", "name": "carol", "password": "carol password 123"},
        admin.token)
    api(server.url + "/v1/requests", "POST", {"action": "adminAssign", "principalId": "carol", "roleId": "ops",
                                              "scope": "/", "kind": "active", "duration": "PT1H",
                                              "justification": "cli"}, admin.token)
    carol = CLI(server, tmp_path / "carol")
    carol.login("carol", "carol password 123")
    issued = carol("ssh-cert", "--key", str(tmp_path / "id.pub"))
    assert issued.returncode == 0, issued.stderr
    listing = subprocess.run(["ssh-keygen", "-L", "-f", str(tmp_path / "id-cert.pub")], capture_output=True, text=True)
    assert "deploy" in listing.stdout and "permit-pty" in listing.stdout
    assert server.stop() == 0
