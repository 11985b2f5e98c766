"""Conditional access on the source network, over real sockets: X-Forwarded-For counts only from trusted proxies."""
from helpers import call


def prepare(server) -> str:
    _, login = call(server.url + "/v1/auth/login", "POST", {"username": "admin", "password": "admin password 123"})
    admin = login["token"]
    call(server.url + "/v1/principals", "POST", {"kind": "user", "name": "alice", "password": "alice password 123"}, admin)
    call(server.url + "/v1/roles", "POST", {"name": "dba"}, admin)
    status, _ = call(server.url + "/v1/roles/dba/policy", "PUT",
                     {"activation": {"requireMfa": False, "conditions": {"networks": ["10.0.0.0/8"]}}}, admin)
    assert status == 200
    call(server.url + "/v1/requests", "POST",
         {"action": "adminAssign", "principalId": "alice", "roleId": "dba", "scope": "/", "kind": "eligible"}, admin)
    _, login = call(server.url + "/v1/auth/login", "POST", {"username": "alice", "password": "alice password 123"})
    return login["token"]


ACTIVATION = {"action": "selfActivate", "roleId": "dba", "scope": "/", "duration": "PT1H", "justification": "x",
              "isValidationOnly": True}


def test_forwarded_for_from_trusted_proxy(server_factory):
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": "admin password 123"}).start("--trusted-proxies", "127.0.0.0/8")
    alice = prepare(server)
    status, problem = call(server.url + "/v1/requests", "POST", ACTIVATION, alice)
    assert status == 422 and problem["failedRules"] == ["networks"]
    status, request = call(server.url + "/v1/requests", "POST", ACTIVATION, alice, {"X-Forwarded-For": "10.20.30.40"})
    assert status == 200 and request["status"] == "provisioning"
    assert server.stop() == 0


def test_forwarded_for_ignored_without_trust(server_factory):
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": "admin password 123"}).start()
    alice = prepare(server)
    status, problem = call(server.url + "/v1/requests", "POST", ACTIVATION, alice, {"X-Forwarded-For": "10.20.30.40"})
    assert status == 422 and problem["failedRules"] == ["networks"]
    assert server.stop() == 0
