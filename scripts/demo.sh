#!/usr/bin/env bash
# Command 1 of README.md: installs what is missing, starts the demo fleet of origins
# on loopback and runs edgecheck in `wrangler dev` (workerd) against it with the
# shipped demo config, edgecheck.toml. Ctrl-C stops both.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
unset EDGECHECK_CONFIG   # the demo runs the shipped edgecheck.toml
export WRANGLER_SEND_METRICS=false

cargo build --quiet -p demo-origins --bin demo_origins
# The demo fleet: the origins of edgecheck.toml, one health format each.
./target/debug/demo_origins --control 127.0.0.1:9100 \
  api-use1-a=spring@9101 api-use1-b=hassette@9102 api-use1-c=require-token@9103 \
  search-euw1-a=elasticsearch@9104 web-euw1-a=aspnet@9105 api-euw1-b=terminus@9106 \
  ai-aps1-a=smallest@9107 jobs-aps1-a=system-check@9108 vm-aps1-a=hatch@9109 \
  edge-aps1-a=plain@9110 >/dev/null &
fleet=$!
trap 'kill "$fleet" 2>/dev/null || true' EXIT INT TERM
sleep 0.5
kill -0 "$fleet" 2>/dev/null || { echo "demo: the demo fleet did not start (ports 9100-9110 busy?)" >&2; exit 1; }

cat <<'MSG'

edgecheck demo: 10 origins in 3 regions on 127.0.0.1:9101-9110, control on :9100.
Once wrangler says "Ready on http://127.0.0.1:8787", try:

  curl -i http://127.0.0.1:8787/live
  curl -i http://127.0.0.1:8787/ready
  curl -i http://127.0.0.1:8787/ready/us-east
  curl -s http://127.0.0.1:8787/health
  curl -s http://127.0.0.1:8787/health/api-use1-a
  curl -s http://127.0.0.1:8787/history

The monitor probes every 5 s; a status moves after 2 good (rise) or 3 bad
(fall) probes in a row, so a killed origin shows as down within about 15 s
(its probe_status and reason change at the next round). Make an origin fail, then watch (modes: demo_origins --help):

  curl -X POST http://127.0.0.1:9100/origins/api-use1-a/mode/refuse   # killed: connect_error
  curl -X POST http://127.0.0.1:9100/origins/api-use1-b/mode/hang     # hangs: timeout
  curl -X POST http://127.0.0.1:9100/origins/search-euw1-a/mode/elasticsearch-red
  curl -X POST http://127.0.0.1:9100/origins/web-euw1-a/mode/fail-from-apac        # one vantage of three: stays up, failing_from
  curl -X POST http://127.0.0.1:9100/origins/web-euw1-a/mode/fail-from-apac+weur   # two of three: down
  curl -X POST http://127.0.0.1:9100/origins/api-use1-a/mode/spring   # back to healthy
  curl -s http://127.0.0.1:9100/origins                                # modes and hit counts

MSG
npx wrangler dev
