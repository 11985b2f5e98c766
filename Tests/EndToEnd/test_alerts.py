"""Security alerts on a running server: raised within seconds of the change that causes them (the
alert monitor watches the audit log), dismissed with a reason through the CLI, reopened by a new
occurrence, and never dismissable by the person they are about."""
import json

from helpers import CLI, call, sign_in, wait_until

ADMIN_PASSWORD = "admin password 123"


def alerts(cli: CLI) -> dict:
    listed = cli("alerts", "list", "--all", "--json")
    assert listed.returncode == 0, listed.stderr
    return {alert["rule"]: alert for alert in json.loads(listed.stdout)}


def test_alerts_through_the_cli(server_factory, tmp_path):
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD}).start()
    admin, second = CLI(server, tmp_path / "admin"), CLI(server, tmp_path / "second")
    admin.login("admin", ADMIN_PASSWORD)

    # The bootstrap administrator holds regent-admin permanently: raised, and not theirs to dismiss.
    permanent, _ = wait_until(lambda: alerts(admin).get("permanentActiveAssignment"), timeout=10, interval=0.2)
    assert permanent["state"] == "open" and "admin holds regent-admin at / permanently" in permanent["items"][0]["summary"]
    refused = admin("alerts", "dismiss", "permanentActiveAssignment", "--reason", "that is me")
    assert refused.returncode != 0 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "separationOfDuties" in refused.stderr

    # A break-glass account signs in: raised; a second administrator dismisses it.
    changed = admin("alerts", "set", "breakGlassUsed", "--names", "glass", "--window", "P7D")
    assert changed.returncode == 0, changed.stderr
    for name in ("glass", "second"):
        assert call(server.url + "/v1/principals", "POST",
                    {"kind": "user", "name": name, "password": f"{name} password 123"}, admin.token)[0] == 201
    assert call(server.url + "/v1/requests", "POST", {
        "action": "adminAssign", "principalId": "second", "roleId": "regent-admin", "scope": "/", "kind": "active",
        "duration": "P30D", "justification": "second administrator"}, admin.token)[0] == 201
    second.login("second", "second password 123")
    sign_in(server, "glass", "glass password 123")
    used, _ = wait_until(lambda: alerts(admin).get("breakGlassUsed"), timeout=10, interval=0.2)
    assert used["state"] == "open" and used["items"][0]["summary"].startswith("glass signed in at ")
    assert "rotate" in used["fix"]
    dismissed = second("alerts", "dismiss", "breakGlassUsed", "--reason", "planned recovery drill")
    assert dismissed.returncode == 0, dismissed.stderr
    assert alerts(admin)["breakGlassUsed"]["dismissReason"] == "planned recovery drill"

    # Used again: it reopens.
    sign_in(server, "glass", "glass password 123")
    wait_until(lambda: alerts(admin)["breakGlassUsed"]["state"] == "open", timeout=10, interval=0.2)
    assert len(alerts(admin)["breakGlassUsed"]["items"]) == 2

    # Turned off: resolved. Unknown rules and bad thresholds are one-line refusals.
    assert admin("alerts", "set", "breakGlassUsed", "--enabled", "off").returncode == 0
    assert alerts(admin)["breakGlassUsed"]["state"] == "resolved"
    bad = admin("alerts", "set", "tooManyAdmins", "--count", "0")
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    unknown = admin("alerts", "dismiss", "everything", "--reason", "x")
    assert unknown.returncode != 0 and "unknown alert rule" in unknown.stderr

    # Every step is in the audit log.
    status, found = call(server.url + "/v1/audit?action=alert.", "GET", None, admin.token)
    actions = {event["action"] for event in found["items"]}
    assert {"alert.raised", "alert.dismissed", "alert.reopened", "alert.resolved", "alert.settings_changed",
            "alert.dismiss.refused"} <= actions, actions
    assert server.stop() == 0
