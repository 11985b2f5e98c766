"""Helpers shared by the end-to-end tests: JSON calls to Regent, and real servers (PostgreSQL,
OpenSSH's sshd) started on loopback in a temporary directory, stopped by the fixture that made them."""
import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(url: str, method: str, body: dict | None = None, token: str | None = None,
         headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def audit_actions(server, token: str, prefix: str = "") -> list[str]:
    """The actions of the latest audit events (newest first), those starting with `prefix`."""
    status, page = call(server.url + f"/v1/audit?action={prefix}&limit=500", "GET", None, token)
    assert status == 200, page
    return [event["action"] for event in page["items"]]


def sign_in(server, username: str, password: str) -> str:
    status, body = call(server.url + "/v1/auth/login", "POST", {"username": username, "password": password})
    assert status == 200, body
    return body["token"]


def wait_until(condition, timeout: float, interval: float = 0.02):
    """Polls `condition` until it returns a truthy value; returns (value, seconds waited)."""
    start = time.monotonic()
    while True:
        value = condition()
        if value:
            return value, time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgreSQL:
    """A throwaway PostgreSQL cluster on 127.0.0.1 with password (SCRAM) authentication over TCP."""

    password = "pg admin password 123"

    def __init__(self):
        self.bin = postgres_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="regent-pg-"))
        self.port = free_port()
        self.as_owner: list[str] = []

    def start(self) -> "PostgreSQL":
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        data = self.dir / "data"
        subprocess.run(self.as_owner + [str(self.bin / "initdb"), "-D", str(data), "-U", "postgres",
                                        "--auth-local=trust", "--auth-host=scram-sha-256"],
                       check=True, capture_output=True, timeout=120)
        self.run()
        self.admin(f"ALTER ROLE postgres PASSWORD '{self.password}'")
        return self

    def standby(self) -> "PostgreSQL":
        """A streaming standby of this server (not started): a base backup over the Unix socket,
        with the settings that make it follow this server (`pg_basebackup -R`)."""
        standby = PostgreSQL()
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(standby.dir, owner.pw_uid, owner.pw_gid)
            standby.as_owner = ["runuser", "-u", "postgres", "--"]
        subprocess.run(standby.as_owner + [str(self.bin / "pg_basebackup"), "-h", str(self.dir), "-p", str(self.port),
                                           "-U", "postgres", "-D", str(standby.dir / "data"), "-R", "-X", "stream"],
                       check=True, capture_output=True, timeout=120)
        return standby

    def run(self) -> "PostgreSQL":
        """Starts the cluster in this directory (made by `initdb` or a base backup)."""
        subprocess.run(self.as_owner + [str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-l",
                                        str(self.dir / "log"), "-w", "-o",
                                        f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start"],
                       check=True, capture_output=True, timeout=120)
        return self

    def pg_ctl(self, *arguments: str) -> None:
        subprocess.run(self.as_owner + [str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-w", *arguments],
                       check=True, capture_output=True, timeout=120)

    def admin(self, sql: str) -> str:
        """Runs SQL as the superuser over the Unix socket; returns the unaligned output."""
        result = subprocess.run(["psql", "-h", str(self.dir), "-p", str(self.port), "-U", "postgres", "-d", "postgres",
                                 "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
                                capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def as_login(self, user: str, password: str, sql: str) -> subprocess.CompletedProcess:
        """Runs SQL over TCP as a login, the way an application would."""
        return subprocess.run(["psql", f"host=127.0.0.1 port={self.port} user={user} dbname=postgres",
                               "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
                              capture_output=True, text=True, timeout=30, env={**os.environ, "PGPASSWORD": password})

    def members(self, role: str) -> set[str]:
        rows = self.admin(
            "SELECT m.rolname FROM pg_auth_members am JOIN pg_roles r ON r.oid = am.roleid "
            f"JOIN pg_roles m ON m.oid = am.member WHERE r.rolname = '{role}'")
        return set(rows.split()) if rows else set()

    def stop(self) -> None:
        subprocess.run(self.as_owner + [str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate",
                                        "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)


class SSHServer:
    """OpenSSH's sshd on 127.0.0.1 trusting only Regent's user CA and reading Regent's revocation
    list; no passwords, no authorized_keys: a certificate is the only way in."""

    def __init__(self, ca_public_key: str, revoked_keys: Path):
        self.dir = Path(tempfile.mkdtemp(prefix="regent-sshd-"))
        self.port = free_port()
        self.user = pwd.getpwuid(os.geteuid()).pw_name
        (self.dir / "ca.pub").write_text(ca_public_key)
        self.config = self.dir / "sshd_config"
        self.config.write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {self.dir / 'host_key'}",
            f"PidFile {self.dir / 'sshd.pid'}", "AuthorizedKeysFile none", f"TrustedUserCAKeys {self.dir / 'ca.pub'}",
            f"RevokedKeys {revoked_keys}", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
            "PubkeyAuthentication yes", "UsePAM no", "StrictModes no", "PermitRootLogin prohibit-password",
            "LogLevel VERBOSE", ""]))
        self.process: subprocess.Popen | None = None

    def start(self) -> "SSHServer":
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.dir / "host_key")], check=True)
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.process = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(self.config)],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.process.stdout.read()
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise AssertionError("sshd did not listen within 20 s")

    def login(self, identity: Path, certificate: Path) -> subprocess.CompletedProcess:
        """`ssh user@127.0.0.1 true` with exactly this key and certificate."""
        return subprocess.run(
            ["ssh", "-p", str(self.port), "-i", str(identity), "-o", f"CertificateFile={certificate}",
             "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes",
             "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10",
             f"{self.user}@127.0.0.1", "true"],
            capture_output=True, text=True, timeout=30)

    def stop(self) -> str:
        output = ""
        if self.process is not None:
            self.process.terminate()
            try:
                output, _ = self.process.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                output, _ = self.process.communicate()
        shutil.rmtree(self.dir, ignore_errors=True)
        return output


