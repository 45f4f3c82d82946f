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
# The demo repository is scripts/demo-repo (a small web app with a .gitiso.json),
# remade when that folder changes.
recipe=$(cd scripts/demo-repo && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)
if [ ! -d "$repos/demo.git" ] || [ "$(cat "$repos/demo.recipe" 2>/dev/null)" != "$recipe" ]; then
  work=$(mktemp -d)
  git -C "$work" init -q -b main
  cp -R scripts/demo-repo/. "$work/"
  git -C "$work" add -A
  git -C "$work" -c user.name=gitiso -c user.email=demo@gitiso.invalid commit -q -m "demo: a small web app"
  git -C "$work" checkout -q -b feature
  sed -i 's/Hello from the demo/Hello from the feature branch/' "$work/index.html"
  git -C "$work" add -A
  git -C "$work" -c user.name=gitiso -c user.email=demo@gitiso.invalid commit -q -m "demo: a feature"
  git -C "$work" checkout -q main
  mkdir -p "$repos"
  rm -rf "$repos/demo.git"
  git clone -q --bare "$work" "$repos/demo.git"
  echo "$recipe" >"$repos/demo.recipe"
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
