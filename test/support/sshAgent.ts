import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeDir } from './testEnv';

/**
 * An ssh-agent of the test's own, holding one new key pair: the private key
 * file is deleted once the agent has it, so the agent is the only place the
 * key lives, as with a user whose key is in their agent or keychain.
 */
export class SshAgent {
  private constructor(
    private readonly process: ChildProcess,
    private readonly dir: string,
    /** `SSH_AUTH_SOCK` for whoever should use the agent. */
    readonly socket: string,
    readonly publicKey: string,
    /** The base64 lines of the private key file, for scans that must never find them. */
    readonly privateKeyLines: readonly string[],
  ) {}

  static async start(): Promise<SshAgent> {
    const dir = makeTempDir('ssh-agent');
    const socket = join(dir, 'agent.sock');
    // -D: in the foreground, so it ends with this handle.
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    try {
      for (let attempt = 0; attempt < 50 && !existsSync(socket); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const keyFile = join(dir, 'id_ed25519');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'gitiso-test-user', '-f', keyFile]);
      const privateKeyLines = readFileSync(keyFile, 'utf8').split('\n').filter((line) => line && !line.startsWith('-----'));
      const publicKey = readFileSync(`${keyFile}.pub`, 'utf8').trim();
      execFileSync('ssh-add', ['-q', keyFile], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
      rmSync(keyFile);
      rmSync(`${keyFile}.pub`);
      return new SshAgent(agent, dir, socket, publicKey, privateKeyLines);
    } catch (error) {
      agent.kill();
      removeDir(dir);
      throw error;
    }
  }

  stop(): void {
    this.process.kill();
    removeDir(this.dir);
  }
}
