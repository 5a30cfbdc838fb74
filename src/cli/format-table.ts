/**
 * Rows of cells as an aligned text table under a header, two spaces between columns. The
 * last column is not padded, so that a long value there (a path, a list) never truncates
 * and lines carry no trailing blanks.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const table = [headers, ...rows];
  const widths = headers.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  return table.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')).join('\n') + '\n';
}
