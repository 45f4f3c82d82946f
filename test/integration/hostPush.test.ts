import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { PushFailedError, RemoteLoginError } from '../../src/core/errors';
import { pushFromHost } from '../../src/core/roundTrip/hostPush';
import { git, makeTempDir, removeDir } from '../support/testEnv';

/** A push from the host never prompts: a remote that wants a login it lacks is a clear error that says what to set up. */
describe('pushFromHost against remotes that refuse', () => {
  let repo: string;
  let server: Server;
  let port = 0;
  let requests = 0;

  before(async () => {
    repo = makeTempDir('host-push');
    git(repo, 'init', '-q', '--bare');
    const work = makeTempDir('host-push-work');
    git(work, 'init', '-q');
    git(work, 'commit', '-q', '--allow-empty', '-m', 'work');
    git(work, 'push', '-q', repo, 'HEAD:refs/gitiso/a1/head');
    removeDir(work);
    // A smart-HTTP remote that wants a login for everything.
    server = createServer((_request, response) => {
      requests++;
      response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="gitiso test"' }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(() => {
    server?.close();
    removeDir(repo);
  });

  const target = { branch: 'gitiso/a1', commit: 'a'.repeat(40), id: 'a1' };

  it('turns a missing HTTPS credential into a RemoteLoginError that says how to give the host one, without hanging', async () => {
    const started = Date.now();
    await assert.rejects(
      pushFromHost({ repoPath: repo, url: `http://127.0.0.1:${port}/r.git`, source: 'refs/gitiso/a1/head', target }),
      (error: unknown) => error instanceof RemoteLoginError && /credential helper/.test(error.message) && /never prompts/.test(error.message),
    );
    assert.ok(requests > 0, 'git never asked the server');
    assert.ok(Date.now() - started < 10_000, 'the push waited for a prompt');
  });

  it('reports a remote that does not answer as a PushFailedError, not a login', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(
      pushFromHost({ repoPath: repo, url: `http://127.0.0.1:${closedPort}/r.git`, source: 'refs/gitiso/a1/head', target }),
      (error: unknown) => error instanceof PushFailedError && /could not push agent 'a1''s branch/.test(error.message),
    );
  });
});
