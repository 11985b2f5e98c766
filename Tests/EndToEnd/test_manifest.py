"""Policy as code with the real binary: `regent validate` offline, `regent plan` against the live
configuration (exit 0 = no changes, 2 = changes, 1 = error) and `regent export`, whose output
plans as no changes."""
import json
from pathlib import Path

from helpers import CLI, call
from test_portal import browsers  # noqa: F401  (the Chromium fixture)

ADMIN_PASSWORD = "admin password 123"

ROLES = [f"app-{n}" for n in range(10)]

OPS = """apiVersion: regent/v1
kind: Role
name: ops
description: Operations
---
apiVersion: regent/v1
kind: Policy
role: ops
scope: /
activation: {maximumDuration: PT1H, requireMfa: false}
"""


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
---
apiVersion: regent/v1
kind: Target
name: orders
connector: postgres
scope: /
secrets: {password: hunter2}
""")
    result = regent("validate", "-f", str(bad), cwd=tmp_path)
    assert result.returncode == 1
    assert "hunter2" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"regent: {bad}:1:colour: unknown field"), lines
    assert lines[1].startswith(f"regent: {bad}:2:activation.maximumDuration:"), lines
    assert lines[2].startswith(f"regent: {bad}:3:connector: required"), lines
    assert lines[3] == f"regent: {bad}:5:secrets.password: a secret is given by reference (env:NAME or file:PATH), " \
        "never written in the manifest", lines
    assert len(lines) == 4, lines
    # Fixed, it is only the reference left, which validate also names.
    bad.write_text(bad.read_text().replace("colour: red\n", "").replace("PT90H", "PT9H")
                   .replace("kind: Target\nname: db\n", "kind: Group\nname: db\n")
                   .replace("{password: hunter2}", "{password: env:ORDERS_PASSWORD}"))
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


def manifest(targets: list[str], eligible: range, max_prod: str = "PT1H", policy_roles: int = 3) -> str:
    """10 roles on 3 targets, a group of approvers, policies at two scopes, eligibilities."""
    documents = [f"""apiVersion: regent/v1
kind: Target
name: {name}
connector: webhook
scope: /
config: {{url: "http://127.0.0.1:9/{n}"}}
secrets: {{signingKey: {"env:HOOK_KEY" if n == 0 else "file:hook.key"}}}
""" for n, name in enumerate(targets)]
    documents += ["""apiVersion: regent/v1
kind: User
name: carol.contractor
displayName: Carol (contractor)
email: carol@example.com
""", """apiVersion: regent/v1
kind: Eligibility
principal: carol.contractor
role: app-9
scope: /
""", """apiVersion: regent/v1
kind: Group
name: approvers
displayName: Access approvers
members: [user-48, user-49]
"""]
    for index, role in enumerate(ROLES):
        documents.append(f"""apiVersion: regent/v1
kind: Role
name: {role}
description: Application {index}
entitlements:
  - targetId: {targets[index % 3]}
    value: admin-{index}
""")
    for role in ROLES[:policy_roles]:
        for scope, maximum in (("/", "PT2H"), ("/prod", max_prod)):
            documents.append(f"""apiVersion: regent/v1
kind: Policy
role: {role}
scope: {scope}
activation:
  maximumDuration: {maximum}
  requireMfa: false
  approval:
    stages:
      - approvers: [approvers]
""")
    documents.append("""apiVersion: regent/v1
kind: AlertRule
name: frequentActivation
enabled: true
count: 3
window: PT12H
""")
    documents.append("""apiVersion: regent/v1
kind: AccessReview
name: quarterly application review
roles: [app-0, app-1]
reviewers: {type: principals, principals: [approvers]}
recurrence: quarterly
start: "2027-01-04T09:00:00Z"
duration: P14D
""")
    for n in eligible:
        documents.append(f"""apiVersion: regent/v1
