/**
 * The policy file of `verify --policy FILE`: its schema (zod), reading and validating it. Apart
 * from the checks (policy.ts) so that `keyrite verify` without --policy does not load zod, which
 * alone costs about a bare Node start (`npm run bench -- startup`); the CLI imports this file only
 * when a policy is given.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UsageError } from '../errors.ts';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'is not 64 lowercase hex digits');

export const policySchema = z
  .strictObject({
    version: z.literal(1),
    ceremonyId: z.string().min(1).optional(),
    statementSha256: hex64.optional(),
    root: z
      .strictObject({
        algorithm: z.string().min(1).optional(),
        publicKeySha256: hex64.optional(),
        kcv: z.string().regex(/^[0-9a-f]{6}$/, 'is not 6 lowercase hex digits').optional(),
      })
      .optional(),
    signers: z.array(hex64).optional(),
    cosigners: z
      .strictObject({
        keyids: z.array(hex64).min(1),
        min: z.number().int().min(1).optional(),
      })
      .refine((c) => c.min === undefined || c.min <= c.keyids.length, { message: 'min is more than the number of keyids', path: ['min'] })
      .optional(),
    rehearsal: z.boolean().optional(),
    networkUp: z.boolean().optional(),
    checkedIn: z.boolean().optional(),
    sealed: z.boolean().optional(),
    recoveries: z.enum(['authenticated', 'any']).optional(),
  });

export type Policy = z.infer<typeof policySchema>;

function fieldPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out ? `.${String(s)}` : String(s);
  return out || '(policy)';
}

/** Validates a parsed policy; a UsageError (exit 2) names the first problem and its field. */
export function parsePolicy(raw: unknown, where: string): Policy {
  const parsed = policySchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const i = parsed.error.issues[0];
  const message =
    i.code === 'unrecognized_keys'
      ? `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `'${k}'`).join(', ')}`
      : /received undefined$/.test(i.message)
        ? 'is required'
        : i.message.replace(/^Invalid input: /, '');
  const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more problems)` : '';
  throw new UsageError(`policy ${where}: ${fieldPath(i.path)}: ${message}${more}`);
}

/** Reads and validates a policy file; unreadable or invalid is a UsageError (exit 2). */
export function loadPolicy(file: string, shown = file): Policy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`policy ${shown} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (err as Error).message})`}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`policy ${shown} is not valid JSON: ${(err as Error).message}`);
  }
  return parsePolicy(json, shown);
}
