"""Policy as code at scale: `regent plan` and `regent apply` of a manifest of 1,000 roles and
10,000 eligibilities (1,000 users, each eligible for 10 roles), then the re-plan that finds no
changes, against one `regent serve` on SQLite. Prints seconds for each step.

Usage: python3 Benchmarks/manifest.py REGENT_BINARY [roles] [users] [roles per user]"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Tests" / "EndToEnd"))
from helpers import call  # noqa: E402
from replicas import listening_port  # noqa: E402

ADMIN_PASSWORD = "bench password 123"


def main() -> None:
    binary = sys.argv[1]
    roles, users, per_user = (int(a) for a in (sys.argv[2:5] + ["1000", "1000", "10"][len(sys.argv[2:5]):]))
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        env = {**os.environ, "REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD}
        server = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--db", str(work / "regent.db")],
                                  cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            url = f"http://127.0.0.1:{listening_port(server)}"
            # Its log, read as it comes, so a full pipe never stalls the server.
            threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()
            cli_env = {**env, "XDG_CONFIG_HOME": str(work / "cli"), "REGENT_SERVER": url}

            def cli(*args: str) -> subprocess.CompletedProcess:
                return subprocess.run([binary, *args], env=cli_env, capture_output=True, text=True, timeout=3600,
                                      input=ADMIN_PASSWORD + "\n")

            assert cli("login", "--username", "admin").returncode == 0
            token = json.loads((work / "cli" / "regent" / "credentials.json").read_text())["token"]
            for n in range(users):
                status, body = call(url + "/v1/principals", "POST", {"kind": "user", "name": f"user-{n:05d}"}, token)
                assert status == 201, body
            documents = [f"apiVersion: regent/v1\nkind: Role\nname: role-{r:04d}\ndescription: Role {r}\n"
                         for r in range(roles)]
            documents += [f"apiVersion: regent/v1\nkind: Policy\nrole: role-{r:04d}\nscope: /\n"
                          f"activation: {{maximumDuration: PT2H, requireMfa: false}}\n" for r in range(0, roles, 10)]
            documents += [f"apiVersion: regent/v1\nkind: Eligibility\nprincipal: user-{u:05d}\n"
                          f"role: role-{(u * per_user + k) % roles:04d}\nscope: /\n"
                          for u in range(users) for k in range(per_user)]
            manifest = work / "manifest.yaml"
            manifest.write_text("---\n".join(documents))
            print(f"manifest: {roles} roles, {roles // 10} policies, {users * per_user} eligibilities, "
                  f"{manifest.stat().st_size / 1e6:.1f} MB")
            for step, args, expected in (("plan (all creates)", ("plan", "-f", str(manifest)), 2),
                                         ("apply", ("apply", "-f", str(manifest)), 0),
                                         ("re-plan (no changes)", ("plan", "-f", str(manifest)), 0)):
                started = time.monotonic()
                result = cli(*args)
                elapsed = time.monotonic() - started
                assert result.returncode == expected, (step, result.returncode, result.stderr[-2000:])
                print(f"{step}: {elapsed:.2f} s")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
