#!/usr/bin/env bash
# Runs gitiso on this machine with nothing set up beforehand: starts a Docker
# engine where none answers, builds the CLI and a local agent image, serves a
# small demo repository from a git server container, and creates an agent.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-docker.sh
[ -d node_modules ] || npm ci
npm run build --silent
image=$(bash scripts/build-test-image.sh | tail -1)

network=gitiso-demo-net
server=gitiso-demo-git
docker network inspect "$network" >/dev/null 2>&1 || docker network create "$network" >/dev/null
if ! docker inspect "$server" >/dev/null 2>&1; then
  repos=$(mktemp -d /tmp/gitiso-demo-repos.XXXXXX)
  work=$(mktemp -d)
  git -C "$work" init -q -b main
  printf '# demo\n\nA small repository for trying gitiso.\n' >"$work/README.md"
  printf 'console.log("hello from the demo");\n' >"$work/index.js"
  git -C "$work" add -A
  git -C "$work" -c user.name=gitiso -c user.email=demo@gitiso.invalid commit -q -m "demo: first commit"
  git clone -q --bare "$work" "$repos/demo.git"
  rm -rf "$work"
  docker run -d --name "$server" --init --network "$network" -v "$repos:/srv/git" "$image" \
    git daemon --reuseaddr --export-all --enable=receive-pack --base-path=/srv/git /srv/git >/dev/null
  sleep 1
fi
address=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$network\").IPAddress}}" "$server")
url="git://$address/demo.git"

export GITISO_IMAGE="$image" GITISO_NETWORK="$network"
gitiso() { node dist/cli.js "$@"; }
id="demo-$(date +%H%M%S)"
echo "creating agent $id from $url"
gitiso create "$id" --repo "$url"
gitiso ls
echo
echo "git log in the agent:"
gitiso git "$id" -- log --oneline --decorate
cat <<EOT

The agent '$id' is running. Try:
  GITISO_IMAGE=$image GITISO_NETWORK=$network node dist/cli.js git $id -- status
  node dist/cli.js rm $id
EOT