def role_on_target(server, admin: str, role: str, target_body: dict, value: str) -> dict:
    """Registers a target and a role with one entitlement on it, activated without MFA; returns the target."""
    status, target = call(server.url + "/v1/targets", "POST", target_body, admin)
    assert status == 201, target
    status, created = call(server.url + "/v1/roles", "POST",
                           {"name": role, "entitlements": [{"targetId": target["id"], "value": value}]}, admin)
    assert status == 201, created
    assert call(server.url + f"/v1/roles/{role}/policy", "PUT", {"activation": {"requireMfa": False}}, admin)[0] == 200
    return target


def eligible_user(server, admin: str, name: str, role: str) -> str:
    """Creates user `name` (password "<name> password 123"), eligible for `role` at /; returns their token."""
    password = f"{name} password 123"
    assert call(server.url + "/v1/principals", "POST", {"kind": "user", "name": name, "password": password},
                admin)[0] == 201
    assert call(server.url + "/v1/requests", "POST", {"action": "adminAssign", "principalId": name, "roleId": role,
                                                      "scope": "/", "kind": "eligible"}, admin)[0] == 201
    return sign_in(server, name, password)


def activate(server, token: str, role: str, seconds: int, justification: str = "on call") -> dict:
    status, request = call(server.url + "/v1/requests", "POST", {
        "action": "selfActivate", "roleId": role, "scope": "/", "duration": f"PT{seconds}S",
        "justification": justification}, token)
    assert status == 201, request
    return request


class CLI:
    """`regent` as one user: its own config directory, so sessions never mix."""

    def __init__(self, server, home):
        self.server = server
        self.env = {**os.environ, "XDG_CONFIG_HOME": str(home), "REGENT_SERVER": server.url}

    def __call__(self, *args, stdin: str = "") -> subprocess.CompletedProcess:
        from conftest import BINARY
        return subprocess.run([str(BINARY), *args], input=stdin, env=self.env, capture_output=True, text=True, timeout=60)

    def login(self, name: str, password: str, code: str | None = None) -> None:
        result = self("login", "--username", name, stdin=password + "\n" + (code + "\n" if code else ""))
        assert result.returncode == 0, result.stderr
        credentials = os.path.join(self.env["XDG_CONFIG_HOME"], "regent", "credentials.json")
        assert oct(os.stat(credentials).st_mode & 0o777) == "0o600"

    @property
    def token(self) -> str:
        with open(os.path.join(self.env["XDG_CONFIG_HOME"], "regent", "credentials.json")) as handle:
            return json.load(handle)["token"]
