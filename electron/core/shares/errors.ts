import { OperationError } from '../errors.ts';

/**
 * A share or share set that cannot be used (exit 1). The message names the share by its
 * 1-based position in the input ("share 2: ...") and says why; it never holds share words,
 * not even a mistyped one (only its position), since a typo is close to the real word.
 */
export class Slip39Error extends OperationError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Slip39Error';
  }
}

/** "share 3: " when the position is known, "" otherwise. */
export function sharePrefix(position?: number): string {
  return position === undefined ? '' : `share ${position}: `;
}
