"""Notifications delivered by a running server to a real SMTP server on loopback (aiosmtpd, with
STARTTLS and authentication) and to local webhook receivers (signed JSON and Slack-compatible),
with the contents checked; an SMTP server that is down delays mail but loses none."""
import datetime
import email
import email.policy
import hashlib
import hmac
import ipaddress
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from helpers import activate, call, free_port, sign_in, wait_until

ADMIN_PASSWORD = "admin password 123"
SMTP_PASSWORD = "smtp relay secret"
HOOK_SECRET = "notification hook secret"


def certificate(directory, names=("127.0.0.1", "localhost")):
    """A self-signed certificate for `names` (IP addresses or DNS names), the CA Regent is told to trust."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "regent test smtp")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address(n)) if n[0].isdigit() else x509.DNSName(n) for n in names]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "smtp.pem", directory / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Mailbox:
    """aiosmtpd on loopback that requires STARTTLS and AUTH; records each message and how it came."""

    def __init__(self, port, cert_path, key_path):
        import ssl
        self.port, self.messages = port, []
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(str(cert_path), str(key_path))
        self.controller = None

    def start(self):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult
        mailbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                message = email.message_from_bytes(envelope.original_content or envelope.content,
                                                   policy=email.policy.default)
                mailbox.messages.append({"to": envelope.rcpt_tos, "from": envelope.mail_from,
                                         "subject": str(message["Subject"]), "body": message.get_content(),
                                         "tls": session.ssl is not None, "authenticated": session.authenticated})
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):
            good = auth_data.login == b"regent" and auth_data.password == SMTP_PASSWORD.encode()
            return AuthResult(success=good)

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, tls_context=self.context,
                                     require_starttls=True, auth_require_tls=True, authenticator=authenticator,
                                     auth_required=True)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address):
        return [m for m in self.messages if address in m["to"]]


class Hooks(BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        signature = self.headers.get("X-Regent-Signature", "")
        valid = False
        if signature:
            parts = dict(part.split("=", 1) for part in signature.split(","))
            expected = hmac.new(HOOK_SECRET.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
            valid = hmac.compare_digest(expected, parts["v1"])
        Hooks.received.append({"path": self.path, "json": json.loads(body), "signed": valid,
                               "key": self.headers.get("Idempotency-Key")})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hooks():
    Hooks.received = []
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Hooks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


def test_notifications_by_mail_and_webhooks(server_factory, tmp_path, hooks):
    cert_path, key_path = certificate(tmp_path)
    smtp_port = free_port()
    mailbox = Mailbox(smtp_port, cert_path, key_path).start()
    hook_url = f"http://127.0.0.1:{hooks.server_port}"
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD, "REGENT_SMTP_PASSWORD": SMTP_PASSWORD,
                             "REGENT_NOTIFY_WEBHOOK_SECRET": HOOK_SECRET}).start(
        "--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_port), "--smtp-from", "regent@example.com",
        "--smtp-username", "regent", "--smtp-ca-file", str(cert_path), "--public-url", "https://regent.example",
        "--notify-webhook", hook_url + "/generic", "--notify-slack", hook_url + "/slack")
    try:
        admin = sign_in(server, "admin", ADMIN_PASSWORD)
        for name in ("alice", "bob"):
            assert call(server.url + "/v1/principals", "POST", {
                "kind": "user", "name": name, "email": f"{name}@example.com",
                "password": f"{name} password 123"}, admin)[0] == 201
        assert call(server.url + "/v1/roles", "POST", {"name": "orders-db-admin"}, admin)[0] == 201
        assert call(server.url + "/v1/roles/orders-db-admin/policy", "PUT", {"activation": {
            "requireMfa": False, "approval": {"stages": [{"approvers": ["bob"]}]}}}, admin)[0] == 200
        assert call(server.url + "/v1/requests", "POST", {
            "action": "adminAssign", "principalId": "alice", "roleId": "orders-db-admin", "scope": "/",
            "kind": "eligible"}, admin)[0] == 201
        alice, bob = sign_in(server, "alice", "alice password 123"), sign_in(server, "bob", "bob password 123")

        # alice asks; bob is mailed within seconds, over STARTTLS, authenticated, with the details.
        started = time.monotonic()
        request = activate(server, alice, "orders-db-admin", 3600, "INC-42 failover")
        wait_until(lambda: mailbox.to("bob@example.com"), timeout=10, interval=0.1)
        latency = time.monotonic() - started
        [mail] = mailbox.to("bob@example.com")
        assert mail["subject"] == "[Regent] Approval needed: alice → orders-db-admin at /", mail
        assert "Justification: INC-42 failover" in mail["body"] and "https://regent.example/approvals" in mail["body"]
        assert mail["tls"] and mail["authenticated"] and mail["from"] == "regent@example.com"
        assert latency < 10, latency
        print(f"approval-needed mail delivered {latency:.2f} s after the request")
        def approval_hooks():
            return [h for h in Hooks.received if "Approval needed" in json.dumps(h["json"])]
        wait_until(lambda: len(approval_hooks()) == 2, timeout=10, interval=0.1)
        generic = next(h for h in approval_hooks() if h["path"] == "/generic")
        assert generic["signed"] and generic["json"]["topic"] == "approvalNeeded" and generic["key"]
        assert generic["json"]["link"] == "https://regent.example/approvals"
        slack = next(h for h in approval_hooks() if h["path"] == "/slack")
        assert set(slack["json"]) == {"text"} and "alice → orders-db-admin" in slack["json"]["text"]
        # Security alerts reach the webhooks too (the bootstrap administrator's permanent assignment).
        assert any(h["json"].get("topic") == "alertRaised" and h["signed"] for h in Hooks.received)

        # The mail server goes down; bob approves; nothing is lost: it all arrives once it is back.
        mailbox.stop()
        status, _ = call(server.url + f"/v1/requests/{request['id']}/approve", "POST", {"justification": "ok"}, bob)
        assert status == 200
        # Several delivery attempts fail meanwhile, each reported and retried.
        failed = "notification delivery failed; retrying"
        wait_until(lambda: server.output.count(failed) >= 2, timeout=30, interval=0.1)
        mailbox = Mailbox(smtp_port, cert_path, key_path).start()
        wait_until(lambda: len(mailbox.to("alice@example.com")) >= 2, timeout=40, interval=0.2)
        subjects = sorted(m["subject"] for m in mailbox.to("alice@example.com"))
        assert subjects == ["[Regent] Active: alice → orders-db-admin at /",
                            "[Regent] Approved: alice → orders-db-admin at /"], subjects

        # alice opts out of non-critical mail (what that suppresses is covered by the engine tests).
        assert call(server.url + "/v1/me/notifications", "PUT", {"nonCriticalEmail": False}, alice)[0] == 200
        assert call(server.url + "/v1/me/notifications", "GET", None, alice)[1] == {"nonCriticalEmail": False}
    finally:
        mailbox.stop()
    assert server.stop() == 0


def test_smtp_certificate_is_verified(server_factory, tmp_path):
    """A certificate issued for another name is refused: nothing is sent, the mail waits."""
    cert_path, key_path = certificate(tmp_path, names=("mail.example.org",))
    smtp_port = free_port()
    mailbox = Mailbox(smtp_port, cert_path, key_path).start()
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD, "REGENT_SMTP_PASSWORD": SMTP_PASSWORD}).start(
        "--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_port), "--smtp-from", "regent@example.com",
        "--smtp-username", "regent", "--smtp-ca-file", str(cert_path))
    try:
        admin = sign_in(server, "admin", ADMIN_PASSWORD)
        assert call(server.url + "/v1/principals", "POST", {
            "kind": "user", "name": "alice", "email": "alice@example.com", "password": "alice password 123"},
            admin)[0] == 201
        assert call(server.url + "/v1/roles", "POST", {"name": "ops"}, admin)[0] == 201
        assert call(server.url + "/v1/requests", "POST", {
            "action": "adminAssign", "principalId": "alice", "roleId": "ops", "scope": "/", "kind": "eligible"},
            admin)[0] == 201
        # The refused certificate is a failed attempt, reported and retried; nothing reaches the mailbox.
        server.wait_for_output("notification delivery failed; retrying", timeout=30)
        assert mailbox.messages == []
    finally:
        mailbox.stop()
    assert server.stop() == 0
