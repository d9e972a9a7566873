#!/usr/bin/env bash
# schemathesis (from the CI venv), every operation, every check, the coverage, fuzzing
# and stateful phases, against two servers on free loopback ports:
# - the reference 10x server (the families it implements and those its stub answers),
#   over generated/openapi.json;
# - the Parcels stub (`parcels-stub`: every route from the spec alone), over
#   examples/parcels/generated/openapi.json.
# Exits non-zero when either run finds a failure. Usage: scripts/schemathesis.sh VENV
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-target/ci-venv}
cargo build -q -p tenx-reference-server -p parcels-stub

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
# The hooks send a `#` of a generated path parameter encoded (schemathesis_hooks.py says why).
export PYTHONPATH="$PWD/scripts${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=schemathesis_hooks
run() { "$venv/bin/schemathesis" --config-file schemathesis.toml --no-color run "$@" --checks all --max-examples 20 --seed 1; }
status=0

echo "--- the reference server, generated/openapi.json"
port=$(free_port)
target/debug/tenx-reference-server --listen "127.0.0.1:$port" --db "$work/st.db" --demo > "$work/server.log" 2>&1 &
pids+=($!)
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
run generated/openapi.json --url "$base" -H "Authorization: Bearer $jwt" || status=1

echo "--- the Parcels stub, examples/parcels/generated/openapi.json"
port=$(free_port)
target/debug/parcels-stub --listen "127.0.0.1:$port" --json > "$work/stub.json" 2> "$work/stub.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/stub.json" ] && break; sleep 0.1; done
[ -s "$work/stub.json" ] || { cat "$work/stub.log" >&2; echo "error: the Parcels stub did not start" >&2; exit 1; }
read -r stub_url stub_jwt stub_key < <(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["baseUrl"], d["jwt"], d["pat"])' "$work/stub.json")
# Its JWT for the routes that take one, its API key for the others.
run examples/parcels/generated/openapi.json --url "$stub_url" \
  -H "Authorization: Bearer $stub_jwt" -H "X-Api-Key: $stub_key" || status=1
exit "$status"
