/**
 * Errors that reach a user. The message is one line that says what and where; it never holds a secret.
 * `exitCode` follows docs/commands.md: 1 when a check or operation failed, 2 for bad usage or unreadable input.
 */
export class KeyriteError extends Error {
  readonly exitCode: 1 | 2;
  /** The people in the room can fix this and try the same step again (a mistyped passphrase, a taken label). */
  readonly retryable: boolean;
  constructor(message: string, exitCode: 1 | 2 = 1, options?: { cause?: unknown; retryable?: boolean }) {
    super(message.replace(/\s*\n\s*/g, ' '), options);
    this.name = 'KeyriteError';
    this.exitCode = exitCode;
    this.retryable = options?.retryable ?? false;
  }
}

/** Bad usage or input that cannot be read: unknown flag, malformed JSON, a plan that breaks the schema. Exit 2. */
export class UsageError extends KeyriteError {
  constructor(message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, 2, options);
    this.name = 'UsageError';
  }
}

/** A check or operation failed: a tampered bundle, an invalid share set, the HSM refused. Exit 1. */
export class OperationError extends KeyriteError {
  constructor(message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, 1, options);
    this.name = 'OperationError';
  }
}
