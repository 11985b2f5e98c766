"""Crash safety: a server is killed with SIGKILL at random moments while activations are being
granted on a real PostgreSQL and expiries fall due, then restarted, over and over — the one server
on SQLite, and a random one of three replicas sharing a PostgreSQL database. Afterwards every
acknowledged request is still there, no PostgreSQL grant outlived its assignment by more than the
reconcile interval (plus the time no server was up), nothing was granted twice, and the audit
chain verifies."""
import os
import random
import signal
import threading
import time
import urllib.parse
from datetime import datetime

import pytest

from helpers import call, sign_in, wait_until
from conftest import regent

ADMIN_PASSWORD = "admin password 123"
USERS = [f"u{n}" for n in range(8)]
RECONCILE = 2.0
KILLS = int(os.environ.get("REGENT_CRASH_KILLS", "20"))


FINAL = {"expired", "revoked", "failed"}


def parse(text: str | None) -> float | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() if text else None


def every(server, token: str, path: str) -> list[dict]:
    """All items of a listing, page after page."""
    items, cursor = [], None
    while True:
        suffix = f"&cursor={urllib.parse.quote(cursor)}" if cursor else ""
        status, page = call(server.url + path + "&limit=500" + suffix, "GET", None, token)
        assert status == 200, page
        items += page["items"]
        cursor = page.get("cursor")
        if not cursor:
            return items


