"""Injection strings in every filter: each query parameter of every GET operation in openapi.yaml
(and each path parameter of the GETs that look something up) gets SQL, LDAP, path, template and
control-character payloads. None may cause a 5xx, an error that is not problem+json, a match, or a
change to the data; afterwards the audit chain still verifies."""
import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

SPEC = Path(__file__).resolve().parents[2] / "Sources" / "RegentAPI" / "openapi.yaml"

PAYLOADS = [
    "' OR '1'='1",
    "'; DROP TABLE principals; --",
    '" OR 1=1 --',
    "admin' --",
    "%' OR name LIKE '%",
    "1 UNION SELECT password_hash FROM principals",
    "*)(uid=*))(|(uid=*",
    "../../../../etc/passwd",
    "<script>alert(1)</script>",
    "${jndi:ldap://127.0.0.1/a}",
    "{{7*7}}",
    "admin\x00",
    "\r\nX-Injected: 1",
    "ＡＤＭＩＮ",
    "/' OR 1=1/..",
    "a" * 5000,
]

# Values that make the other required parameters of an operation valid, so the payload is what is judged.
VALID = {"principal": "alice", "role": "dba", "scope": "/prod"}


def call(server, token, method, path, body=None):
    request = urllib.request.Request(
        server.url + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


def lookups():
    """(path template, path parameter names, query parameters) of every GET operation."""
    spec = yaml.safe_load(SPEC.read_text())
    shared = spec["components"]["parameters"]
    for path, item in spec["paths"].items():
        if "get" not in item:
            continue
        parameters = [shared[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
                      for p in item.get("parameters", []) + item["get"].get("parameters", [])]
        yield (path,
               [p["name"] for p in parameters if p["in"] == "path"],
               [(p["name"], p.get("required", False)) for p in parameters if p["in"] == "query"])


def snapshot(server, token):
    counts = {}
    for path in ["/v1/principals?limit=500", "/v1/roles?limit=500", "/v1/assignments?limit=500",
                 "/v1/targets?limit=500", "/v1/requests?limit=500"]:
        status, _, body = call(server, token, "GET", path)
        assert status == 200, (path, body)
        counts[path] = sorted(json.dumps(item, sort_keys=True) for item in json.loads(body)["items"])
    return counts


def judge(status, content_type, body, what):
    assert status < 500, (what, status, body[:300])
    if status >= 400:
        assert content_type.startswith("application/problem+json"), (what, status, content_type)
        assert json.loads(body)["type"].startswith("urn:regent:problem:"), (what, body[:300])
        return
    document = json.loads(body)
    if isinstance(document, dict) and "items" in document:
        assert document["items"] == [], (what, "a payload matched something", document["items"][:2])
    if isinstance(document, dict) and "active" in document:
        assert document["active"] is False, (what, document)


def test_injection_in_every_filter(server_factory):
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": "admin password 123"}).start()
    status, _, body = call(server, "", "POST", "/v1/auth/login",
                           {"username": "admin", "password": "admin password 123"})
    token = json.loads(body)["token"]
    assert call(server, token, "POST", "/v1/principals",
                {"kind": "user", "name": "alice", "password": "alice password 123"})[0] == 201
    assert call(server, token, "POST", "/v1/roles", {"name": "dba"})[0] == 201
    assert call(server, token, "POST", "/v1/requests",
                {"action": "adminAssign", "principalId": "alice", "roleId": "dba", "scope": "/prod",
                 "kind": "active", "duration": "PT8H", "justification": "on call"})[0] == 201
    before = snapshot(server, token)

    tried = 0
    for template, path_names, query in lookups():
        targets = [("path", name) for name in path_names] + [("query", name) for name, _ in query]
        for where, name in targets:
            for payload in PAYLOADS:
                path = template
                for other in path_names:
                    value = payload if (where, other) == ("path", name) else VALID.get(other, "dba")
                    path = path.replace("{" + other + "}", urllib.parse.quote(value, safe=""))
                params = {n: VALID.get(n, "x") for n, required in query if required}
                if where == "query":
                    params[name] = payload
                if params:
                    path += "?" + urllib.parse.urlencode(params)
                judge(*call(server, token, "GET", path), what=f"{template} {where} {name}={payload[:40]!r}")
                tried += 1
    assert tried > 300

    assert snapshot(server, token) == before
    status, _, body = call(server, token, "GET", "/v1/audit/verify")
    assert status == 200 and json.loads(body)["intact"] is True, body
    assert server.stop() == 0
