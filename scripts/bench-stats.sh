#!/usr/bin/env bash
# npm run bench:stats: starts an engine if needed, builds, builds the test
# image, then measures what keeping 1, 10 and 20 agents' stats current costs
# in CPU, in gitiso's process and in the engine's (bench/statsBench.ts).
# BENCH_STATS_SECONDS sets each window's length (default 60); BENCH_SMOKE=1
# runs a tiny version (5 s windows, 1 and 2 agents).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-docker.sh >&2
[ -d node_modules ] || npm ci
npm run compile --silent
GITISO_TEST_IMAGE=$(bash scripts/build-test-image.sh | tail -1)
export GITISO_TEST_IMAGE
docker network inspect gitiso-test-net >/dev/null 2>&1 || docker network create gitiso-test-net >/dev/null
exec node out/bench/statsBench.js
