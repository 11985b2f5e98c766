"""Policy as code with the real binary: `regent validate` offline, `regent plan` against the live
configuration (exit 0 = no changes, 2 = changes, 1 = error) and `regent export`, whose output
plans as no changes."""
import json
from pathlib import Path

from helpers import CLI, call

ADMIN_PASSWORD = "admin password 123"

ROLES = [f"app-{n}" for n in range(10)]


def live_configuration(server, admin: str) -> None:
    """3 targets, 10 roles, policies at several scopes, a group, 50 eligibilities, made through the API."""
    targets = []
    for n in range(3):
        status, body = call(server.url + "/v1/targets", "POST", {
            "kind": "webhook", "name": f"hook-{n}", "scope": "/",
            "config": {"url": f"http://127.0.0.1:9/{n}"}, "secrets": {"signingKey": "not used here"}}, admin)
        assert status == 201, body
        targets.append(body["id"])
    for index, role in enumerate(ROLES):
        status, body = call(server.url + "/v1/roles", "POST", {
            "name": role, "description": f"Application {index}",
            "entitlements": [{"targetId": targets[index % 3], "value": f"admin-{index}"}]}, admin)
        assert status == 201, body
    assert call(server.url + "/v1/principals", "POST", {"kind": "group", "name": "approvers"}, admin)[0] == 201
    for role in ROLES[:3]:
        for scope, hours in (("/", 2), ("/prod", 1)):
            status, body = call(server.url + f"/v1/roles/{role}/policy?scope={scope}", "PUT", {
                "activation": {"maximumDuration": f"PT{hours}H", "requireMfa": False,
                               "approval": {"stages": [{"approvers": ["approvers"]}]}}}, admin)
            assert status == 200, body
    for n in range(50):
        name = f"user-{n:02d}"
        assert call(server.url + "/v1/principals", "POST", {"kind": "user", "name": name}, admin)[0] == 201
        status, body = call(server.url + "/v1/requests", "POST", {
            "action": "adminAssign", "principalId": name, "roleId": ROLES[n % 10], "scope": "/", "kind": "eligible"},
            admin)
        assert status == 201, body


def test_validate_plan_and_export_round_trip(server_factory, tmp_path):
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD}).start()
    cli = CLI(server, tmp_path / "admin")
    cli.login("admin", ADMIN_PASSWORD)
    live_configuration(server, cli.token)

    # The live state exported, then planned: no changes, exit 0.
    exported = tmp_path / "exported.yaml"
    result = cli("export", "-o", str(exported))
    assert result.returncode == 0, result.stderr
    text = exported.read_text()
    assert text.count("kind: Role") == 10 and text.count("kind: Eligibility") == 50, text
    assert text.count("kind: Policy") == 6 and "kind: Group" in text
    assert cli("validate", "-f", str(exported)).returncode == 0
    result = cli("plan", "-f", str(exported))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes" in result.stdout

    # Split into a directory of files, edited: exactly the diff, exit 2.
    repo = tmp_path / "access"
    repo.mkdir()
    documents = text.split("---\n")[1:]
    (repo / "a.yaml").write_text("---\n".join(d for d in documents if "kind: Eligibility" not in d))
    eligibilities = [d for d in documents if "kind: Eligibility" in d]
    (repo / "b.yml").write_text("---\n".join(eligibilities[1:]) + "---\n" + """apiVersion: regent/v1
kind: Eligibility
principal: user-01
role: app-0
scope: /prod
""")
    policy_file = repo / "a.yaml"
    policy_file.write_text(policy_file.read_text().replace("maximumDuration: PT1H", "maximumDuration: PT45M", 1))
    result = cli("plan", "-f", str(repo), "--json")
    assert result.returncode == 2, result.stdout + result.stderr
    plan = json.loads(result.stdout)
    summary = sorted((c["action"], c["kind"], c["name"]) for c in plan["changes"])
    assert summary == [("create", "Eligibility", "user-01 app-0 /prod"),
                       ("update", "Policy", "app-0 /prod")], summary
    update = next(c for c in plan["changes"] if c["action"] == "update")
    assert update["fields"] == [{"path": "activation.maximumDuration", "before": "PT1H", "after": "PT45M"}]
    assert len(plan["stateHash"]) == 64
    # A removed document is not deleted without prune (the object was not created by a manifest).
    human = cli("plan", "-f", str(repo))
    assert human.returncode == 2
    assert "~ update Policy app-0 /prod" in human.stdout and '"PT1H" → "PT45M"' in human.stdout
    assert "Plan: 1 to create, 1 to update, 0 to delete." in human.stdout

    # References the live state does not have: exit 1, each named by file:document:field.
    (repo / "c.yaml").write_text("""apiVersion: regent/v1
kind: Eligibility
principal: nobody
role: app-1
scope: /
---
apiVersion: regent/v1
kind: Role
name: orphan
entitlements: [{targetId: no-such-target, value: x}]
""")
    result = cli("plan", "-f", str(repo))
    assert result.returncode == 1
    assert "c.yaml:1:principal: no principal named nobody" in result.stderr, result.stderr
    assert "c.yaml:2:entitlements[0].targetId: no target named no-such-target" in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr


def test_validate_refuses_bad_manifests_offline(tmp_path):
    from conftest import regent
    bad = tmp_path / "bad.yaml"
    bad.write_text("""apiVersion: regent/v1
kind: Role
name: dba
colour: red
---
apiVersion: regent/v1
kind: Policy
role: dba
scope: /
activation: {maximumDuration: PT90H}
---
apiVersion: regent/v1
kind: Target
name: db
---
apiVersion: regent/v1
kind: Eligibility
principal: alice
role: missing
scope: /
""")
    result = regent("validate", "-f", str(bad), cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"regent: {bad}:1:colour: unknown field"), lines
    assert lines[1].startswith(f"regent: {bad}:2:activation.maximumDuration:"), lines
    assert lines[2].startswith(f"regent: {bad}:3:kind: unknown kind 'Target'"), lines
    assert len(lines) == 3, lines
    # Fixed, it is only the reference left, which validate also names.
    bad.write_text(bad.read_text().replace("colour: red\n", "").replace("PT90H", "PT9H")
                   .replace("kind: Target\nname: db\n", "kind: Group\nname: db\n"))
    result = regent("validate", "-f", str(bad), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == f"regent: {bad}:4:role: no role named missing", result.stderr

    bomb = tmp_path / "bomb.yaml"
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{n}: &a{n} [" + ",".join([f"*a{n - 1}"] * 10) + "]" for n in range(1, 9)]
    bomb.write_text("\n".join(lines) + "\n")
    result = regent("validate", "-f", str(bomb), cwd=tmp_path)
    assert result.returncode == 1 and "expands to more than" in result.stderr, result.stderr

    large = tmp_path / "large.yaml"
    large.write_text("# padding\n" * ((10 << 20) // 10))
    result = regent("validate", "-f", str(large), cwd=tmp_path)
    assert result.returncode == 1 and "larger than 4 MiB" in result.stderr, result.stderr
