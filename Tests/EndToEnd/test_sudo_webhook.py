"""The sudo and webhook connectors with real components: drop-ins that visudo accepts (alone and
included from a sudoers file), installed at activation and gone at its end, a bad rule refused
before it is installed; signed webhooks checked by a local HTTP receiver, retried after a 503
with the same idempotency key."""
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from helpers import activate, call, eligible_user, free_port, role_on_target, sign_in, wait_until

ADMIN_PASSWORD = "admin password 123"
HMAC_KEY = "webhook shared secret"


def prepare(server, target_body: dict, value: str) -> tuple[str, str, dict]:
    admin = sign_in(server, "admin", ADMIN_PASSWORD)
    target = role_on_target(server, admin, "ops", target_body, value)
    return admin, eligible_user(server, admin, "alice", "ops"), target


@pytest.fixture
def visudo():
    path = shutil.which("visudo") or "/usr/sbin/visudo"
    if not os.path.exists(path):
        pytest.skip("sudo is not installed (apt-get install sudo)")
    return path


def test_sudo_drop_in(server_factory, visudo, tmp_path):
    drop_ins = tmp_path / "sudoers.d"
    drop_ins.mkdir()
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD}).start("--minimum-duration", "PT2S")
    admin, alice, target = prepare(server, {"kind": "sudo", "name": "web-1", "scope": "/",
                                            "config": {"directory": str(drop_ins)}},
                                   "ALL=(root) NOPASSWD: /usr/bin/systemctl restart nginx")
    activate(server, alice, "ops", 4, "restart nginx")
    files, _ = wait_until(lambda: [p for p in drop_ins.iterdir() if p.name.startswith("regent_")], timeout=5)
    assert len(files) == 1 and "." not in files[0].name
    assert "alice ALL=(root) NOPASSWD: /usr/bin/systemctl restart nginx" in files[0].read_text()
    assert oct(files[0].stat().st_mode & 0o777) == "0o440"
    assert subprocess.run([visudo, "-c", "-f", str(files[0])], capture_output=True).returncode == 0
    main = tmp_path / "sudoers"
    main.write_text(f"Defaults env_reset\nroot ALL=(ALL:ALL) ALL\n@includedir {drop_ins}\n")
    checked = subprocess.run([visudo, "-c", "-f", str(main)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    wait_until(lambda: not any(drop_ins.iterdir()), timeout=8)

    # A rule visudo refuses is never installed; the request fails and says why.
    status, role = call(server.url + "/v1/roles/ops", "PATCH", {"entitlements": [
        {"targetId": target["id"], "value": "ALL=(root NOPASSWD /bin/sh"}]}, admin)
    assert status == 200, role
    request = activate(server, alice, "ops", 4, "restart nginx")
    failed, _ = wait_until(lambda: (lambda r: r if r["status"] == "failed" else None)(
        call(server.url + f"/v1/requests/{request['id']}", "GET", None, alice)[1]), timeout=5)
    assert "visudo" in failed.get("reason", ""), failed
    assert not any(drop_ins.iterdir())
    assert server.stop() == 0


class Receiver(BaseHTTPRequestHandler):
    """Checks every webhook's signature and freshness; answers 503 to the first grant."""
    received: list[dict] = []
    refused_first = False

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        fields = dict(part.split("=", 1) for part in self.headers["X-Regent-Signature"].split(","))
        expected = hmac.new(HMAC_KEY.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256).hexdigest()
        forged = hmac.new(b"another key", f"{fields['t']}.".encode() + body, hashlib.sha256).hexdigest()
        event = json.loads(body)
        Receiver.received.append({**event, "valid": hmac.compare_digest(expected, fields["v1"]),
                                  "forgedWouldPass": hmac.compare_digest(forged, fields["v1"]),
                                  "fresh": abs(time.time() - int(fields["t"])) < 60,
                                  "header": self.headers["Idempotency-Key"]})
        status = 200
        if event["event"] == "grant" and not Receiver.refused_first:
            Receiver.refused_first = True
            status = 503
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_signed_webhooks(server_factory):
    receiver = ThreadingHTTPServer(("127.0.0.1", free_port()), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD}).start("--minimum-duration", "PT2S")
        _, alice, _ = prepare(server, {
            "kind": "webhook", "name": "k8s-bridge", "scope": "/",
            "config": {"url": f"http://127.0.0.1:{receiver.server_port}/regent"},
            "secrets": {"hmacKey": HMAC_KEY}}, "cluster-admin")
        request = activate(server, alice, "ops", 6, "restart nginx")
        wait_until(lambda: [e for e in Receiver.received if e["event"] == "revoke"], timeout=20)
        grants = [e for e in Receiver.received if e["event"] == "grant"]
        assert len(grants) == 2, grants  # refused once with 503, then retried
        assert grants[0]["idempotencyKey"] == grants[1]["idempotencyKey"] == grants[0]["header"]
        assert all(e["valid"] and e["fresh"] and not e["forgedWouldPass"] for e in Receiver.received)
        revoke = next(e for e in Receiver.received if e["event"] == "revoke")
        assert revoke["idempotencyKey"] != grants[0]["idempotencyKey"]
        assert revoke["account"] == "alice" and revoke["value"] == "cluster-admin"
        assert revoke["requestId"] == request["id"]
        assert server.stop() == 0
    finally:
        receiver.shutdown()
