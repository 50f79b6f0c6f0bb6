/**
 * Aligns tab-separated cells as Go's text/tabwriter does with the settings Velero's
 * describers use (`Init(buf, 0, 8, 2, ' ', 0)`: minimum width 0, padding 2, spaces):
 * a cell is text ended by a tab, the text after a line's last tab is not a cell, and a
 * column is aligned over a block of consecutive lines that all have a cell in it, so
 * an empty line or a line without tabs ends every block. Widths count UTF-16 code
 * units (the texts shown are ASCII).
 */
export function alignTabs(text: string, padding = 2): string {
  const lines = text.split('\n').map((line) => line.split('\t'));
  const widths: number[][] = lines.map(() => []);
  const format = (line0: number, line1: number, column: number): void => {
    for (let line = line0; line < line1; line++) {
      if (column >= lines[line]!.length - 1) continue;
      const start = line;
      let width = 0;
      for (; line < line1 && column < lines[line]!.length - 1; line++) {
        width = Math.max(width, lines[line]![column]!.length + padding);
      }
      for (let i = start; i < line; i++) widths[i]![column] = width;
      format(start, line, column + 1);
    }
  };
  format(0, lines.length, 0);
  return lines
    .map((cells, i) => cells.map((cell, column) => (column < cells.length - 1 ? cell.padEnd(widths[i]![column]!) : cell)).join(''))
    .join('\n');
}
