"""Regent as an OpenSSH user CA against a real sshd on loopback: `ssh` with the issued certificate
gets in during the activation, not after its end, and not after an early deactivation (the serial
is in the revocation list sshd reads)."""
import json
import os
import shutil
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from helpers import SSHServer, activate, audit_actions, call, eligible_user, role_on_target, sign_in, wait_until

ADMIN_PASSWORD = "admin password 123"


@pytest.fixture
def sshd_binary():
    if not (os.path.exists("/usr/sbin/sshd") and shutil.which("ssh") and shutil.which("ssh-keygen")):
        pytest.skip("OpenSSH is not installed (apt-get install openssh-server openssh-client)")


def certificate_for(server, token: str, key: Path) -> Path:
    status, answer = call(server.url + "/v1/ssh/certificates", "POST",
                          {"publicKey": key.with_suffix(".pub").read_text().strip()}, token)
    assert status == 201, answer
    path = key.parent / (key.name + "-cert.pub")
    path.write_text(answer["items"][0]["certificate"] + "\n")
    return path


def test_ssh_certificate_lifecycle(server_factory, sshd_binary, tmp_path):
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD}).start(
        "--minimum-duration", "PT2S", "--self-deactivation-delay", "PT0S")
    with urllib.request.urlopen(server.url + "/v1/ssh/ca.pub", timeout=10) as response:
        ca_line = response.read().decode()
    sshd = SSHServer(ca_line, tmp_path / "ssh" / "revoked.krl").start()
    try:
        admin = sign_in(server, "admin", ADMIN_PASSWORD)
        role_on_target(server, admin, "ops", {"kind": "ssh", "name": "web-hosts", "scope": "/"}, sshd.user)
        alice = eligible_user(server, admin, "alice", "ops")
        key = tmp_path / "alice_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)

        # No activation, no certificate.
        status, problem = call(server.url + "/v1/ssh/certificates", "POST",
                               {"publicKey": key.with_suffix(".pub").read_text().strip()}, alice)
        assert status == 409, problem

        # During the activation ssh gets in; after its end the certificate has expired.
        activate(server, alice, "ops", 6, "deploy hotfix")
        certificate = certificate_for(server, alice, key)
        listing = subprocess.run(["ssh-keygen", "-L", "-f", str(certificate)], capture_output=True, text=True).stdout
        assert sshd.user in listing
        result = sshd.login(key, certificate)
        assert result.returncode == 0, result.stderr
        # The activation ends (audited) and with it the certificate's validity.
        wait_until(lambda: "assignment.expired" in audit_actions(server, admin, "assignment."), timeout=15)
        wait_until(lambda: sshd.login(key, certificate).returncode != 0, timeout=5)

        # A second activation, ended early: the serial goes into the revocation list at once.
        second = activate(server, alice, "ops", 300, "deploy hotfix")
        certificate = certificate_for(server, alice, key)
        assert sshd.login(key, certificate).returncode == 0
        status, ended = call(server.url + "/v1/requests", "POST", {
            "action": "selfDeactivate", "principalId": "alice", "roleId": "ops", "scope": "/", "kind": "active",
            "assignmentId": second["assignmentId"]}, alice)
        assert status == 201, ended
        krl = str(tmp_path / "ssh" / "revoked.krl")
        wait_until(lambda: subprocess.run(["ssh-keygen", "-Q", "-f", krl, str(certificate)],
                                          capture_output=True).returncode != 0, timeout=5)
        result = sshd.login(key, certificate)
        assert result.returncode != 0
        # The list is also served, as the database has it: the same bytes as the file.
        with urllib.request.urlopen(server.url + "/v1/ssh/revoked.krl", timeout=10) as response:
            assert response.headers["Content-Type"] == "application/octet-stream"
            assert response.read() == (tmp_path / "ssh" / "revoked.krl").read_bytes()
    finally:
        log = sshd.stop()
    assert "revoked" in log.lower(), log[-2000:]
    assert server.stop() == 0


def test_ledger_kept_in_files_by_an_earlier_version_is_imported(server_factory, tmp_path):
    """Before the CA's ledger moved into the database it was `ssh/issued.json`: upgrading imports
    it, so a certificate revoked before stays revoked; the file is then set aside."""
    (tmp_path / "ssh").mkdir()
    seconds_since_2001 = time.time() - 978307200
    revoked, expired, valid = 0x1234_5678_9ABC_DEF0, 0x0FED_CBA9_8765_4321, 0x0102_0304_0506_0708
    ledger = {"krlVersion": 7, "issued": [
        {"serial": revoked, "assignmentId": str(uuid.uuid4()), "validBefore": seconds_since_2001 + 3600,
         "revoked": True},
        {"serial": expired, "assignmentId": str(uuid.uuid4()), "validBefore": seconds_since_2001 - 60,
         "revoked": True},
        {"serial": valid, "assignmentId": str(uuid.uuid4()), "validBefore": seconds_since_2001 + 3600,
         "revoked": False}]}
    (tmp_path / "ssh" / "issued.json").write_text(json.dumps(ledger))
    server = server_factory().start()
    listed = (tmp_path / "ssh" / "revoked.krl").read_bytes()
    assert revoked.to_bytes(8, "big") in listed
    assert expired.to_bytes(8, "big") not in listed and valid.to_bytes(8, "big") not in listed
    assert not (tmp_path / "ssh" / "issued.json").exists()
    assert (tmp_path / "ssh" / "issued.json.imported").exists()
    assert server.stop() == 0
    # Imported once: a restart keeps the list as it was.
    again = server_factory().start()
    assert (tmp_path / "ssh" / "revoked.krl").read_bytes() == listed
    assert again.stop() == 0
