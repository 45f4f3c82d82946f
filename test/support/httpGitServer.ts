import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../src/core/docker/engine';
import { branchCommitOf, commitToBareRepo, freePort, seedBareRepo } from './gitServer';
import { ensureNetwork, git, makeTempDir, removeDir, TEST_LABEL } from './testEnv';

const USER = 'gitiso-test';
const MODULES = ['mpm_prefork', 'authn_core', 'authn_file', 'authz_core', 'authz_user', 'auth_basic', 'alias', 'cgi', 'env'];

/**
 * A real git server behind a login for the tests: Debian's apache2 running
 * git-http-backend (smart HTTP), basic auth from an htpasswd file, pushes for
 * the logged-in user, 401 for anyone else. Plain http, no TLS: what is tested
 * is the login, and the host's git hands a credential helper's answer to
 * http and https alike. Like GitServer it runs on the host's network and
 * listens on the agents' network's gateway only.
 */
export class HttpGitServer {
  readonly namespace = `gitiso-test-${randomBytes(4).toString('hex')}`;
  readonly user = USER;

  private constructor(
    private readonly engine: Engine,
    private readonly dirs: { readonly root: string; readonly conf: string },
    private readonly run: { readonly containerId: string; readonly address: string; readonly password: string; readonly htpasswdLine: string },
  ) {}

  static async start(engine: Engine, image: string): Promise<HttpGitServer> {
    const gateway = await ensureNetwork(engine);
    const address = `${gateway}:${await freePort(gateway)}`;
    const dirs = { root: makeTempDir('http-git-root'), conf: makeTempDir('http-git-conf') };
    // apache's children run as www-data: the repositories must be theirs to write, the htpasswd file theirs to read.
    chmodSync(dirs.root, 0o777);
    chmodSync(dirs.conf, 0o755);
    // Random per run, so a scan for it means something.
    const password = randomBytes(18).toString('base64url');
    const htpasswdLine = `${USER}:${execFileSync('openssl', ['passwd', '-apr1', '-stdin'], { input: password, encoding: 'utf8' }).trim()}`;
    writeFileSync(join(dirs.conf, 'htpasswd'), `${htpasswdLine}\n`, { mode: 0o644 });
    writeFileSync(join(dirs.conf, 'httpd.conf'), apacheConfig(address));
    const containerId = await engine.createContainer({
      Image: image,
      Cmd: ['apache2', '-f', '/etc/gitiso-httpd/httpd.conf', '-DFOREGROUND'],
      Labels: { [TEST_LABEL]: 'http-git-server' },
      HostConfig: { Init: true, NetworkMode: 'host', Binds: [`${dirs.root}:/srv/git`, `${dirs.conf}:/etc/gitiso-httpd:ro`] },
    });
    const server = new HttpGitServer(engine, dirs, { containerId, address, password, htpasswdLine });
    try {
      await engine.startContainer(containerId);
      await server.waitUntilListening();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** The user's password: random per run. */
  get password(): string {
    return this.run.password;
  }

  get containerId(): string {
    return this.run.containerId;
  }

  /** `<gateway>:<port>`. */
  get address(): string {
    return this.run.address;
  }

  /** The line of the server's htpasswd file (user and password hash): the scans look for it too. */
  get htpasswdLine(): string {
    return this.run.htpasswdLine;
  }

  /** URL of a repository, without credentials, as a user would give it. */
  url(name: string): string {
    return `http://${this.address}/git/${this.namespace}/${name}.git`;
  }

  /** The line `git credential-store` keeps for this server. */
  credentialLine(): string {
    return `http://${encodeURIComponent(this.user)}:${encodeURIComponent(this.password)}@${this.address}`;
  }

  barePath(name: string): string {
    return join(this.dirs.root, this.namespace, `${name}.git`);
  }

  createRepo(name: string, files: Record<string, string | Buffer> = {}): { main: string; feature: string } {
    const commits = seedBareRepo(this.barePath(name), files);
    this.shareWithServer(name);
    return commits;
  }

  /** A new commit on `branch`, as another user's push would make it. */
  commit(name: string, change: { readonly branch: string; readonly files: Record<string, string>; readonly message: string }): string {
    const commit = commitToBareRepo(this.barePath(name), change);
    this.shareWithServer(name);
    return commit;
  }

  branchCommit(name: string, branch: string): string | undefined {
    return branchCommitOf(this.barePath(name), branch);
  }

  async stop(): Promise<void> {
    await this.engine.removeContainer(this.run.containerId);
    removeDir(this.dirs.root);
    removeDir(this.dirs.conf);
  }

  /** Made by the host's root: everyone may write, and what git adds later stays so (core.sharedRepository). */
  private shareWithServer(name: string): void {
    git(this.barePath(name), 'config', 'core.sharedRepository', '0666');
    execFileSync('chmod', ['-R', 'a+rwX', join(this.dirs.root, this.namespace)]);
  }

  /** Until apache answers; anonymous requests get 401. */
  private async waitUntilListening(): Promise<void> {
    let last = '';
    for (let attempt = 0; attempt < 100; attempt++) {
      try {
        const response = await fetch(`http://${this.address}/git/`);
        if (response.status === 401) {
          return;
        }
        last = `HTTP ${response.status}`;
      } catch (error) {
        last = String(error);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const info = await this.engine.inspectContainer(this.run.containerId);
    throw new Error(`apache did not answer with 401 (${last}; container ${info?.State.Status})`);
  }
}

/** apache's whole configuration: only the modules git-http-backend and basic auth need, nothing of Debian's defaults. */
function apacheConfig(address: string): string {
  return [
    'ServerName gitiso-test',
    'ServerRoot /etc/apache2',
    `Listen ${address}`,
    ...MODULES.map((name) => `LoadModule ${name}_module /usr/lib/apache2/modules/mod_${name}.so`),
    'User www-data',
    'Group www-data',
    'PidFile /run/gitiso-httpd.pid',
    'DefaultRuntimeDir /run',
    'ErrorLog /proc/self/fd/2',
    'LogLevel warn',
    'SetEnv GIT_PROJECT_ROOT /srv/git',
    'SetEnv GIT_HTTP_EXPORT_ALL 1',
    // The repositories belong to the host's root, git-http-backend runs as www-data.
    'SetEnv GIT_CONFIG_COUNT 1',
    'SetEnv GIT_CONFIG_KEY_0 safe.directory',
    'SetEnv GIT_CONFIG_VALUE_0 *',
    'ScriptAlias /git/ /usr/lib/git-core/git-http-backend/',
    '<Location "/git/">',
    '  AuthType Basic',
    '  AuthName "gitiso test"',
    '  AuthBasicProvider file',
    '  AuthUserFile /etc/gitiso-httpd/htpasswd',
    '  Require valid-user',
    '</Location>',
    '',
  ].join('\n');
}
