#!/usr/bin/env bash
# npm run bench: starts an engine if needed, builds, builds the agent image,
# then measures (bench/bench.ts). BENCH_REPO=<url> adds a repository of yours;
# BENCH_REPS sets the repetitions (default 5); BENCH_SMOKE=1 runs a tiny version.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-docker.sh >&2
[ -d node_modules ] || npm ci
npm run compile --silent
GITISO_TEST_IMAGE=$(bash scripts/build-test-image.sh | tail -1)
export GITISO_TEST_IMAGE
docker network inspect gitiso-test-net >/dev/null 2>&1 || docker network create gitiso-test-net >/dev/null
exec node out/bench/bench.js
