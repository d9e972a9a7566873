#!/usr/bin/env bash
# Feeds generated/openapi.json to an independent client generator (openapi-python-client,
# from PyPI) and byte-compiles what it produces: proof that the ecosystem's tools can
# consume our export. Needs the PyPI registry, so it is not part of the default test run.
#
# Usage: scripts/second-generator.sh            (output in target/second-generator/)
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/second-generator/venv
out=target/second-generator/client
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check openapi-python-client ruff
rm -rf "$out"
PATH="$PWD/$venv/bin:$PATH" "$venv/bin/openapi-python-client" generate --path generated/openapi.json --output-path "$out" --meta none 2>&1 | tee target/second-generator/log.txt
"$venv/bin/python" -m compileall -q "$out"
modules=$(find "$out/api" -name '*.py' ! -name '__init__.py' | wc -l)
models=$(find "$out/models" -name '*.py' ! -name '__init__.py' | wc -l)
echo "openapi-python-client: ${modules} operation modules, ${models} model modules, all byte-compiled"
