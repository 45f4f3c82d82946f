import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A certificate authority made for one test run, and a server certificate it signed. */
export interface TestCertificates {
  /** The authority's certificate (PEM): what the proxy is told to trust. */
  readonly ca: string;
  readonly serverKey: string;
  readonly serverCert: string;
}

/**
 * Makes a fresh authority and a certificate for `localhost` and 127.0.0.1 with
 * the host's openssl, into `dir` (a temporary folder the test removes).
 */
export function makeTestCertificates(dir: string): TestCertificates {
  const file = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.pem'),
    '-days', '2', '-subj', '/CN=gitiso test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=localhost');
  const extensions = file('server.ext');
  execFileSync('bash', ['-c', `printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > "$1"`, '_', extensions]);
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('server.pem'), '-days', '2', '-extfile', extensions);
  return { ca: readFileSync(file('ca.pem'), 'utf8'), serverKey: readFileSync(file('server.key'), 'utf8'), serverCert: readFileSync(file('server.pem'), 'utf8') };
}
