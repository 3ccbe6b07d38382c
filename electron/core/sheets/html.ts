/** Small helpers shared by the printable pages: escaping and the read-aloud forms of digests. */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and quoted attribute values. Non-strings are stringified first. */
export function esc(value: unknown): string {
  const s = value === undefined || value === null ? '' : String(value);
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** Hex split into groups a person can read aloud: "3f2a 9b1c …" (groups of 4). */
export function hexGroups(hex: string, size = 4): string[] {
  const clean = hex.toLowerCase().replace(/[^0-9a-f]/g, '');
  const out: string[] = [];
  for (let i = 0; i < clean.length; i += size) out.push(clean.slice(i, i + size));
  return out;
}

/**
 * A SHA-256 fingerprint as lines of groups, for reading aloud and comparing by eye:
 * 64 hex characters become 2 lines of 8 groups of 4.
 */
export function fingerprintLines(hex: string, groupsPerLine = 8): string[] {
  const groups = hexGroups(hex);
  const lines: string[] = [];
  for (let i = 0; i < groups.length; i += groupsPerLine) lines.push(groups.slice(i, i + groupsPerLine).join(' '));
  return lines;
}

export function isHex(value: unknown, length?: number): value is string {
  return typeof value === 'string' && /^[0-9a-fA-F]+$/.test(value) && (length === undefined || value.length === length);
}
