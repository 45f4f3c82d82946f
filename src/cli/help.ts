import { defaultImage } from '../core/defaults';
import { GITISO_VERSION } from '../core/version';

/** What `gitiso --help` prints (and a bare `gitiso`, with exit code 2). */
export function helpText(): string {
  return `gitiso ${GITISO_VERSION}: isolated agents (container + clone + branch) for one repository

Usage:
  gitiso create ID… --repo URL [--base BRANCH] [--image IMAGE] [--strategy S]
  gitiso create --count N [--prefix P] --repo URL …
                          create agents (concurrently): each a container with the
                          repository cloned inside it on branch gitiso/ID
  gitiso task PROMPT --repo URL [--agent PRESET] [--count N] [--base BRANCH]
  gitiso task PROMPT --on ID [--on ID…] [--agent PRESET]
                          a coding agent (claude-code, codex, gemini, aider, or one of
                          GITISO_CODING_AGENTS) works on PROMPT in N new agents, or in
                          the given ones, each in a tmux session that outlives this
                          command (Open Terminal in VS Code attaches to it)
  gitiso ls [--json] [--all-engines]
                          list agents (rebuilt from the Docker engine); --all-engines:
                          every engine's, with an ENGINE column
  gitiso git ID -- ARGS…  run git ARGS… in the agent's clone; exits with git's code
  gitiso rm ID…           remove agents and everything they own
  gitiso sync ID…         bring the remote's new commits into agents (origin/BASE)
  gitiso changes ID [--json]
                          the files the agent changed against its base (committed and
                          uncommitted), read from the host's pool
  gitiso push ID [--to BRANCH] [--force-with-lease]
                          push the agent's branch from the host, with the host's
                          credentials (default: to its session branch gitiso/ID)
  gitiso fetch ID         the agent's branch into this folder's repository as gitiso/ID
  gitiso checkout ID      ... checked out as a local branch gitiso/ID
  gitiso merge ID         ... merged into the current branch
  gitiso apply ID         its changes (committed and uncommitted) as uncommitted changes here
  gitiso ports ID         the TCP ports the agent's processes listen on
  gitiso forward ID PORT  forward the agent's PORT to 127.0.0.1 until Ctrl-C
  gitiso dev start|stop|restart|status|logs ID
                          the agent's dev server (the dev command of .gitiso.json,
                          else npm run dev, else npm start) with PORT set; start
                          --forward waits for its port and forwards it until Ctrl-C;
                          logs --follow streams the log until Ctrl-C
  gitiso snapshots [--prune]
                          list snapshot images; --prune removes those no agent uses
  gitiso limits ID [--memory M] [--cpus N] [--pids N]
                          change a running agent's limits in place
  gitiso stats [--json] [--watch] [--all-engines]
                          CPU, memory / limit, processes, network, disk of running agents
                          (--all-engines: every engine's, with an ENGINE column)
  gitiso doctor [--fix] [--repo URL] [--json]
                          what crashes left: snapshot builders and half-made agents
                          whose creator ended, unused snapshots, temporary files,
                          stale pool locks; --fix removes them

Options:
  --docker-host URL       Docker engine: unix:///path, tcp://host:port, ssh://user@host
                          (default: DOCKER_HOST, else the local socket)
  --engine NAME           an engine by name: 'local', one of GITISO_ENGINES (JSON, as the
                          gitiso.engines setting) or a Docker context; without it, a command
                          on one agent works on the engine that has that agent
  --ssh-config FILE       ssh config file for ssh:// engines (default: ~/.ssh/config)
  --network NAME          Docker network agents join (default: GITISO_NETWORK, else gitiso's own,
                          where agents cannot reach each other; host, none, container:… and bridge are refused)
  --strategy S            snapshot (default: the clone is a shared image layer made
                          once per base commit), pool (clone --shared from the host's
                          pool, mounted read-only: local engines) or remote (clone
                          from the remote in the container)
  --depth N, --filter F   with --strategy remote: shallow or partial clone
  --copy-from DIR         where the setup's files to copy (.env…) are read from
                          (default: the current folder)
  --trust-setup           allow what the repository's .gitiso.json asks: its install
                          and its files to copy from --copy-from (without it, a create
                          whose repository asks for them fails and says what they are)
  --memory M, --cpus N, --pids N
                          each new agent's limits (default 2g, 2, 512); the agent is
                          told them (GITISO_CPUS, GITISO_MEMORY_BYTES, /etc/gitiso/budget.json)
  --install-timeout S     how long a repository's install may run (default 600)
  --force                 create even when the agents' memory limits, with those of
                          running agents, exceed the engine's memory
  --verbose               log what gitiso does to stderr
  -h, --help              show this help
  -v, --version           show the version

Environment: DOCKER_HOST, GITISO_IMAGE (default image: ${defaultImage()}), GITISO_NETWORK,
GITISO_HOME (where the object pool lives; default ~/.cache/gitiso), GITISO_CODING_AGENT (the
preset task runs; default claude-code), GITISO_CODING_AGENTS (your own presets, as JSON: the
gitiso.codingAgents setting's format), GITISO_API_PROXY_PORT (the API key proxy's port;
default 41597), GITISO_API_CA and NODE_EXTRA_CA_CERTS (PEM files of certificate authorities
the proxy trusts besides Node's). A task's coding agent gets a token of its own; its API key is read here, from the
variable its tool reads (ANTHROPIC_API_KEY…), and added by the proxy.
`;
}