@pytest.mark.parametrize("replicas", [1, 3], ids=["sqlite", "three-replicas-on-postgres"])
def test_sigkill_while_granting_and_expiring(server_factory, postgres, tmp_path, replicas):
    rng = random.Random(int(os.environ.get("REGENT_CRASH_SEED", "7")))
    postgres.admin("CREATE ROLE app_dba NOLOGIN")
    for user in USERS:
        postgres.admin(f"CREATE ROLE {user} LOGIN")
    env = {"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD}
    arguments = ("--minimum-duration", "PT1S", "--reconcile-interval", f"PT{int(RECONCILE)}S")
    database = "regent.db"
    if replicas > 1:
        postgres.admin("CREATE ROLE regent LOGIN PASSWORD 'regent db password 1'")
        postgres.admin("CREATE DATABASE regent OWNER regent")
        database = f"postgres://regent@127.0.0.1:{postgres.port}/regent?sslmode=disable"
        env["REGENT_DB_PASSWORD"] = "regent db password 1"
    arguments += ("--db", database)

    servers = [server_factory(env).start(*arguments)]
    servers += [server_factory(env).start(*arguments) for _ in range(replicas - 1)]
    server = servers[0]
    admin = sign_in(server, "admin", ADMIN_PASSWORD)
    status, target = call(server.url + "/v1/targets", "POST", {
        "kind": "postgres", "name": "db", "scope": "/",
        "config": {"dsn": f"postgres://postgres@127.0.0.1:{postgres.port}/postgres"},
        "secrets": {"password": postgres.password}}, admin)
    assert status == 201, target
    assert call(server.url + "/v1/roles", "POST",
                {"name": "dba", "entitlements": [{"targetId": target["id"], "value": "app_dba"}]}, admin)[0] == 201
    assert call(server.url + "/v1/roles/dba/policy", "PUT", {"activation": {"requireMfa": False}}, admin)[0] == 200
    tokens = {}
    for user in USERS:
        assert call(server.url + "/v1/principals", "POST",
                    {"kind": "user", "name": user, "password": f"{user} password 123"}, admin)[0] == 201
        assert call(server.url + "/v1/requests", "POST", {"action": "adminAssign", "principalId": user,
                                                          "roleId": "dba", "scope": "/", "kind": "eligible"},
                    admin)[0] == 201
        tokens[user] = sign_in(server, user, f"{user} password 123")

    # PostgreSQL's membership, sampled all along, with the moments the server was down.
    samples: list[tuple[float, set[str]]] = []
    downtime: list[tuple[float, float]] = []
    sampling = threading.Event()

    def sample():
        while not sampling.is_set():
            samples.append((time.time(), postgres.members("app_dba")))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    acknowledged: list[dict] = []
    for kill in range(KILLS):
        victim = rng.randrange(len(servers))
        doomed = servers[victim]
        killer = threading.Timer(rng.uniform(0.3, 2.0), lambda s=doomed: s.process.send_signal(signal.SIGKILL))
        killer.start()
        while doomed.process.poll() is None:
            user = rng.choice(USERS)
            # Clients spread across the replicas; the one about to die is asked too.
            chosen = rng.choice(servers)
            try:
                status, request = call(chosen.url + "/v1/requests", "POST", {
                    "action": "selfActivate", "roleId": "dba", "scope": "/",
                    "duration": f"PT{rng.randint(1, 3)}S", "justification": f"kill {kill}"}, tokens[user])
            except OSError:
                continue
            if status == 201:
                acknowledged.append(request)
            time.sleep(rng.uniform(0, 0.1))
        killer.join()
        doomed.process.wait()
        killed_at = time.time()
        servers[victim] = server_factory(env).start(*arguments)
        if replicas == 1:
            downtime.append((killed_at, time.time()))
    server = servers[0]

    # Let every activation come to its end (a job a killed replica had leased is taken over when
    # its lease runs out, 15 s), the grants be gone and one reconcile pass follow; then stop sampling.
    def unfinished() -> list[str]:
        statuses = [call(server.url + f"/v1/requests/{r['id']}", "GET", None, admin)[1].get("status")
                    for r in acknowledged]
        return [status for status in statuses if status not in FINAL]

    wait_until(lambda: not unfinished(), timeout=60)
    wait_until(lambda: not postgres.members("app_dba"), timeout=30)
    def last_reconcile() -> str:
        # The reconciler runs on the replica that leads; the others report none or an older pass.
        passes = [call(s.url + "/readyz", "GET", None, None)[1]["checks"].get("lastReconcile") for s in servers]
        return max((p for p in passes if p), default="")

    emptied = last_reconcile()
    wait_until(lambda: last_reconcile() > emptied, timeout=RECONCILE * 5)
    sampling.set()
    sampler.join()
    assert len(acknowledged) >= KILLS, "too few activations were acknowledged to mean anything"

    # Every acknowledged request is still there and has come to its end.
    for request in acknowledged:
        status, stored = call(server.url + f"/v1/requests/{request['id']}", "GET", None, admin)
        assert status == 200, (request["id"], stored)
        assert stored["status"] in FINAL, stored

    # No grant outlived its assignment by more than the reconcile interval (plus downtime).
    principals = {call(server.url + f"/v1/principals/{u}", "GET", None, admin)[1]["id"]: u for u in USERS}
    windows: dict[str, list[tuple[float, float]]] = {u: [] for u in USERS}
    for assignment in every(server, admin, "/v1/assignments?kind=active"):
        user = principals.get(assignment["principalId"])
        if user:
            windows[user].append((parse(assignment["start"]), parse(assignment.get("end"))))

    def allowed_lateness(end: float, seen: float) -> float:
        down = sum(max(0.0, min(b, seen) - max(a, end)) for a, b in downtime)
        # With replicas the reconciler moves to another when its holder is killed (about a second).
        return RECONCILE + 1.0 + down + (2.0 if replicas > 1 else 0.0)

    for seen, members in samples:
        for user in members:
            explained = any(start - 1.0 <= seen and (end is None or seen <= end + allowed_lateness(end, seen))
                            for start, end in windows[user])
            assert explained, (user, seen, windows[user])

    # Nothing was granted twice: one grant.applied per activation at most.
    applied = [event["correlationId"] for event in every(server, admin, "/v1/audit?action=grant.")
               if event["action"] == "grant.applied"]
    assert len(applied) == len(set(applied)), "an activation was granted twice"
    for running in servers:
        assert running.stop() == 0

    verified = regent("audit", "verify", "--db", database, cwd=tmp_path, env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
