// Strict parsing of the small JSON objects of the handshake: one object whose
// named fields must each appear exactly once with a string value; other
// fields are ignored; names match exactly (case-sensitive). This mirrors the
// Go mte package so both sides accept and refuse the same payloads
// (JSON.parse alone would silently keep the last of duplicate keys).

/**
 * Returns the named fields' values, or an error message. Fields named in
 * optional may be absent (undefined); when present they follow the same
 * rules (once, a string).
 */
export function parseFields(text: string, what: string, names: readonly string[],
  optional: readonly string[] = []): (string | undefined)[] | string {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    return `${what} is not valid JSON`;
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return `${what} is not a JSON object`;
  const counts = topLevelKeyCounts(text);
  const out: (string | undefined)[] = [];
  for (const name of [...names, ...optional]) {
    const n = counts.get(name) ?? 0;
    if (n > 1) return `${what} has duplicate field ${name}`;
    if (n === 0) {
      if (!names.includes(name)) {
        out.push(undefined);
        continue;
      }
      return `${what} lacks field ${name}`;
    }
    const v = (obj as Record<string, unknown>)[name];
    if (typeof v !== 'string') return `${what} field ${name} is not a string`;
    out.push(v);
  }
  return out;
}

/** Counts the keys of the top-level object of valid JSON text. */
function topLevelKeyCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        counts.set(key, (counts.get(key) ?? 0) + 1);
        expectKey = false;
      }
    } else if (ch === '{' || ch === '[') {
      depth++;
      expectKey = depth === 1;
    } else if (ch === '}' || ch === ']') {
      depth--;
    } else if (ch === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return counts;
}