kind: Eligibility
principal: user-{n:02d}
role: {ROLES[n % 10]}
scope: /
""")
    return "---\n".join(documents)


def eligible_principals(server, admin: str) -> set[str]:
    status, page = call(server.url + "/v1/assignments?kind=eligible&limit=500", "GET", token=admin)
    assert status == 200, page
    return {a["principalId"] for a in page["items"] if a["state"] != "ended"}


def test_plan_apply_edit_prune_and_concurrent_applies(server_factory, tmp_path):
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD}).start()
    cli = CLI(server, tmp_path / "admin")
    cli.login("admin", ADMIN_PASSWORD)
    admin = cli.token
    targets = [f"hook-{n}" for n in range(3)]
    # The targets' signing keys: one from the environment, the others from a file beside the manifest.
    cli.env["HOOK_KEY"] = "key from the environment"
    (tmp_path / "hook.key").write_text("key from a file\n")
    users = {}
    for n in range(50):
        status, body = call(server.url + "/v1/principals", "POST", {"kind": "user", "name": f"user-{n:02d}"}, admin)
        assert status == 201, body
        users[body["id"]] = body["name"]
    path = tmp_path / "access.yaml"
    path.write_text(manifest(targets, range(50)))

    result = cli("plan", "-f", str(path), "--json")
    assert result.returncode == 2, result.stdout + result.stderr
    plan = json.loads(result.stdout)
    kinds = [c["kind"] for c in plan["changes"]]
    assert all(c["action"] == ("update" if c["kind"] == "AlertRule" else "create") for c in plan["changes"])
    assert kinds == ["Target"] * 3 + ["Group", "User"] + ["Role"] * 10 + ["Policy"] * 6 + ["Eligibility"] * 51 + [
        "AccessReview", "AlertRule"], kinds
    result = cli("apply", "-f", str(path), "--state-hash", plan["stateHash"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Applied 74 changes." in result.stdout
    status, carol = call(server.url + "/v1/principals/carol.contractor", "GET", token=admin)
    assert status == 200 and carol["email"] == "carol@example.com" and carol["id"] in eligible_principals(server, admin)
    status, rules = call(server.url + "/v1/alerts/rules", "GET", token=admin)
    frequent = next(r for r in rules["items"] if r["rule"] == "frequentActivation")
    assert (frequent["count"], frequent["window"]) == (3, "PT12H"), frequent
    status, reviews = call(server.url + "/v1/reviews", "GET", token=admin)
    assert [r["name"] for r in reviews["items"]] == ["quarterly application review"], reviews
    assert reviews["items"][0]["reviewers"]["principals"] == ["approvers"], reviews
    status, page = call(server.url + "/v1/targets", "GET", token=admin)
    assert status == 200 and {t["name"]: t["secretNames"] for t in page["items"]} == {
        name: ["signingKey"] for name in targets}, page
    assert "key from" not in result.stdout + result.stderr
    result = cli("plan", "-f", str(path))
    assert result.returncode == 0 and "No changes" in result.stdout, result.stdout + result.stderr
    assert {users[p] for p in eligible_principals(server, admin) if p in users} == {f"user-{n:02d}" for n in range(50)}
    status, policy = call(server.url + "/v1/roles/app-0/policy?scope=/prod", "GET", token=admin)
    assert status == 200 and policy["own"]["activation"]["maximumDuration"] == "PT1H", policy
    # What the manifest applied is the manifest's: the API (and the portal, through the same use
    # cases) refuses to change it.
    status, problem = call(server.url + "/v1/roles/app-0/policy?scope=/prod", "PUT",
                           {"activation": {"maximumDuration": "PT8H"}}, admin)
    assert status == 409 and "managed by policy as code" in problem["detail"], (status, problem)
    status, problem = call(server.url + "/v1/groups/approvers/members", "POST", {"memberId": "user-00"}, admin)
    assert status == 409, (status, problem)
    status, problem = call(server.url + "/v1/roles/app-1", "PATCH", {"description": "by hand"}, admin)
    assert status == 409, (status, problem)
    hook = next(t for t in call(server.url + "/v1/targets", "GET", token=admin)[1]["items"] if t["name"] == "hook-0")
    status, problem = call(server.url + f"/v1/targets/{hook['id']}", "PATCH", {"scope": "/prod"}, admin)
    assert status == 409, (status, problem)

    # Edited: a shorter maximum at /prod, user-00 no longer eligible. Without prune the
    # eligibility stays; with it, it goes (it was created by an apply).
    path.write_text(manifest(targets, range(1, 50), max_prod="PT45M"))
    result = cli("plan", "-f", str(path), "--json")
    assert result.returncode == 2
    changes = json.loads(result.stdout)["changes"]
    assert [(c["action"], c["name"]) for c in changes] == [("update", f"{r} /prod") for r in ROLES[:3]], changes
    assert changes[0]["fields"] == [{"path": "activation.maximumDuration", "before": "PT1H", "after": "PT45M"}]
    result = cli("plan", "-f", str(path), "--prune", "--json")
    pruned = json.loads(result.stdout)
    assert [(c["action"], c["name"]) for c in pruned["changes"]][-1] == ("delete", "user-00 app-0 /")

    # Two pipelines planned against the same state: the first apply lands, the second is refused.
    other = tmp_path / "other.yaml"
    other.write_text(manifest(targets, range(50), max_prod="PT30M"))
    result = cli("apply", "-f", str(path), "--prune", "--state-hash", pruned["stateHash"])
    assert result.returncode == 0, result.stdout + result.stderr
    result = cli("apply", "-f", str(other), "--state-hash", pruned["stateHash"])
    assert result.returncode == 1
    assert "changed since the plan" in result.stderr, result.stderr
    status, policy = call(server.url + "/v1/roles/app-0/policy?scope=/prod", "GET", token=admin)
    assert policy["own"]["activation"]["maximumDuration"] == "PT45M", policy
    assert "user-00" not in {users.get(p) for p in eligible_principals(server, admin)}
    result = cli("plan", "-f", str(path), "--prune")
    assert result.returncode == 0, result.stdout

    # Unmanaged objects are never pruned: a role made through the API stays.
    assert call(server.url + "/v1/roles", "POST", {"name": "hand-made"}, admin)[0] == 201
    result = cli("plan", "-f", str(path), "--prune")
    assert result.returncode == 0, result.stdout

    # A policy dropped from the manifest is removed by a pruning apply: the scope inherits again.
    path.write_text(manifest(targets, range(1, 50), max_prod="PT45M", policy_roles=2))
    result = cli("plan", "-f", str(path), "--prune", "--json")
    assert [(c["action"], c["name"]) for c in json.loads(result.stdout)["changes"]] == [
        ("delete", "app-2 /prod"), ("delete", "app-2 /")], result.stdout
    result = cli("apply", "-f", str(path), "--prune")
    assert result.returncode == 0, result.stdout + result.stderr
    status, policy = call(server.url + "/v1/roles/app-2/policy?scope=/prod", "GET", token=admin)
    assert status == 200 and policy["origins"] == {} and policy["own"] in (None, {"activation": {}}), policy

    # What a manifest cannot do yet refuses the whole apply: nothing of it is applied.
    path.write_text(manifest(targets, range(2, 50), max_prod="PT45M").replace(
        "displayName: Access approvers", "displayName: Approvers"))
    result = cli("apply", "-f", str(path), "--prune")
    assert result.returncode == 1 and "display name" in result.stderr, result.stdout + result.stderr
    assert "user-01" in {users.get(p) for p in eligible_principals(server, admin)}

    # A manifest cannot make its applier eligible for regent-admin on their own say.
    path.write_text(manifest(targets, range(1, 50), max_prod="PT45M") + """---
