/** Rows as columns padded to their widest cell, two spaces apart, without trailing blanks: for people (ls, stats). */
export function alignedTable(rows: readonly (readonly string[])[]): string {
  const columns = Math.max(0, ...rows.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}

/** Rows as tab-separated lines, cells as they are (empty ones too): for scripts that cut or awk them (create, ports, snapshots). */
export function tabSeparated(rows: readonly (readonly string[])[]): string {
  return rows.map((row) => `${row.join('\t')}\n`).join('');
}
