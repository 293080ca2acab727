#!/usr/bin/env bash
# Property-based requests from the server's own OpenAPI document (schemathesis), against a fresh
# server: no request may get a 5xx, and every answer must match the document (status codes,
# content types, headers, bodies); credentials must be enforced and unsupported methods refused.
# The seed is fixed so a failure replays; set ST_SEED to explore others.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v st >/dev/null; then
  echo "installing schemathesis"
  pip install -q "schemathesis==4.32.5" >/dev/null
fi
source .ci/server.sh
# The stateful phase is left out: schemathesis 4.32 crashes in it on some generated URLs.
st run "$BREADCRUMB_URL/openapi.json" -H "X-API-Key: $KEY" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,ignored_auth,unsupported_method,allow_header_conformance \
  --phases examples,coverage,fuzzing -n 60 --seed "${ST_SEED:-20261203}" --no-color
if grep -q "$KEY" "$work/server.log"; then echo "the API key appeared in the server log"; exit 1; fi