apiVersion: regent/v1
kind: Eligibility
principal: admin
role: regent-admin
scope: /
""")
    result = cli("apply", "-f", str(path))
    assert result.returncode == 1 and "separationOfDuties" in result.stderr, result.stdout + result.stderr
    status, admins = call(server.url + "/v1/principals/admin", "GET", token=admin)
    assert admins["id"] not in eligible_principals(server, admin)

    # The audit trail: one manifest.applied per apply, with the manifest's SHA-256 and its changes,
    # beside the events of each change; a refused apply is audited too.
    status, events = call(server.url + "/v1/audit?action=manifest.applied&limit=50", "GET", token=admin)
    assert status == 200, events
    applied = events["items"]
    assert len(applied) == 3, applied
    assert all(len(e["details"]["sha256"]) == 64 for e in applied)
    changes = sorted(e["details"]["changes"] for e in applied)
    assert any("update Policy app-0 /prod" in c and "delete Eligibility user-00 app-0 /" in c for c in changes)
    assert any(c == "delete Policy app-2 /prod; delete Policy app-2 /" for c in changes), changes
    status, refused = call(server.url + "/v1/audit?action=manifest.apply.refused&limit=50", "GET", token=admin)
    assert status == 200 and len(refused["items"]) >= 2, refused


def test_allowed_edits_of_managed_objects_show_as_drift(server_factory, tmp_path):
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD}).start("--manifest-edits", "allow")
    cli = CLI(server, tmp_path / "admin")
    cli.login("admin", ADMIN_PASSWORD)
    path = tmp_path / "access.yaml"
    path.write_text(OPS)
    result = cli("apply", "-f", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    status, body = call(server.url + "/v1/roles/ops/policy?scope=/", "PUT",
                        {"activation": {"maximumDuration": "PT4H", "requireMfa": False}}, cli.token)
    assert status == 200, body
    result = cli("plan", "-f", str(path))
    assert result.returncode == 2
    assert '~ update Policy ops /' in result.stdout and '"PT4H" → "PT1H"' in result.stdout, result.stdout


def test_the_manifest_schema_checks_documents_as_the_server_does(server_factory, tmp_path):
    import jsonschema_rs
    import yaml
    from conftest import regent
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD}).start()
    status, served = call(server.url + "/v1/manifest/schema.json", "GET")
    assert status == 200, served
    written = regent("manifest", "schema", cwd=tmp_path)
    assert written.returncode == 0 and json.loads(written.stdout) == served
    validator = jsonschema_rs.Draft202012Validator(served)
    good = yaml.safe_load_all(manifest(["hook-0", "hook-1", "hook-2"], range(5)))
    for document in good:
        assert list(validator.iter_errors(document)) == [], document
    bad = [{"apiVersion": "regent/v1", "kind": "Role", "name": "x", "colour": "red"},
           {"apiVersion": "regent/v1", "kind": "Policy", "role": "x", "scope": "/",
            "activation": {"requireMfa": "yes"}},
           {"apiVersion": "regent/v1", "kind": "Gadget", "name": "x"}]
    for document in bad:
        assert list(validator.iter_errors(document)), document


def test_a_portal_edit_of_a_managed_policy_is_refused(server_factory, browsers, tmp_path):
    from selenium.webdriver.common.by import By
    from test_portal import fill, sign_in_browser, submit
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD}).start()
    cli = CLI(server, tmp_path / "admin")
    cli.login("admin", ADMIN_PASSWORD)
    path = tmp_path / "access.yaml"
    path.write_text(OPS)
    assert cli("apply", "-f", str(path)).returncode == 0
    admin = browsers()
    sign_in_browser(admin, server, "admin", ADMIN_PASSWORD)
    admin.get(server.url + "/admin/roles")
    submit(admin, admin.find_element(By.CSS_SELECTOR, "a[href*='role=ops']"))
    fill(admin, "rule-maximumDuration", "PT8H")
    submit(admin, admin.find_element(By.CSS_SELECTOR, "form.policy button[type=submit]"))
    assert "managed by policy as code" in admin.find_element(By.ID, "page-error").text
    status, policy = call(server.url + "/v1/roles/ops/policy?scope=/", "GET", token=cli.token)
    assert policy["own"]["activation"]["maximumDuration"] == "PT1H", policy
    result = cli("plan", "-f", str(path))
    assert result.returncode == 0, result.stdout
