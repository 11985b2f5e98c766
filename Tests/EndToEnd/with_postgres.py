"""Runs a command with a throwaway PostgreSQL on 127.0.0.1 (password authentication over TCP), for
the Swift store contract suite: the server's URL and password are passed in REGENT_TEST_POSTGRES_URL
and REGENT_TEST_POSTGRES_PASSWORD; the cluster is stopped and removed when the command ends.

    python3 Tests/EndToEnd/with_postgres.py swift test --skip-build
"""
import os
import subprocess
import sys

from helpers import PostgreSQL


def main() -> int:
    command = sys.argv[1:]
    if not command:
        print("usage: with_postgres.py COMMAND…", file=sys.stderr)
        return 2
    server = PostgreSQL().start()
    try:
        environment = {
            **os.environ,
            "REGENT_TEST_POSTGRES_URL": f"postgres://postgres@127.0.0.1:{server.port}/postgres?sslmode=disable",
            "REGENT_TEST_POSTGRES_PASSWORD": server.password,
        }
        return subprocess.run(command, env=environment).returncode
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
