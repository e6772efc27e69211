/** Positions of key paths without the YAML parser: what cached runbooks carry (src/runbook/cache.ts). */

export interface Position {
  line: number;
  column: number;
}

/** What says where a key path is: a parsed file, or a table made from one (cached runbooks). */
export interface PositionSource {
  positionOf(path: ReadonlyArray<PropertyKey>, key?: string): Position;
}

/** JSON of a path, `#key` appended for a key's own position: the keys of a PositionTable. */
export type PositionTable = Record<string, [line: number, column: number]>;

export const pathKey = (path: ReadonlyArray<PropertyKey>) => JSON.stringify(path.map((p) => (typeof p === 'symbol' ? String(p) : p)));

/** positionOf over a table, with the same answers as the YamlSource it was made from. */
export function tableSource(table: PositionTable): PositionSource {
  return {
    positionOf(path, key) {
      let reached: PropertyKey[] = [];
      let at = table[pathKey(reached)] ?? [1, 1];
      for (const part of path) {
        let next = [...reached, part];
        let pos = table[pathKey(next)];
        // yaml's seq.get reads "0" as index 0
        if (!pos && typeof part === 'string' && /^\d+$/.test(part)) pos = table[pathKey((next = [...reached, Number(part)]))];
        if (!pos) break;
        [reached, at] = [next, pos];
      }
      if (key !== undefined) at = table[`${pathKey(reached)}#${key}`] ?? at;
      return { line: at[0], column: at[1] };
    },
  };
}

