import * as assert from 'node:assert/strict';
import { after, before } from 'mocha';
import * as vscode from 'vscode';
import type { GitisoApi } from '../../src/extension';
import { Engine } from '../../src/core/docker/engine';
import { GitServer } from '../support/gitServer';
import { removeAgents, testImage } from '../support/testEnv';

/** What an extension-host suite that makes agents works with. */
export interface GitisoSuite {
  /** gitiso, activated in this window. */
  readonly api: GitisoApi;
  readonly engine: Engine;
  /** A git server (git daemon in a container) serving the suite's repositories. */
  readonly server: GitServer;
}

export interface GitisoSuiteOptions {
  /** The suite's agents' ids start with it: they are removed after its tests. */
  readonly prefix: string;
  /** The repositories the server serves from the start: name → files. */
  readonly repos?: Readonly<Record<string, Record<string, string | Buffer>>>;
}

/**
 * The set-up the suites that make agents share, registered as the calling
 * `describe`'s hooks: before its tests gitiso is activated, an engine and a git
 * server are started and the repositories made; after them the suite's agents
 * are removed and the server stopped. Its parts can be read from the tests on.
 */
export function gitisoSuite(options: GitisoSuiteOptions): GitisoSuite {
  let parts: GitisoSuite | undefined;
  let engine: Engine | undefined;
  let server: GitServer | undefined;
  before(async () => {
    const extension = vscode.extensions.getExtension<GitisoApi>('gitiso.gitiso');
    assert.ok(extension, 'gitiso is not installed in this VS Code');
    const api = await extension.activate();
    engine = new Engine();
    server = await GitServer.start(engine, testImage());
    for (const [name, files] of Object.entries(options.repos ?? {})) {
      server.createRepo(name, files);
    }
    parts = { api, engine, server };
  });
  after(async () => {
    if (engine) {
      await removeAgents(engine, options.prefix);
    }
    await server?.stop();
  });
  const ready = (): GitisoSuite => {
    if (!parts) {
      throw new Error('the suite\'s set-up has not run (or failed): read its parts from the tests and hooks only');
    }
    return parts;
  };
  return {
    get api() {
      return ready().api;
    },
    get engine() {
      return ready().engine;
    },
    get server() {
      return ready().server;
    },
  };
}
