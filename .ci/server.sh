# Sourced by the CI steps that need a running server: builds the example server, starts it on a
# free port from an empty data directory with a known API key, waits until it is ready, and stops
# it (and removes its files) when the calling script exits. Sets KEY, BREADCRUMB_URL, work, pid.
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
export KEY="bc_ci_$(date +%s%N)"
export BREADCRUMB_URL="http://127.0.0.1:$port"
cargo build -q --example server
BREADCRUMB_ADDR="127.0.0.1:$port" BREADCRUMB_DATA_DIR="$work/data" BREADCRUMB_BOOTSTRAP_API_KEY="$KEY" \
  target/debug/examples/server > "$work/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 60); do curl -sf "$BREADCRUMB_URL/readyz" >/dev/null && break; sleep 0.5; done
curl -sf "$BREADCRUMB_URL/readyz" >/dev/null || { cat "$work/server.log"; echo "the server did not start" >&2; exit 1; }
