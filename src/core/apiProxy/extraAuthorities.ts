import { readFileSync } from 'node:fs';
import { InvalidInputError } from '../errors';

/**
 * Certificate authorities the key proxy trusts besides Node's own, from the
 * environment: GITISO_API_CA, and NODE_EXTRA_CA_CERTS (which Node adds to
 * its default store, and which the proxy's own secure context would leave
 * out). A company's TLS-inspecting proxy is the usual reason. A file that
 * cannot be read is said, naming the variable.
 */
export function extraAuthorities(env: NodeJS.ProcessEnv = process.env): string[] {
  const authorities: string[] = [];
  for (const name of ['GITISO_API_CA', 'NODE_EXTRA_CA_CERTS']) {
    const path = env[name];
    if (!path) {
      continue;
    }
    try {
      authorities.push(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new InvalidInputError(`${name} names ${path}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}): fix or unset it`);
    }
  }
  return authorities;
}
