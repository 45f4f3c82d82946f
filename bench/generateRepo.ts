import { spawnSync } from 'node:child_process';

export interface RepoShape {
  readonly files: number;
  readonly commits: number;
}

/**
 * Writes a deterministic repository with `git fast-import`: the first commit
 * adds every file (source-like text, a few hundred bytes each, in nested
 * folders), each later commit changes three of them. One process, so even
 * 50,000 files and 2,000 commits take seconds. Same shape in, same commits out.
 */
export function generateRepo(bareDir: string, shape: RepoShape): void {
  spawnSync('git', ['init', '-q', '--bare', '-b', 'main', bareDir], { stdio: 'ignore' });
  const chunks: string[] = [];
  const time = 1_700_000_000;
  const data = (text: string): string => `data ${Buffer.byteLength(text)}\n${text}\n`;
  const path = (n: number): string => `src/m${Math.floor(n / 1000)}/d${Math.floor(n / 50) % 20}/file${n}.ts`;
  const content = (n: number, version: number): string =>
    `// file ${n}, version ${version}\nexport function f${n}(x: number): number {\n` + `  return x * ${n} + ${version};\n}\n`.repeat(1 + (n % 7)) + '// ' + 'lorem ipsum dolor sit amet '.repeat(4 + (n % 5)) + '\n';
  for (let commit = 0; commit < shape.commits; commit++) {
    chunks.push('commit refs/heads/main\n', `committer Bench <bench@example.com> ${time + commit * 60} +0000\n`, data(`commit ${commit}`));
    const touched = commit === 0 ? Array.from({ length: shape.files }, (_, n) => n) : [0, 1, 2].map((k) => (commit * 7919 + k * 104729) % shape.files);
    for (const n of touched) {
      chunks.push(`M 100644 inline ${path(n)}\n`, data(content(n, commit)));
    }
    chunks.push('\n');
  }
  const result = spawnSync('git', ['fast-import', '--quiet'], { cwd: bareDir, input: chunks.join(''), maxBuffer: 1 << 30 });
  if (result.status !== 0) {
    throw new Error(`git fast-import failed: ${result.stderr.toString()}`);
  }
  spawnSync('git', ['repack', '-adq'], { cwd: bareDir, stdio: 'ignore' });
}
