// What a caught value says: its message if it is an Error, else its text (code may throw anything).
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
