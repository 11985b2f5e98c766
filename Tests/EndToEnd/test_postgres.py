"""The postgres connector against a real PostgreSQL on loopback: psql can SET ROLE during an
activation and cannot after its end; a session that took the role is terminated at revocation;
a grant made by hand outside Regent is revoked by the reconciler and audited."""
import subprocess
import time

from helpers import audit_actions, call, eligible_user, role_on_target, sign_in, wait_until

ADMIN_PASSWORD = "admin password 123"
ALICE_PG = "alice pg password"


def prepare(server, pg) -> tuple[str, str]:
    pg.admin("CREATE ROLE app_dba NOLOGIN")
    pg.admin("CREATE TABLE payroll (amount int)")
    pg.admin("INSERT INTO payroll VALUES (42)")
    pg.admin("GRANT SELECT ON payroll TO app_dba")
    pg.admin(f"CREATE ROLE alice LOGIN PASSWORD '{ALICE_PG}'")
    pg.admin("CREATE ROLE bob LOGIN PASSWORD 'bob pg password'")
    admin = sign_in(server, "admin", ADMIN_PASSWORD)
    role_on_target(server, admin, "dba", {
        "kind": "postgres", "name": "payroll-db", "scope": "/",
        "config": {"dsn": f"postgres://postgres@127.0.0.1:{pg.port}/postgres"},
        "secrets": {"password": pg.password}}, "app_dba")
    return admin, eligible_user(server, admin, "alice", "dba")


def can_read_payroll(pg) -> bool:
    result = pg.as_login("alice", ALICE_PG, "SET ROLE app_dba; SELECT amount FROM payroll")
    return result.returncode == 0 and result.stdout.split()[-1:] == ["42"]


def test_set_role_during_activation_only(server_factory, postgres):
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD}).start(
        "--minimum-duration", "PT2S", "--reconcile-interval", "PT1H")
    admin, alice = prepare(server, postgres)
    assert not can_read_payroll(postgres)

    status, request = call(server.url + "/v1/requests", "POST", {
        "action": "selfActivate", "roleId": "dba", "scope": "/", "duration": "PT5S", "justification": "INC-7"}, alice)
    activated = time.monotonic()
    assert status == 201, request
    _, granted_after = wait_until(lambda: can_read_payroll(postgres), timeout=5)
    assert granted_after < 1.5

    # A session that took the role keeps it until it is terminated at revocation.
    session = subprocess.Popen(
        ["psql", f"host=127.0.0.1 port={postgres.port} user=alice dbname=postgres", "-At", "-v", "ON_ERROR_STOP=1"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={"PGPASSWORD": ALICE_PG, "PATH": "/usr/bin:/bin"})
    session.stdin.write("SET ROLE app_dba;\nSELECT amount FROM payroll;\n")
    session.stdin.flush()
    assert session.stdout.readline().strip() in {"SET", "42"}

    wait_until(lambda: not can_read_payroll(postgres), timeout=8)
    ended_after = time.monotonic() - activated
    assert 4.5 <= ended_after <= 6.5, ended_after
    assert "alice" not in postgres.members("app_dba")
    out, err = session.communicate("SELECT amount FROM payroll;\n", timeout=10)
    assert session.returncode != 0 and "terminat" in (err + out).lower(), (out, err)

    assert {"grant.applied", "grant.revoked"} <= set(audit_actions(server, admin, "grant."))
    assert server.stop() == 0


def test_reconciler_revokes_grants_made_outside_regent(server_factory, postgres):
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD}).start("--reconcile-interval", "PT1S")
    admin, _ = prepare(server, postgres)
    # The reconciler may take the grant away before a second look, so the test waits for its
    # audit event rather than first asserting that the grant is there.
    postgres.admin("GRANT app_dba TO bob")
    wait_until(lambda: "grant.outside_regent" in audit_actions(server, admin, "grant."), timeout=10)
    assert "bob" not in postgres.members("app_dba")
    assert server.stop() == 0


def test_short_lived_login(server_factory, postgres):
    """With mode=ephemeralLogin the activation gets a login of its own, VALID UNTIL its end, whose
    password the requester sees exactly once; it works during the activation and is gone after."""
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD}).start("--minimum-duration", "PT2S")
    admin, alice = prepare(server, postgres)
    status, targets = call(server.url + "/v1/targets", "GET", None, admin)
    target = targets["items"][0]
    assert call(server.url + f"/v1/targets/{target['id']}", "PATCH",
                {"config": {**target["config"], "mode": "ephemeralLogin"}}, admin)[0] == 200
    status, request = call(server.url + "/v1/requests", "POST", {
        "action": "selfActivate", "roleId": "dba", "scope": "/", "duration": "PT5S", "justification": "INC-9"}, alice)
    assert status == 201, request
    credentials, _ = wait_until(lambda: (lambda answer: answer[1] if answer[0] == 200 else None)(
        call(server.url + f"/v1/requests/{request['id']}/credentials", "POST", None, alice)), timeout=5)
    [credential] = credentials["items"]
    assert credential["login"].startswith("alice_") and len(credential["password"]) >= 24
    assert "validUntil" in credential
    # Shown once: a second ask is refused, and nobody else may ask at all.
    assert call(server.url + f"/v1/requests/{request['id']}/credentials", "POST", None, alice)[0] == 409
    assert call(server.url + f"/v1/requests/{request['id']}/credentials", "POST", None, admin)[0] == 404
    valid_until = postgres.admin(f"SELECT rolvaliduntil IS NOT NULL FROM pg_roles WHERE rolname = '{credential['login']}'")
    assert valid_until == "t"
    login = postgres.as_login(credential["login"], credential["password"], "SET ROLE app_dba; SELECT amount FROM payroll")
    assert login.returncode == 0 and login.stdout.split()[-1] == "42", login.stderr
    # After the end the login is gone.
    wait_until(lambda: postgres.admin(f"SELECT count(*) FROM pg_roles WHERE rolname = '{credential['login']}'") == "0",
               timeout=8)
    assert postgres.as_login(credential["login"], credential["password"], "SELECT 1").returncode != 0
    assert "alice" not in postgres.members("app_dba") and not postgres.members("app_dba")
    assert server.stop() == 0
