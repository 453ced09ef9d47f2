/** What commands print: aligned tables and `name  value` blocks for people, JSON lines for scripts. */

export interface Column<Row> {
  readonly header: string
  readonly cell: (row: Row) => string
  /**
   * The width to reserve, for a table printed a row at a time (a followed log), whose rows are not
   * known when its header is printed; a table printed at once is as wide as its longest cell.
   */
  readonly width?: number
}

const GAP = '  '

/** An absent value: a dash, so that every row has as many words as the header. */
export function orDash (value: string | number | null | undefined): string {
  return value === null || value === undefined || value === '' ? '-' : String(value)
}

/** Cells padded to `widths` (the last one is not padded: no trailing blanks). */
function line (cells: readonly string[], widths: readonly number[]): string {
  return `${cells.map((cell, index) => index === cells.length - 1 ? cell : cell.padEnd(widths[index]!)).join(GAP)}\n`
}

/** A header row and a row per item, columns as wide as their widest cell. */
export function table<Row> (columns: ReadonlyArray<Column<Row>>, rows: readonly Row[]): string {
  const cells = rows.map((row) => columns.map((column) => column.cell(row)))
  const widths = columns.map((column, index) => Math.max(column.header.length, ...cells.map((rowCells) => rowCells[index]!.length)))
  return line(columns.map((column) => column.header), widths) + cells.map((rowCells) => line(rowCells, widths)).join('')
}

/** A table printed a row at a time, in the columns' reserved widths: its header, then `row` for each. */
export function streamingTable<Row> (columns: ReadonlyArray<Column<Row>>): { header: string, row: (row: Row) => string } {
  const widths = columns.map((column) => Math.max(column.header.length, column.width ?? 0))
  return {
    header: line(columns.map((column) => column.header), widths),
    row: (row) => line(columns.map((column) => column.cell(row)), widths),
  }
}

/** `name  value` lines, names aligned: one object for people. */
export function fields (pairs: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...pairs.map(([name]) => name.length))
  return pairs.map(([name, value]) => line([name, value], [width])).join('')
}

/** One line of JSON per value (JSON Lines): a list can be read item by item, and a followed log never ends. */
export function jsonLines (values: readonly unknown[]): string {
  return values.map((value) => `${JSON.stringify(value)}\n`).join('')
}

export function print (text: string): void {
  process.stdout.write(text)
}
