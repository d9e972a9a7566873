#!/usr/bin/env bash
# schemathesis (from the CI venv) against the reference server on a free loopback port:
# every operation (the families it implements and those its stub answers), every check,
# the coverage, fuzzing and stateful phases. Exits non-zero on any failure. Usage: scripts/schemathesis.sh VENV
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-target/ci-venv}
server=target/debug/tenx-reference-server
cargo build -q -p tenx-reference-server

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
work=$(mktemp -d)
"$server" --listen "127.0.0.1:$port" --db "$work/st.db" --demo > "$work/server.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
base="http://127.0.0.1:$port"
# Wait for the server, then log in as the demo owner (python3: no curl assumed).
jwt=$(python3 - "$base" <<'PY'
import json, sys, time, urllib.error, urllib.request
base = sys.argv[1]
body = json.dumps({"email": "owner@demo.10x", "password": "demo-password"}).encode()
for _ in range(100):
    try:
        request = urllib.request.Request(base + "/v2/auth/login", body, {"content-type": "application/json"})
        print(json.load(urllib.request.urlopen(request))["accessToken"])
        break
    except (urllib.error.URLError, ConnectionError):
        time.sleep(0.1)
else:
    sys.exit("the reference server did not answer a login")
PY
)
# Every operation: the families the server implements and the ones its stub answers.
"$venv/bin/schemathesis" --config-file schemathesis.toml --no-color run generated/openapi.json \
  --url "$base" -H "Authorization: Bearer $jwt" --checks all --max-examples 20 --seed 1
