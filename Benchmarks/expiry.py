"""Expiry precision and grant latency on a real PostgreSQL, against a running `regent` binary.

N activations of a few seconds each (staggered over a few seconds) on a postgres target; one
thread polls PostgreSQL's role membership every few milliseconds and notes when each login gains
and loses the role. Reported: grant latency (request accepted → the role is usable) and revocation
lateness (revocation visible on the target − the assignment's scheduled end), p50 / p99 / max.
Usage: python3 Benchmarks/expiry.py REGENT_BINARY [activations]"""
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Tests" / "EndToEnd"))
from helpers import PostgreSQL, call, free_port, sign_in, wait_until  # noqa: E402

ADMIN_PASSWORD = "bench password 123"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def report(name: str, values: list[float]) -> None:
    print(f"{name:<22} n={len(values):<4} p50 {percentile(values, 50) * 1000:7.1f} ms   "
          f"p99 {percentile(values, 99) * 1000:7.1f} ms   max {max(values) * 1000:7.1f} ms")


def main() -> None:
    binary, count = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 200
    pg = PostgreSQL().start()
    work = Path(tempfile.mkdtemp(prefix="regent-bench-"))
    port = free_port()
    server = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}", "--minimum-duration", "PT1S"],
                              cwd=work, env={"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD, "PATH": "/usr/bin:/bin"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    class Server:
        url = f"http://127.0.0.1:{port}"

    try:
        def healthy() -> bool:
            assert server.poll() is None, "regent serve exited"
            try:
                return call(Server.url + "/healthz", "GET")[0] == 200
            except OSError:
                return False

        wait_until(healthy, timeout=60, interval=0.1)
        admin = sign_in(Server, "admin", ADMIN_PASSWORD)
        pg.admin("CREATE ROLE app_dba NOLOGIN")
        _, target = call(Server.url + "/v1/targets", "POST", {
            "kind": "postgres", "name": "db", "scope": "/",
            "config": {"dsn": f"postgres://postgres@127.0.0.1:{pg.port}/postgres"},
            "secrets": {"password": pg.password}}, admin)
        call(Server.url + "/v1/roles", "POST",
             {"name": "dba", "entitlements": [{"targetId": target["id"], "value": "app_dba"}]}, admin)
        call(Server.url + "/v1/roles/dba/policy", "PUT", {"activation": {"requireMfa": False}}, admin)
        users = [f"b{n}" for n in range(count)]
        tokens = {}
        pg.admin("; ".join(f"CREATE ROLE {user} LOGIN" for user in users))
        for user in users:
            call(Server.url + "/v1/principals", "POST",
                 {"kind": "user", "name": user, "password": "bench user password"}, admin)
            call(Server.url + "/v1/requests", "POST", {"action": "adminAssign", "principalId": user, "roleId": "dba",
                                                       "scope": "/", "kind": "eligible"}, admin)
            tokens[user] = sign_in(Server, user, "bench user password")

        gained: dict[str, float] = {}
        lost: dict[str, float] = {}
        done = threading.Event()

        def poll() -> None:
            before: set[str] = set()
            while not done.is_set():
                now_members = pg.members("app_dba")
                now = time.time()
                for user in now_members - before:
                    gained.setdefault(user, now)
                for user in before - now_members:
                    lost.setdefault(user, now)
                before = now_members

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        accepted: dict[str, float] = {}
        ends: dict[str, float] = {}
        for index, user in enumerate(users):
            status, request = call(Server.url + "/v1/requests", "POST", {
                "action": "selfActivate", "roleId": "dba", "scope": "/", "duration": f"PT{3 + index % 4}S",
                "justification": "bench"}, tokens[user])
            accepted[user] = time.time()
            assert status == 201, request
            _, assignments = call(Server.url + f"/v1/assignments?principal={user}&kind=active", "GET", None, admin)
            end = assignments["items"][0]["end"]
            ends[user] = datetime.fromisoformat(end.replace("Z", "+00:00")).timestamp()
            time.sleep(0.02)
        wait_until(lambda: len(lost) == count, timeout=60, interval=0.1)
        done.set()
        poller.join()
        print(f"{count} activations of 3–6 s on PostgreSQL {pg.bin.parent.name}, membership polled continuously")
        report("grant latency", [gained[u] - accepted[u] for u in users])
        report("revocation lateness", [lost[u] - ends[u] for u in users])
    finally:
        server.terminate()
        server.wait()
        pg.stop()


if __name__ == "__main__":
    main()
