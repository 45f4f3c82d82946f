#!/usr/bin/env bash
# npm run bench:forward: starts an engine if needed, builds, builds the test
# image, then measures the port forwarder against direct access to a container
# (bench/forwardBench.ts). BENCH_REPS sets the rounds (default 3),
# BENCH_FORWARD_SECONDS each round's length (default 5); BENCH_SMOKE=1 runs a tiny version.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-docker.sh >&2
[ -d node_modules ] || npm ci
npm run compile --silent
GITISO_TEST_IMAGE=$(bash scripts/build-test-image.sh | tail -1)
export GITISO_TEST_IMAGE
docker network inspect gitiso-test-net >/dev/null 2>&1 || docker network create gitiso-test-net >/dev/null
exec node out/bench/forwardBench.js
