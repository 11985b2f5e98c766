"""Regent at scale: 100,000 principals and 1,000,000 assignments, on PostgreSQL and on SQLite from
the same run. Measures the start-up of a replica over that store (time to listening and its RSS),
`/v1/check` latency, the first and a deep page of `/v1/assignments`, one evaluation of the alert
rules, and one review snapshot.

The rows are written straight into the schema Regent made (COPY on PostgreSQL, executemany on
SQLite): going through the API would take hours and measure nothing asked here. Each principal
has ten assignments: three eligibilities in force, one activation in force (of the first), six
ended activations of the second over the last 90 days.

Usage: python3 Benchmarks/scale.py REGENT_BINARY [principals] [roles]"""
import io
import json
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Tests" / "EndToEnd"))
from helpers import PostgreSQL  # noqa: E402
from replicas import Client, listening_port  # noqa: E402

ADMIN_PASSWORD = "bench password 123"
DB_PASSWORD = "bench db password 1"
PER_PRINCIPAL = 10
ASSIGNMENT_COLUMNS = ("id", "kind", "principal_id", "role_id", "scope", "start_at", "end_at", "state",
                      "end_reason", "ended_at", "request_id", "activated_from", "created_at")
PRINCIPAL_COLUMNS = ("id", "kind", "name", "display_name", "email", "enabled", "password_hash", "created_at")


