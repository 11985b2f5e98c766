"""schemathesis generates requests from the served openapi.yaml: no 5xx, and every response conforms to the spec."""
import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "unsupported_method",
])


def test_generated_requests(server_factory, tmp_path):
    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": "admin password 123"}).start()
    request = urllib.request.Request(
        server.url + "/v1/auth/login", method="POST",
        data=json.dumps({"username": "admin", "password": "admin password 123"}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        token = json.loads(response.read())["token"]
    executable = Path(sys.executable).with_name("schemathesis")
    result = subprocess.run(
        [str(executable), "run", server.url + "/openapi.yaml", "--checks", CHECKS, "--max-examples", "40",
         "--header", f"Authorization: Bearer {token}", "--exclude-operation-id", "logout",
         "--exclude-operation-id", "login", "--workers", "1", "--seed", "1", "--no-color"],
        capture_output=True, text=True, timeout=900, cwd=tmp_path, env={**os.environ, "NO_COLOR": "1"},
    )
    output = result.stdout + result.stderr
    generated = re.search(r"(\d+) generated", output)
    assert generated and int(generated.group(1)) >= 1000, output[-3000:]
    assert result.returncode == 0, output[-6000:]
    assert server.stop() == 0
