"""`regent serve` from an empty directory, graceful shutdown, restart, and offline audit verification."""
import json
import signal
import sqlite3
import stat
import urllib.request

from conftest import regent
from helpers import call, sign_in


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.status == 200
        return json.loads(response.read())


def test_serve_in_empty_directory_bootstraps_and_stops_gracefully(server_factory, tmp_path):
    server = server_factory().start()
    assert get_json(server.url + "/healthz") == {"status": "ok"}
    ready = get_json(server.url + "/readyz")
    assert ready["status"] == "ok" and int(ready["checks"]["auditSeq"]) > 0
    for check in ("database", "migrations", "scheduler", "changeFeed"):
        assert ready["checks"][check].startswith("ok"), ready
    with urllib.request.urlopen(server.url + "/openapi.yaml", timeout=5) as response:
        assert response.read().startswith(b'openapi: "3.1.0"')
    assert server.stop(signal.SIGTERM) == 0
    assert "one-time password" in server.output
    assert "Regent stopped." in server.output
    assert (tmp_path / "regent.db").exists()
    for key in ("audit-signing.key", "secrets.key"):
        assert stat.S_IMODE((tmp_path / key).stat().st_mode) == 0o600, key

    # A restart keeps the data and never bootstraps (or prints a password) twice.
    again = server_factory().start()
    assert again.stop(signal.SIGINT) == 0
    assert "one-time password" not in again.output

    verified = regent("audit", "verify", "--db", "regent.db", "--data-dir", ".", "--json", cwd=tmp_path)
    assert verified.returncode == 0, verified.stderr
    report = json.loads(verified.stdout)
    # How many events the background passes wrote before the stop varies (a grant job may finish
    # before or after SIGTERM); the report must cover every row, bootstrap first.
    with sqlite3.connect(tmp_path / "regent.db") as db:
        actions = [action for (action,) in db.execute("SELECT action FROM audit_events ORDER BY seq")]
    assert actions[0] == "regent.bootstrapped", actions
    assert report["intact"] is True and report["events"] == len(actions) and report["checkpoints"] >= 1


def test_online_backup_verifies(server_factory, tmp_path):
    """`regent backup` copies the database while the server runs; the copy's chain verifies, and
    a second backup never overwrites the first."""
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": "correct horse battery staple"}).start()
    backed = regent("backup", "--db", "regent.db", "--to", "backup.db", cwd=tmp_path)
    assert backed.returncode == 0, backed.stderr
    assert get_json(server.url + "/readyz")["status"] == "ok"
    again = regent("backup", "--db", "regent.db", "--to", "backup.db", cwd=tmp_path)
    assert again.returncode != 0 and len(again.stderr.strip().splitlines()) == 1, again.stderr
    assert server.stop() == 0
    verified = regent("audit", "verify", "--db", "backup.db", "--data-dir", ".", "--json", cwd=tmp_path)
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["intact"] is True


def test_bootstrap_password_from_environment(server_factory, tmp_path):
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": "correct horse battery staple"}).start()
    assert server.stop() == 0
    assert "REGENT_BOOTSTRAP_PASSWORD" in server.output
    assert "one-time password" not in server.output
    with sqlite3.connect(tmp_path / "regent.db") as db:
        (hashed,) = db.execute("SELECT password_hash FROM principals WHERE name = 'admin'").fetchone()
    assert hashed.startswith("$2") and "correct horse" not in hashed


def test_corrupted_audit_row_is_named(server_factory, tmp_path):
    server = server_factory().start()
    assert server.stop() == 0
    with sqlite3.connect(tmp_path / "regent.db") as db:
        db.execute("UPDATE audit_events SET reason = 'quietly rewritten' WHERE seq = 2")
    result = regent("audit", "verify", "--db", str(tmp_path / "regent.db"), cwd=tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "record 2" in lines[0], result.stderr


def test_deleted_audit_row_is_named(server_factory, tmp_path):
    server = server_factory().start()
    for _ in range(3):  # audited refusals, so the chain has rows after the one deleted
        assert call(server.url + "/v1/auth/login", "POST", {"username": "nobody", "password": "wrong"})[0] == 401
    assert server.stop() == 0
    with sqlite3.connect(tmp_path / "regent.db") as db:
        db.execute("DELETE FROM audit_events WHERE seq = 3")
    result = regent("audit", "verify", "--db", "regent.db", cwd=tmp_path)
    assert result.returncode != 0 and "record 3" in result.stderr


def test_bad_configuration_is_one_line_and_nonzero(tmp_path):
    for args in (["serve", "--db", "postgres://x@127.0.0.1/db"], ["serve", "--listen", "nonsense"],
                 ["serve", "--minimum-duration", "5 minutes"], ["audit", "verify", "--db", "missing.db"]):
        result = regent(*args, cwd=tmp_path)
        assert result.returncode != 0, args
        assert len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)
        assert result.stderr.startswith("regent: "), (args, result.stderr)


def test_settings_file(server_factory, tmp_path):
    """regent.yaml: every serve setting by its flag's name, after flags and environment;
    --print-config names each value's source with secrets masked; an unknown key or a bad value
    stops the server with one line naming it."""
    (tmp_path / "regent.yaml").write_text(
        "minimum-duration: PT10M\n"
        "reconcile-interval: PT2S\n"
        "notify-slack: https://hooks.slack.com/services/T0/B0/s3cr3t-path\n"
        "trusted-proxies: [10.0.0.0/8, 192.168.0.0/16]\n")
    shown = regent("serve", "--print-config", "--reconcile-interval", "PT5S", cwd=tmp_path,
                   env={"REGENT_SELF_DEACTIVATION_DELAY": "PT1M"})
    assert shown.returncode == 0, shown.stderr
    lines = {line.split()[0]: line for line in shown.stdout.splitlines() if not line.startswith("#")}
    assert "PT10M" in lines["minimum-duration"] and "[regent.yaml]" in lines["minimum-duration"]
    assert "PT5S" in lines["reconcile-interval"] and "[flag]" in lines["reconcile-interval"]
    assert "PT1M" in lines["self-deactivation-delay"] and "[environment]" in lines["self-deactivation-delay"]
    assert "10.0.0.0/8,192.168.0.0/16" in lines["trusted-proxies"]
    assert "[default]" in lines["listen"] and "s3cr3t" not in shown.stdout and "hooks.slack.com" in shown.stdout
    # The file's settings are the ones the server runs with: a 5-minute activation is now too short.
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": "admin password 123"})
    server.start()
    token = sign_in(server, "admin", "admin password 123")
    status, body = call(server.url + "/v1/roles", "POST", {"name": "ops"}, token)
    assert status == 201
    status, refused = call(server.url + "/v1/requests", "POST", {
        "action": "adminAssign", "principalId": "admin", "roleId": "ops", "scope": "/", "kind": "active",
        "duration": "PT6M", "justification": "x"}, token)
    assert status == 422 and "minimumDuration" in json.dumps(refused), refused
    for text, needle in (("lisen: 127.0.0.1:1\n", "lisen is not a setting"),
                         ("listen: nonsense\n", "--listen"),
                         ("config: other.yaml\n", "config is not a setting"),
                         ("listen: {a: b}\n", "listen is a value"),
                         ("- listen\n", "not a mapping")):
        (tmp_path / "bad.yaml").write_text(text)
        result = regent("serve", "--config", "bad.yaml", cwd=tmp_path)
        assert result.returncode != 0 and needle in result.stderr, (text, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
