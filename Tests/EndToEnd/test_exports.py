"""Exports read back by independent readers: Python's csv and json, openpyxl for XLSX, pdftotext
(poppler-utils) for PDF. The JSON Lines audit export is checked like an outside auditor would: each
hash recomputed from the canonical encoding, the chain continuous, and its end matched against a
checkpoint whose Ed25519 signature verifies with the server's public key."""
import base64
import csv
import hashlib
import io
import json
import shutil
import struct
import subprocess

import pytest

from helpers import CLI, activate, call, eligible_user, sign_in

ADMIN_PASSWORD = "admin password 123"


def canonical(event: dict) -> bytes:
    """DESIGN.md §6: a version tag, then each field length-prefixed (absent: one zero byte)."""
    out = bytearray()

    def put(text):
        if text is None:
            out.append(0)
            return
        data = text.encode()
        out.append(1)
        out.extend(struct.pack(">I", len(data)))
        out.extend(data)

    put("regent-audit-v1")
    put(str(event["seq"]))
    put(event["id"])
    put(str(event["timeMs"]))
    for field in ("actorId", "actorName", "sourceAddress", "userAgent", "action", "subjectPrincipalId",
                  "subjectRoleId", "subjectScope", "outcome", "reason", "correlationId"):
        put(event[field])
    put(str(len(event["details"])))
    for key in sorted(event["details"]):
        put(key)
        put(event["details"][key])
    return bytes(out)


def test_exports_read_by_independent_readers(server_factory, tmp_path):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (apt-get install poppler-utils)")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from openpyxl import load_workbook

    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD}).start("--minimum-duration", "PT1S")
    cli = CLI(server, tmp_path / "admin")
    cli.login("admin", ADMIN_PASSWORD)
    admin = cli.token
    assert call(server.url + "/v1/roles", "POST", {"name": "orders-db-admin"}, admin)[0] == 201
    assert call(server.url + "/v1/roles/orders-db-admin/policy", "PUT", {"activation": {"requireMfa": False}},
                admin)[0] == 200
    alice = eligible_user(server, admin, "alice", "orders-db-admin")
    assert call(server.url + "/v1/roles/orders-db-admin", "PATCH", {"description": "=cmd|' /C calc'!A0"}, admin)[0] == 200
    activate(server, alice, "orders-db-admin", 600, "INC-7, \"quoted\" reason")
    for _ in range(20):  # enough events for a few signed checkpoints
        sign_in(server, "alice", "alice password 123")

    # The audit log in four formats through the CLI.
    for format in ("csv", "jsonl", "xlsx", "pdf"):
        result = cli("audit", "--export", str(tmp_path / f"audit.{format}"))
        assert result.returncode == 0, result.stderr
        assert oct((tmp_path / f"audit.{format}").stat().st_mode & 0o777) == "0o600"

    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    header, events = json.loads(lines[0]), [json.loads(line) for line in lines[1:]]
    assert events and [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    previous = "0" * 64 if events[0]["seq"] == 1 else events[0]["prevHash"]
    for event in events:
        assert event["prevHash"] == previous, event["seq"]
        recomputed = hashlib.sha256(event["prevHash"].encode() + canonical(event)).hexdigest()
        assert recomputed == event["hash"], event["seq"]
        previous = event["hash"]
    by_seq = {e["seq"]: e for e in events}
    checkpoints = [c for c in header["checkpoints"] if c["seq"] in by_seq]
    assert checkpoints, header
    for checkpoint in checkpoints:
        assert by_seq[checkpoint["seq"]]["hash"] == checkpoint["hash"]
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(checkpoint["publicKey"]))
        message = f"regent-checkpoint-v1\n{checkpoint['seq']}\n{checkpoint['hash']}\n{checkpoint['timeMs']}".encode()
        key.verify(base64.b64decode(checkpoint["signature"]), message)  # raises if forged
    reason = next(e for e in events if e["action"] == "request.created"
                  and e["details"]["action"] == "selfActivate")["details"]["justification"]
    assert reason == "INC-7, \"quoted\" reason"

    with open(tmp_path / "audit.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    # Each export audits itself, so the CSV (taken first) ends one event before the JSON Lines.
    assert [(int(r["seq"]), r["hash"]) for r in rows] == [(e["seq"], e["hash"]) for e in events][:len(rows)]
    assert len(rows) == len(events) - 1
    assert any("INC-7, \"quoted\" reason" in r["details"] for r in rows)

    workbook = load_workbook(tmp_path / "audit.xlsx", read_only=True)
    assert workbook.sheetnames == ["Events", "Checkpoints"]
    sheet = list(workbook["Events"].iter_rows(values_only=True))
    assert sheet[0][0] == "seq" and [int(r[0]) for r in sheet[1:]][:len(events)] == [e["seq"] for e in events]
    assert [r[-1] for r in sheet[1:]][:len(events)] == [e["hash"] for e in events]
    assert len(list(workbook["Checkpoints"].iter_rows(values_only=True))) > 1

    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "audit.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Regent audit log" in text and "Generated:" in text and "Filters: none" in text
    assert "request.created" in text and "Page 1 of" in text
    info = subprocess.run(["pdfinfo", str(tmp_path / "audit.pdf")], capture_output=True, text=True, check=True).stdout
    assert int(next(l for l in info.splitlines() if l.startswith("Pages:")).split()[1]) >= 1

    # A filtered export says which filter made it.
    filtered = cli("audit", "--export", str(tmp_path / "denied.pdf"), "--action", "auth.")
    assert filtered.returncode == 0, filtered.stderr
    text = subprocess.run(["pdftotext", str(tmp_path / "denied.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Filters: action=auth." in text and "request.created" not in text

    # The assignment report in four formats.
    for format in ("csv", "jsonl", "xlsx", "pdf"):
        result = cli("report", "assignments", "--output", str(tmp_path / f"assignments.{format}"))
        assert result.returncode == 0, result.stderr
    with open(tmp_path / "assignments.csv", newline="") as handle:
        report = list(csv.DictReader(handle))
    eligible = next(r for r in report if r["principal"] == "alice" and r["kind"] == "eligible")
    assert eligible["role"] == "orders-db-admin" and eligible["end"] == "permanent" and eligible["lastActivation"]
    assert any(r["principal"] == "alice" and r["kind"] == "activation" for r in report)
    assert any(r["principal"] == "admin" and r["role"] == "regent-admin" for r in report)
    jsonl = [json.loads(l) for l in (tmp_path / "assignments.jsonl").read_text().splitlines()]
    assert jsonl[0]["export"] == "Regent assignments" and len(jsonl) == len(report) + 1
    rows = list(load_workbook(tmp_path / "assignments.xlsx", read_only=True).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("principal", "principalKind", "role") and len(rows) == len(report) + 1
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "assignments.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Regent assignments" in text and "orders-db-admin" in text

    # Refusals are one line; the exports themselves are audited.
    bad = cli("report", "assignments", "--output", str(tmp_path / "x.doc"))
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1
    status, found = call(server.url + "/v1/audit?action=audit.exported", "GET", None, admin)
    assert len(found["items"]) == 5
    alice_cli = CLI(server, tmp_path / "alice")
    alice_cli.login("alice", "alice password 123")
    refused = alice_cli("audit", "--export", str(tmp_path / "mine.csv"))
    assert refused.returncode != 0 and not (tmp_path / "mine.csv").exists()
    assert server.stop() == 0
