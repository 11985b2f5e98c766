"""Auto-approved activations per second on SQLite, on PostgreSQL with one replica and with three
(the same binary, the same machine, in one run), and how soon a deactivation on one replica is
seen by /v1/check on another. Clients are threads with a keep-alive connection each, spread over
the replicas; every activation is a distinct (user, scope) so none conflicts with another.
Usage: python3 Benchmarks/replicas.py REGENT_BINARY [activations] [clients]"""
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Tests" / "EndToEnd"))
from helpers import PostgreSQL, wait_until  # noqa: E402

ADMIN_PASSWORD = "bench password 123"
DB_PASSWORD = "bench db password 1"
USERS = 16


def listening_port(process: subprocess.Popen) -> int:
    """The port `regent serve` says it listens on, read from its output."""
    for line in process.stdout:
        found = re.search(r"Regent is listening on http://[^:]+:(\d+)", line)
        if found:
            return int(found.group(1))
    raise AssertionError("regent serve exited before listening")


class Replica:
    def __init__(self, binary: str, work: Path, database: str):
        env = {"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD, "REGENT_DB_PASSWORD": DB_PASSWORD, "PATH": "/usr/bin:/bin"}
        self.process = subprocess.Popen(
            [binary, "serve", "--listen", "127.0.0.1:0", "--db", database, "--minimum-duration", "PT1S",
             "--self-deactivation-delay", "PT0S"],
            cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.port = listening_port(self.process)
        threading.Thread(target=lambda: [None for _ in self.process.stdout], daemon=True).start()

    def client(self) -> "Client":
        return Client(self.port)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


class Client:
    """One keep-alive HTTP connection."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.connection.request(method, path, json.dumps(body) if body is not None else None, headers)
        response = self.connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")


def prepare(replica: Replica, activations: int) -> tuple[str, list[tuple[str, str]]]:
    """Users, a role activated without approval or MFA, and one eligibility per (user, scope)."""
    client = replica.client()
    status, login = client.call("POST", "/v1/auth/login", {"username": "admin", "password": ADMIN_PASSWORD})
    assert status == 200, login
    admin = login["token"]
    assert client.call("POST", "/v1/roles", {"name": "ops"}, admin)[0] == 201
    assert client.call("PUT", "/v1/roles/ops/policy", {"activation": {
        "requireMfa": False, "requireJustification": False, "maximumDuration": "PT8H"}}, admin)[0] == 200
    tokens = []
    for n in range(USERS):
        assert client.call("POST", "/v1/principals", {"kind": "user", "name": f"u{n}",
                                                      "password": f"user {n} password 123"}, admin)[0] == 201
        status, login = client.call("POST", "/v1/auth/login", {"username": f"u{n}", "password": f"user {n} password 123"})
        assert status == 200, login
        tokens.append(login["token"])
    work = []
    for index in range(activations):
        user, scope = index % USERS, f"/bench/s{index // USERS}"
        status, body = client.call("POST", "/v1/requests", {"action": "adminAssign", "principalId": f"u{user}",
                                                            "roleId": "ops", "scope": scope, "kind": "eligible"}, admin)
        assert status == 201, body
        work.append((tokens[user], scope))
    return admin, work


def activate_all(replicas: list[Replica], work: list[tuple[str, str]], clients: int) -> float:
    """Activations per second with `clients` threads, each on one replica in turn."""
    shares = [work[n::clients] for n in range(clients)]
    failures: list[str] = []

    def run(n: int) -> None:
        client = replicas[n % len(replicas)].client()
        for token, scope in shares[n]:
            status, body = client.call("POST", "/v1/requests", {
                "action": "selfActivate", "roleId": "ops", "scope": scope, "duration": "PT1H",
                "justification": "bench"}, token)
            if status != 201:
                failures.append(f"{status} {body}")

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    assert not failures, failures[:3]
    return len(work) / elapsed


def visibility(a: Replica, b: Replica, admin: str, rounds: int) -> list[float]:
    """Deactivation acknowledged on A → /v1/check false on B, in seconds."""
    here, there = a.client(), b.client()
    status, login = here.call("POST", "/v1/auth/login", {"username": "u0", "password": "user 0 password 123"})
    token = login["token"]
    assert here.call("POST", "/v1/requests", {"action": "adminAssign", "principalId": "u0", "roleId": "ops",
                                              "scope": "/seen", "kind": "eligible"}, admin)[0] == 201
    latencies = []
    for _ in range(rounds):
        status, activation = here.call("POST", "/v1/requests", {
            "action": "selfActivate", "roleId": "ops", "scope": "/seen", "duration": "PT1H"}, token)
        assert status == 201, activation
        wait_until(lambda: there.call("GET", "/v1/check?principal=u0&role=ops&scope=/seen", None, admin)[1]["active"],
                   timeout=10, interval=0.001)
        status, ended = here.call("POST", "/v1/requests", {
            "action": "selfDeactivate", "principalId": "u0", "roleId": "ops", "scope": "/seen", "kind": "active",
            "assignmentId": activation["assignmentId"]}, token)
        acknowledged = time.monotonic()
        assert status == 201, ended
        wait_until(lambda: not there.call("GET", "/v1/check?principal=u0&role=ops&scope=/seen", None,
                                          admin)[1]["active"], timeout=10, interval=0.001)
        latencies.append(time.monotonic() - acknowledged)
    return sorted(latencies)


def percentile(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    binary = sys.argv[1]
    activations = int(sys.argv[2]) if len(sys.argv) > 2 else 800
    clients = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    results = {}
    pg = PostgreSQL().start()
    try:
        for name, count in (("SQLite", 1), ("PostgreSQL, 1 replica", 1), ("PostgreSQL, 3 replicas", 3)):
            work_dir = Path(tempfile.mkdtemp(prefix="regent-bench-"))
            if name == "SQLite":
                database = "sqlite:regent.db"
            else:
                database_name = f"bench{count}"
                pg.admin(f"CREATE ROLE {database_name} LOGIN PASSWORD '{DB_PASSWORD}'")
                pg.admin(f"CREATE DATABASE {database_name} OWNER {database_name}")
                database = f"postgres://{database_name}@127.0.0.1:{pg.port}/{database_name}?sslmode=disable"
            replicas = [Replica(binary, work_dir, database)]
            replicas += [Replica(binary, work_dir, database) for _ in range(count - 1)]
            try:
                admin, work = prepare(replicas[0], activations)
                results[name] = activate_all(replicas, work, clients)
                print(f"{name:<24} {results[name]:8.1f} auto-approved activations/s "
                      f"({activations} activations, {clients} clients)", flush=True)
                if count > 1:
                    latencies = visibility(replicas[0], replicas[1], admin, 100)
                    print(f"cross-replica deactivation → /v1/check false: p50 "
                          f"{statistics.median(latencies) * 1000:.1f} ms, p99 {percentile(latencies, 99) * 1000:.1f} ms, "
                          f"max {latencies[-1] * 1000:.1f} ms (100 rounds)", flush=True)
            finally:
                for replica in replicas:
                    replica.stop()
        base = results["SQLite"]
        print("relative to SQLite: " + ", ".join(f"{name} {value / base:.2f}×" for name, value in results.items()))
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
