"""Several `regent serve` replicas on one PostgreSQL, clients spread across them: one flow with its
steps on different replicas, a deactivation on one replica seen by `/v1/check` on the others within
a measured bound, a disabled user's sessions ending everywhere, the singletons moving when their
holder is killed, and one audit chain that verifies after it all."""
import signal
import statistics
import time

from helpers import call, sign_in, wait_until
from conftest import regent

ADMIN_PASSWORD = "admin password 123"
DB_PASSWORD = "regent db password 1"
LEADING = "this replica now runs the singletons"


def start_replicas(postgres, server_factory, count: int, *arguments: str):
    """`count` replicas on a new database; the first starts alone (it makes the keys in the shared
    data directory and bootstraps), the rest join it."""
    postgres.admin(f"CREATE ROLE regent LOGIN PASSWORD '{DB_PASSWORD}'")
    postgres.admin("CREATE DATABASE regent OWNER regent")
    dsn = f"postgres://regent@127.0.0.1:{postgres.port}/regent?sslmode=disable"
    env = {"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD, "REGENT_DB_PASSWORD": DB_PASSWORD}
    options = ("--db", dsn, "--minimum-duration", "PT1S", "--self-deactivation-delay", "PT0S", *arguments)
    first = server_factory(env).start(*options)
    return dsn, env, options, [first] + [server_factory(env).start(*options) for _ in range(count - 1)]


def check(server, token: str, principal: str, role: str) -> bool:
    status, body = call(server.url + f"/v1/check?principal={principal}&role={role}&scope=/", "GET", token=token)
    assert status == 200, body
    return body["active"]


def test_replicas_share_one_state(postgres, server_factory, tmp_path):
    dsn, env, options, (a, b, c) = start_replicas(postgres, server_factory, 3)
    admin_a = sign_in(a, "admin", ADMIN_PASSWORD)
    admin_b = sign_in(b, "admin", ADMIN_PASSWORD)
    admin_c = sign_in(c, "admin", ADMIN_PASSWORD)

    # Directory and policy written on different replicas.
    for name in ("alice", "bob", "carol"):
        assert call(a.url + "/v1/principals", "POST",
                    {"kind": "user", "name": name, "password": f"{name} password 123"}, admin_a)[0] == 201
    assert call(b.url + "/v1/roles", "POST", {"name": "ops"}, admin_b)[0] == 201
    assert call(c.url + "/v1/roles/ops/policy", "PUT", {"activation": {
        "requireMfa": False, "maximumDuration": "PT1H",
        "approval": {"stages": [{"approvers": ["bob"]}]}}}, admin_c)[0] == 200
    for name in ("alice", "carol"):
        assert call(a.url + "/v1/requests", "POST", {"action": "adminAssign", "principalId": name, "roleId": "ops",
                                                     "scope": "/", "kind": "eligible"}, admin_a)[0] == 201

    # Activation asked on A, approved on B, in force on C; it ends by itself on its end time.
    alice = sign_in(a, "alice", "alice password 123")
    status, request = call(a.url + "/v1/requests", "POST", {
        "action": "selfActivate", "roleId": "ops", "scope": "/", "duration": "PT3S",
        "justification": "replica flow"}, alice)
    assert status == 201 and request["status"] == "pendingApproval", request
    bob = sign_in(b, "bob", "bob password 123")
    status, approved = call(b.url + f"/v1/requests/{request['id']}/approve", "POST", {"justification": "ok"}, bob)
    assert status == 200, approved
    wait_until(lambda: check(c, admin_c, "alice", "ops"), timeout=5)
    wait_until(lambda: not any(check(s, t, "alice", "ops") for s, t in ((a, admin_a), (b, admin_b), (c, admin_c))),
               timeout=15)
    status, ended = call(c.url + f"/v1/requests/{request['id']}", "GET", None, admin_c)
    assert status == 200 and ended["status"] == "expired", ended

    # A deactivation on one replica is seen by /v1/check on another: measured, 20 rounds.
    assert call(c.url + "/v1/roles/ops/policy", "PUT", {"activation": {"requireMfa": False}}, admin_c)[0] == 200
    carol = sign_in(b, "carol", "carol password 123")
    replicas = [(a, admin_a), (b, admin_b), (c, admin_c)]
    latencies = []
    for round_ in range(20):
        here, there = replicas[round_ % 3], replicas[(round_ + 1) % 3]
        status, activation = call(here[0].url + "/v1/requests", "POST", {
            "action": "selfActivate", "roleId": "ops", "scope": "/", "duration": "PT10M",
            "justification": f"round {round_}"}, carol)
        assert status == 201 and activation["status"] in {"provisioned", "active", "provisioning"}, activation
        wait_until(lambda: check(there[0], there[1], "carol", "ops"), timeout=5, interval=0.005)
        status, ended = call(here[0].url + "/v1/requests", "POST", {
            "action": "selfDeactivate", "principalId": "carol", "roleId": "ops", "scope": "/", "kind": "active",
            "assignmentId": activation["assignmentId"]}, carol)
        acknowledged = time.monotonic()
        assert status == 201, ended
        wait_until(lambda: not check(there[0], there[1], "carol", "ops"), timeout=5, interval=0.002)
        latencies.append(time.monotonic() - acknowledged)
    latencies.sort()
    p50, p99 = statistics.median(latencies) * 1000, latencies[-1] * 1000
    print(f"\ncross-replica deactivation → /v1/check false: p50 {p50:.1f} ms, max (p99 of 20) {p99:.1f} ms")
    assert p99 < 1000, latencies

    # Disabling a user on one replica ends their sessions on the others.
    assert call(b.url + "/v1/me", "GET", None, carol)[0] == 200
    status, carol_principal = call(a.url + "/v1/principals/carol", "GET", None, admin_a)
    assert call(a.url + f"/v1/principals/{carol_principal['id']}", "PATCH", {"enabled": False}, admin_a)[0] == 200
    _, waited = wait_until(lambda: call(b.url + "/v1/me", "GET", None, carol)[0] == 401, timeout=5, interval=0.005)
    print(f"disabled on A → session refused on B after {waited * 1000:.1f} ms")

    # Exactly one replica runs the singletons; killed, another takes them over.
    def leaders():
        return [s for s in (a, b, c) if s.process.poll() is None and LEADING in s.output]
    wait_until(lambda: len(leaders()) == 1, timeout=10)
    holder = leaders()[0]
    holder.process.send_signal(signal.SIGKILL)
    holder.process.wait()
    killed = time.monotonic()
    _, moved = wait_until(lambda: len(leaders()) == 1, timeout=15)
    print(f"singletons moved {moved:.2f} s after their holder was killed")
    survivor = next(s for s in (a, b, c) if s.process.poll() is None)
    token = {a: admin_a, b: admin_b, c: admin_c}[survivor]

    # One chain, written by every replica, verifies.
    status, report = call(survivor.url + "/v1/audit/verify", "GET", token=token)
    assert status == 200 and report["intact"] is True, report
    for server in (a, b, c):
        if server.process.poll() is None:
            assert server.stop() == 0
    verified = regent("audit", "verify", "--db", dsn, "--data-dir", ".", cwd=tmp_path, env=env)
    assert verified.returncode == 0, verified.stderr
    assert time.monotonic() - killed < 60


def test_bad_database_settings_are_one_line(postgres, server_factory, tmp_path):
    postgres.admin(f"CREATE ROLE regent LOGIN PASSWORD '{DB_PASSWORD}'")
    postgres.admin("CREATE DATABASE regent OWNER regent")
    good = f"postgres://regent@127.0.0.1:{postgres.port}/regent?sslmode=disable"
    cases = [
        ({"REGENT_DB_PASSWORD": "wrong password"}, good, "password authentication failed"),
        ({"REGENT_DB_PASSWORD": DB_PASSWORD}, good.replace("/regent?", "/nowhere?"), "does not exist"),
        ({"REGENT_DB_PASSWORD": DB_PASSWORD}, f"postgres://regent@127.0.0.1:1/regent?sslmode=disable",
         "cannot connect"),
        ({"REGENT_DB_PASSWORD": DB_PASSWORD}, good.replace("regent@", f"regent:{DB_PASSWORD}@"), "password"),
        ({"REGENT_DB_PASSWORD": DB_PASSWORD}, good + "&sslmode=sometimes", "sslmode"),
    ]
    for env, dsn, expected in cases:
        result = regent("audit", "verify", "--db", dsn, cwd=tmp_path, env=env)
        lines = result.stderr.strip().splitlines()
        assert result.returncode != 0 and len(lines) == 1, (dsn, result.stderr)
        assert expected in lines[0], (dsn, lines)
        assert DB_PASSWORD not in result.stderr and "wrong password" not in result.stderr
    assert postgres.admin("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = 'regent'") \
        in {"0", ""}


def test_replica_with_other_keys_refuses_to_start(postgres, server_factory, tmp_path):
    """A replica given other keys than the database was started with (here its own data directory)
    refuses to start, with one line saying why, and writes nothing."""
    dsn, env, options, (first,) = start_replicas(postgres, server_factory, 1)
    other = tmp_path / "elsewhere"
    other.mkdir()
    result = regent("serve", "--listen", "127.0.0.1:0", *options, "--data-dir", str(other), cwd=other, env=env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "is not the one this database was started with" in lines[0], result.stderr
    status, report = call(first.url + "/v1/audit/verify", "GET", token=sign_in(first, "admin", ADMIN_PASSWORD))
    assert status == 200 and report["intact"] is True, report
    assert first.stop() == 0
