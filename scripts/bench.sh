#!/usr/bin/env bash
# npm run bench[:forward|:stats|:network]: starts an engine if needed, builds, builds the
# test image, then runs one benchmark:
#   create  (default) gitiso against the usual ways, then bringing an agent's work home
#           against a plain git fetch (bench/bench.ts). BENCH_REPO=<url> adds a
#           repository of yours; BENCH_REPO=<path> one on this machine (a working tree
#           or a bare repository: its branches and tags are copied into the bench's git
#           server and served from there, like the generated ones); BENCH_REPS sets the repetitions (default 5);
#           BENCH_ONLY=first|create|roundtrip|forward|status|memory|tree runs one part (first: the
#           first agent of a repository never seen, by step, against a naive clone; tree: 100
#           agents in code-server, the complete tree and a row after an engine event).
#   roundtrip only the bring-home part (bench/roundTripBench.ts).
#   forward the ways of forwarding a dev port (engine-published, relays) against direct
#           access (bench/forwardBench.ts), also part of the default run;
#           BENCH_REPS rounds (default 3) of BENCH_FORWARD_SECONDS (default 3).
#   stats   what keeping 1, 10, 20 agents' stats current costs (bench/statsBench.ts);
#           BENCH_STATS_SECONDS per window (default 60).
#   soak    SOAK_AGENTS workers (default 20) repeating create, git, dev server, remove
#           with random cancellations and kills for SOAK_SECONDS (default 480), then
#           counting leftovers and comparing memory (bench/soak.ts).
#   apiproxy what the API proxy adds to an agent's API calls against direct access: time to
#           first byte and streamed throughput, and its CPU time (bench/apiProxyBench.ts; no engine).
#   engines an agent on an SSH engine (the test set-up's second dockerd behind sshd) against one
#           on the local engine: create, git status, forward first byte and download
#           (bench/enginesBench.ts); BENCH_REPS (default 5).
#   network what isolating agents costs at create time: one ICC-off network against
#           a network per agent (bench/networkBench.ts); BENCH_REPS (default 10).
# BENCH_SMOKE=1 runs a tiny version of any of them.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-create}" in
  create) entry=out/bench/bench.js; npm run build --silent ;; # the tree part runs the built extension
  roundtrip) entry=out/bench/bench.js; export BENCH_ONLY=roundtrip ;;
  forward) entry=out/bench/bench.js; export BENCH_ONLY=forward ;;
  stats) entry=out/bench/statsBench.js ;;
  soak) entry=out/bench/soak.js; npm run build --silent ;;
  network) entry=out/bench/networkBench.js ;;
  engines) entry=out/bench/enginesBench.js ;;
  apiproxy) npm run compile --silent; exec node out/bench/apiProxyBench.js ;;
  *) echo "usage: scripts/bench.sh [create|roundtrip|forward|stats|network|engines|soak|apiproxy]" >&2; exit 2 ;;
esac
bash scripts/ensure-docker.sh >&2
[ -d node_modules ] || npm ci
npm run compile --silent
GITISO_TEST_IMAGE=$(bash scripts/build-test-image.sh | tail -1)
export GITISO_TEST_IMAGE
if [ "${1:-create}" = engines ]; then
  # The second engine and the SSH engine in front of it, as the tests have them.
  export $(bash scripts/ensure-second-engine.sh | grep =)
fi
exec node "$entry"
