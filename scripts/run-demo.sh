#!/usr/bin/env bash
# Runs gitiso on this machine with nothing set up beforehand: starts a Docker
# engine where none answers, builds and packages the extension, builds a local
# agent image, serves a small demo repository from a git server container, and
# opens a real VS Code (code-server on 127.0.0.1) with gitiso installed from the
# fresh .vsix and a clone of the demo repository as its workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-docker.sh
[ -d node_modules ] || npm ci
npm run package --silent >/dev/null
image=$(bash scripts/build-test-image.sh | tail -1)

network=gitiso-demo-net
server=gitiso-demo-git
repos="${GITISO_CACHE:-$HOME/.cache/gitiso}/demo-repos"
docker network inspect "$network" >/dev/null 2>&1 || docker network create "$network" >/dev/null
if [ ! -d "$repos/demo.git" ]; then
  work=$(mktemp -d)
  git -C "$work" init -q -b main
  printf '# demo\n\nA small repository for trying gitiso.\n' >"$work/README.md"
  printf 'console.log("hello from the demo");\n' >"$work/index.js"
  git -C "$work" add -A
  git -C "$work" -c user.name=gitiso -c user.email=demo@gitiso.invalid commit -q -m "demo: first commit"
  git -C "$work" checkout -q -b feature
  printf 'export const feature = true;\n' >"$work/feature.js"
  git -C "$work" add -A
  git -C "$work" -c user.name=gitiso -c user.email=demo@gitiso.invalid commit -q -m "demo: a feature"
  git -C "$work" checkout -q main
  mkdir -p "$repos"
  git clone -q --bare "$work" "$repos/demo.git"
  rm -rf "$work"
fi
if [ "$(docker inspect -f '{{.State.Running}}' "$server" 2>/dev/null)" != true ]; then
  docker rm -f "$server" >/dev/null 2>&1 || true
  docker run -d --name "$server" --init --network "$network" -v "$repos:/srv/git" "$image" \
    git daemon --reuseaddr --export-all --enable=receive-pack --base-path=/srv/git /srv/git >/dev/null
  sleep 1
fi
address=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$network\").IPAddress}}" "$server")
url="git://$address/demo.git"

workspace="${GITISO_CACHE:-$HOME/.cache/gitiso}/demo-workspace"
rm -rf "$workspace"
git clone -q "$url" "$workspace"

echo "demo repository: $url (cloned into $workspace)"
echo "CLI: GITISO_IMAGE=$image GITISO_NETWORK=$network node dist/cli.js --help"
exec node scripts/vscode/serve.mjs --workspace "$workspace" --image "$image" --network "$network"
