"""Access reviews through the CLI on a running server: an administrator defines a review, the
reviewer sees each item with its recommendation and decides, and the occurrence records it. (The
end of an occurrence, defaults and auto-apply run on a fake clock in the engine's tests.)"""
import json

from helpers import CLI, activate, call, eligible_user

ADMIN_PASSWORD = "admin password 123"


def test_review_through_the_cli(server_factory, tmp_path):
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD}).start("--minimum-duration", "PT1S")
    admin = CLI(server, tmp_path / "admin")
    admin.login("admin", ADMIN_PASSWORD)
    assert call(server.url + "/v1/roles", "POST", {"name": "orders-db-admin"}, admin.token)[0] == 201
    assert call(server.url + "/v1/roles/orders-db-admin/policy", "PUT", {"activation": {"requireMfa": False}},
                admin.token)[0] == 200
    eligible_user(server, admin.token, "alice", "orders-db-admin")
    bob = eligible_user(server, admin.token, "bob", "orders-db-admin")
    activate(server, bob, "orders-db-admin", 60)
    assert call(server.url + "/v1/principals", "POST",
                {"kind": "user", "name": "carol", "password": "carol password 123"}, admin.token)[0] == 201

    created = admin("reviews", "create", "orders review", "--role", "orders-db-admin", "--kinds", "eligible",
                    "--reviewer", "carol", "--duration", "P7D", "--default-decision", "recommendation", "--json")
    assert created.returncode == 0, created.stderr
    review = json.loads(created.stdout)
    assert review["reviewers"] == {"type": "principals", "principals": ["carol"], "fallback": []}

    carol = CLI(server, tmp_path / "carol")
    carol.login("carol", "carol password 123")
    mine = json.loads(carol("reviews", "mine", "--json").stdout)
    by_name = {item["principal"]: item for item in mine}
    assert set(by_name) == {"alice", "bob"}
    assert by_name["alice"]["recommendation"] == "deny"
    assert by_name["alice"]["recommendationReason"] == "not activated in the last 30 days"
    assert by_name["bob"]["recommendation"] == "approve"

    decided = carol("review", "decide", by_name["alice"]["id"][:8], "--decision", "deny", "--reason", "left the team")
    assert decided.returncode == 0, decided.stderr
    refused = admin("review", "decide", by_name["bob"]["id"][:8], "--decision", "approve")
    assert refused.returncode != 0 and len(refused.stderr.strip().splitlines()) == 1

    instances = json.loads(admin("reviews", "instances", review["id"], "--json").stdout)
    [instance] = instances
    alice_item = next(i for i in instance["items"] if i["principal"] == "alice")
    assert alice_item["decision"] == "deny" and alice_item["decidedBy"] == "carol"
    assert alice_item["justification"] == "left the team" and instance["state"] == "active"
    early = admin("reviews", "apply", instance["id"])
    assert early.returncode != 0 and "completed" in early.stderr
    status, found = call(server.url + "/v1/audit?action=review.", "GET", None, admin.token)
    assert {"review.created", "review.started", "review.decided"} <= {e["action"] for e in found["items"]}
    assert server.stop() == 0
