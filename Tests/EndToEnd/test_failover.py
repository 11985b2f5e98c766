"""Database failover: a PostgreSQL primary and a streaming standby on loopback, with synchronous
replication (a commit is acknowledged only once the standby has it, as a deployment that must not
lose an acknowledged request runs it). Regent is given both hosts. The primary is stopped: Regent
answers 503 problem+json (never 500), keeps answering checks from its index, which still says no
at each end time. The standby is promoted: Regent moves to it by itself, nothing it acknowledged is
lost, and the audit chain verifies on the new primary."""
import json
import urllib.error
import urllib.request

from helpers import call, sign_in, wait_until
from conftest import regent

ADMIN_PASSWORD = "admin password 123"


def raw(url: str, method: str, body: dict | None, token: str | None) -> tuple[int, str, dict]:
    """Status, content type and body of one call."""
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("Content-Type", ""), json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), json.loads(error.read() or b"{}")


def active(server, token: str, principal: str) -> bool:
    status, body = call(server.url + f"/v1/check?principal={principal}&role=ops&scope=/", "GET", token=token)
    assert status == 200, body
    return body["active"]


def test_primary_fails_and_the_promoted_standby_takes_over(postgres, server_factory, tmp_path):
    primary = postgres
    standby = primary.standby().run()
    primary.admin("ALTER SYSTEM SET synchronous_standby_names = '*'")
    primary.admin("SELECT pg_reload_conf()")
    wait_until(lambda: primary.admin("SELECT sync_state FROM pg_stat_replication") == "sync", timeout=30)
    try:
        dsn = (f"postgres://postgres@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/postgres"
               "?sslmode=disable&target_session_attrs=read-write")
        env = {"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD, "REGENT_DB_PASSWORD": primary.password}
        server = server_factory(env).start("--db", dsn, "--minimum-duration", "PT1S")
        admin = sign_in(server, "admin", ADMIN_PASSWORD)
        for name in ("alice", "bob"):
            assert call(server.url + "/v1/principals", "POST",
                        {"kind": "user", "name": name, "password": f"{name} password 123"}, admin)[0] == 201
        assert call(server.url + "/v1/roles", "POST", {"name": "ops"}, admin)[0] == 201
        assert call(server.url + "/v1/roles/ops/policy", "PUT",
                    {"activation": {"requireMfa": False, "maximumDuration": "PT1H"}}, admin)[0] == 200
        acknowledged = []
        for name in ("alice", "bob"):
            status, request = call(server.url + "/v1/requests", "POST", {
                "action": "adminAssign", "principalId": name, "roleId": "ops", "scope": "/", "kind": "eligible"},
                admin)
            assert status == 201, request
            acknowledged.append(request["id"])
        tokens = {name: sign_in(server, name, f"{name} password 123") for name in ("alice", "bob")}
        for name, duration in (("alice", "PT30M"), ("bob", "PT4S")):
            status, request = call(server.url + "/v1/requests", "POST", {
                "action": "selfActivate", "roleId": "ops", "scope": "/", "duration": duration,
                "justification": "before the failover"}, tokens[name])
            assert status == 201, request
            acknowledged.append(request["id"])
        wait_until(lambda: active(server, admin, "alice") and active(server, admin, "bob"), timeout=10)

        # The primary goes away: changes are refused as unavailable, checks are still answered
        # from the index, and bob's activation still ends on time.
        primary.pg_ctl("-m", "fast", "stop")
        status, kind, problem = raw(server.url + "/v1/requests", "POST", {
            "action": "selfActivate", "roleId": "ops", "scope": "/", "duration": "PT5M",
            "justification": "during the failover"}, tokens["bob"])
        assert status == 503 and kind.startswith("application/problem+json"), (status, kind, problem)
        assert problem["type"].endswith("unavailable"), problem
        # Not ready, and saying which check fails.
        status, kind, readiness = raw(server.url + "/readyz", "GET", None, None)
        assert status == 503 and kind.startswith("application/problem+json"), (status, kind, readiness)
        assert not readiness["checks"]["database"].startswith("ok"), readiness
        assert active(server, admin, "alice")
        wait_until(lambda: not active(server, admin, "bob"), timeout=15)

        # The standby is promoted; Regent finds it without being told.
        standby.pg_ctl("promote")
        def accepted() -> bool:
            status, created = call(server.url + "/v1/principals", "POST",
                                   {"kind": "user", "name": "carol", "password": "carol password 123"}, admin)
            assert status in {201, 503}, (status, created)
            return status == 201
        _, waited = wait_until(accepted, timeout=30, interval=0.1)
        print(f"\nwrites accepted again {waited:.2f} s after the standby was promoted")
        # Ready again once it also hears changes on the promoted server.
        wait_until(lambda: raw(server.url + "/readyz", "GET", None, None)[0] == 200, timeout=30, interval=0.1)

        # The timers missed meanwhile run (one claimed as the primary stopped waits for its lease,
        # 15 s): bob's activation is recorded as ended, and he may activate again.
        bobs = acknowledged[-1]
        _, caught_up = wait_until(
            lambda: call(server.url + f"/v1/requests/{bobs}", "GET", None, admin)[1]["status"] == "expired",
            timeout=60)
        print(f"the missed expiry recorded {caught_up:.2f} s after writes were accepted again")
        status, request = call(server.url + "/v1/requests", "POST", {
            "action": "selfActivate", "roleId": "ops", "scope": "/", "duration": "PT5M",
            "justification": "after the failover"}, tokens["bob"])
        assert status == 201, request
        acknowledged.append(request["id"])
        wait_until(lambda: active(server, admin, "bob"), timeout=10)
        for request_id in acknowledged:
            status, stored = call(server.url + f"/v1/requests/{request_id}", "GET", None, admin)
            assert status == 200, (request_id, stored)
        status, report = call(server.url + "/v1/audit/verify", "GET", token=admin)
        assert status == 200 and report["intact"] is True, report
        assert server.stop() == 0
        verified = regent("audit", "verify", "--db", dsn, "--data-dir", ".", cwd=tmp_path, env=env)
        assert verified.returncode == 0, verified.stderr
    finally:
        standby.stop()
