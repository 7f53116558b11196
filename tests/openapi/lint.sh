#!/usr/bin/env bash
# Lints every service's OpenAPI document (services/*/openapi.json) with Redocly's recommended rules, as
# configured in tests/openapi/redocly.yaml: an error fails. The drift between documents and routes is
# openapi_test's.
# Node comes from Debian (nodejs, npm) when this machine has no npx yet; @redocly/cli from npm's registry.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v npx >/dev/null 2>&1; then
    sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm >/dev/null
fi
cd "$root"
npx --yes @redocly/cli@1.34.20 lint --config tests/openapi/redocly.yaml --format=stylish services/*/openapi.json