class Replica:
    """One `regent serve` at debug log level, its output kept for the lines the benchmark reads."""

    def __init__(self, binary: str, work: Path, database: str):
        env = {"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD, "REGENT_DB_PASSWORD": DB_PASSWORD, "PATH": "/usr/bin:/bin"}
        started = time.monotonic()
        self.process = subprocess.Popen(
            [binary, "serve", "--listen", "127.0.0.1:0", "--db", database, "--log-level", "debug"],
            cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.port = listening_port(self.process)
        self.startup = time.monotonic() - started
        self.lines: list[str] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()

    def memory(self) -> tuple[int, int]:
        """Resident and peak resident set, in MiB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
        peak = int(re.search(r"VmHWM:\s+(\d+)", status).group(1))
        return rss // 1024, peak // 1024

    def next_line(self, pattern: str, after: int, timeout: float) -> re.Match:
        """The first line from index `after` on that matches, waiting for it to be written."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for line in self.lines[after:]:
                    found = re.search(pattern, line)
                    if found:
                        return found
                after = len(self.lines)
                if not self.changed.wait(timeout=max(0.0, deadline - time.monotonic())):
                    raise AssertionError(f"no line matching {pattern!r} within {timeout} s")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=120)


def timed(client: Client, path: str, token: str) -> tuple[float, dict]:
    """One GET and how long it took."""
    started = time.monotonic()
    status, body = client.call("GET", path, None, token)
    elapsed = time.monotonic() - started
    assert status == 200, body
    return elapsed, body


def prepare(binary: str, work: Path, database: str, roles: int) -> list[str]:
    """Migrates the store, bootstraps the administrator and makes the roles; their ids."""
    replica = Replica(binary, work, database)
    try:
        client = Client(replica.port)
        admin = sign_in(client)
        ids = []
        for n in range(roles):
            status, role = client.call("POST", "/v1/roles", {"name": f"role{n}"}, admin)
            assert status == 201, role
            ids.append(role["id"])
        return ids
    finally:
        replica.stop()


def sign_in(client: Client) -> str:
    status, login = client.call("POST", "/v1/auth/login", {"username": "admin", "password": ADMIN_PASSWORD})
    assert status == 200, login
    return login["token"]


def rows(principals: int, roles: list[str], seed: int = 7):
    """The principals and assignments to write, made once and written to both databases."""
    rng = random.Random(seed)
    now = int(time.time() * 1000)
    day = 86_400_000
    people, assignments = [], []
    for n in range(principals):
        principal = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        people.append((principal, "user", f"s{n:06d}", f"Scale User {n}", None, 1, None, now - 200 * day))
        eligible = []
        for k in range(3):
            created = now - 100 * day + n
            identifier = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            eligible.append(identifier)
            assignments.append((identifier, "eligible", principal, roles[(n + k) % len(roles)], f"/scale/g{n % 100}",
                                created, None, "active", None, None, None, None, created))
        start = now - 600_000
        assignments.append((str(uuid.UUID(int=rng.getrandbits(128), version=4)), "active", principal,
                            roles[n % len(roles)], f"/scale/g{n % 100}", start, start + 7 * day, "active", None, None,
                            None, eligible[0], start))
        for k in range(PER_PRINCIPAL - 4):
            start = now - rng.randrange(1, 90) * day - rng.randrange(day)
            assignments.append((str(uuid.UUID(int=rng.getrandbits(128), version=4)), "active", principal,
                                roles[(n + 1) % len(roles)], f"/scale/g{n % 100}", start, start + 3_600_000, "ended",
                                "expired", start + 3_600_000, None, eligible[1], start))
    return people, assignments


def copy_text(table_rows) -> str:
    out = io.StringIO()
    for row in table_rows:
        out.write("\t".join("\\N" if value is None else str(value) for value in row) + "\n")
    return out.getvalue()


def seed_postgres(pg: PostgreSQL, database: str, people, assignments) -> None:
    for table, columns, data in (("principals", PRINCIPAL_COLUMNS, people),
                                 ("assignments", ASSIGNMENT_COLUMNS, assignments)):
        result = subprocess.run(
            ["psql", "-h", str(pg.dir), "-p", str(pg.port), "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1",
             "-c", f"COPY {table} ({', '.join(columns)}) FROM STDIN"],
            input=copy_text(data), capture_output=True, text=True, timeout=1800)
        assert result.returncode == 0, result.stderr
    pg_sql(pg, database, "VACUUM ANALYZE")


def pg_sql(pg: PostgreSQL, database: str, sql: str) -> None:
    result = subprocess.run(["psql", "-h", str(pg.dir), "-p", str(pg.port), "-U", "postgres", "-d", database,
                             "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr


def seed_sqlite(path: Path, people, assignments) -> None:
    db = sqlite3.connect(path)
    with db:
        db.executemany(f"INSERT INTO principals ({', '.join(PRINCIPAL_COLUMNS)}) VALUES ({', '.join('?' * 8)})",
                       people)
        db.executemany(f"INSERT INTO assignments ({', '.join(ASSIGNMENT_COLUMNS)}) VALUES ({', '.join('?' * 13)})",
                       assignments)
    db.execute("ANALYZE")
    db.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def ms(values: list[float]) -> str:
    return f"p50 {statistics.median(values) * 1000:.1f} ms, p99 {percentile(values, 99) * 1000:.1f} ms"


def measure(name: str, binary: str, work: Path, database: str, principals: int, roles: list[str]) -> dict:
    results = {}
    replica = Replica(binary, work, database)
    try:
        client = Client(replica.port)
        admin = sign_in(client)
        results["startup"] = replica.startup
        results["rss"], results["peak"] = replica.memory()
        print(f"[{name}] start-up to listening {replica.startup:.1f} s; RSS then {results['rss']} MiB", flush=True)
        # The governance monitor's first evaluation runs at start; what follows is measured after it.
        first_evaluation = float(replica.next_line(r"seconds=([0-9.]+).*alert rules evaluated", 0, 900).group(1))
        print(f"[{name}] first alert evaluation (at start): {first_evaluation:.2f} s", flush=True)

        rng = random.Random(11)
        checks = []
        for _ in range(2000):
            n = rng.randrange(principals)
            held = rng.random() < 0.5
            role = roles[n % len(roles)] if held else roles[(n + 5) % len(roles)]
            path = f"/v1/check?principal=s{n:06d}&role={role}&scope=/scale/g{n % 100}/db"
            elapsed, body = timed(client, path, admin)
            assert body["active"] == (held or (n + 5) % len(roles) == n % len(roles)), (path, body)
            checks.append(elapsed)
        results["check"] = checks
        print(f"[{name}] /v1/check: {ms(checks)} (2000 checks, half held)", flush=True)

        first = [timed(client, "/v1/assignments?limit=100", admin)[0] for _ in range(200)]
        cursor = None
        for _ in range(100):
            suffix = f"&cursor={urllib.parse.quote(cursor)}" if cursor else ""
            cursor = timed(client, f"/v1/assignments?limit=100{suffix}", admin)[1]["cursor"]
        deep_path = f"/v1/assignments?limit=100&cursor={urllib.parse.quote(cursor)}"
        deep = [timed(client, deep_path, admin)[0] for _ in range(200)]
        results["first"], results["deep"] = first, deep
        print(f"[{name}] /v1/assignments first page: {ms(first)}; page 101 (items 10,001–10,100): {ms(deep)}",
              flush=True)

        # A change wakes the governance monitor, which evaluates the rules once and says how long.
        after = len(replica.lines)
        status, body = client.call("POST", "/v1/principals", {"kind": "group", "name": "scale-trigger"}, admin)
        assert status == 201, body
        results["alerts"] = float(replica.next_line(r"seconds=([0-9.]+).*alert rules evaluated", after, 600).group(1))
        print(f"[{name}] one alert evaluation: {results['alerts']:.2f} s", flush=True)

        started = time.monotonic()
        status, review = client.call("POST", "/v1/reviews", {
            "name": "scale review", "roles": [roles[0]], "scope": "/scale", "kinds": ["eligible", "active"],
            "reviewers": {"type": "principals", "principals": ["admin"]}, "recurrence": "once",
            "duration": "P14D"}, admin)
        results["review"] = time.monotonic() - started
        assert status == 201, review
        status, instances = client.call("GET", f"/v1/reviews/{review['id']}/instances", None, admin)
        items = sum(len(instance.get("items", [])) for instance in instances.get("items", [])) if status == 200 else -1
        print(f"[{name}] one review snapshot (create + open, one role of {len(roles)}): {results['review']:.2f} s, "
              f"{items} items", flush=True)
        results["rss"], results["peak"] = replica.memory()
        print(f"[{name}] RSS at the end {results['rss']} MiB, peak {results['peak']} MiB", flush=True)
    finally:
        replica.stop()
    return results


def main() -> None:
    binary = sys.argv[1]
    principals = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    role_count = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    pg = PostgreSQL().start()
    try:
        pg.admin(f"CREATE ROLE scale LOGIN PASSWORD '{DB_PASSWORD}'")
        pg.admin("CREATE DATABASE scale OWNER scale")
        postgres = f"postgres://scale@127.0.0.1:{pg.port}/scale?sslmode=disable"
        pg_work = Path(tempfile.mkdtemp(prefix="regent-scale-pg-"))
        sqlite_work = Path(tempfile.mkdtemp(prefix="regent-scale-sqlite-"))
        pg_roles = prepare(binary, pg_work, postgres, role_count)
        sqlite_roles = prepare(binary, sqlite_work, "sqlite:regent.db", role_count)
        started = time.monotonic()
        people, assignments = rows(principals, pg_roles)
        seed_postgres(pg, "scale", people, assignments)
        mapping = dict(zip(pg_roles, sqlite_roles))
        seed_sqlite(sqlite_work / "regent.db", people,
                    [row[:3] + (mapping[row[3]],) + row[4:] for row in assignments])
        print(f"seeded {len(people):,} principals and {len(assignments):,} assignments in each database "
              f"({time.monotonic() - started:.0f} s)", flush=True)
        del people, assignments
        names = [f"role{n}" for n in range(role_count)]
        measure("PostgreSQL", binary, pg_work, postgres, principals, names)
        measure("SQLite", binary, sqlite_work, "sqlite:regent.db", principals, names)
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
