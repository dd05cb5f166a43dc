// Decode/encode failures of SBS data. `kind` lets callers (chatter, tests) tell the reasons apart
// without parsing messages.

export type SbsErrorKind =
  | 'truncated' // input ended inside a value
  | 'integer-overflow' // integer does not fit int64 (or the JS number range a field needs)
  | 'choice-index' // choice index outside the entries of the type
  | 'invalid-utf8'
  | 'invalid-value'; // a value the encoder cannot represent (wrong JS type, NaN where int expected...)

export class SbsError extends Error {
  readonly kind: SbsErrorKind;

  constructor(kind: SbsErrorKind, message: string) {
    super(message);
    this.name = 'SbsError';
    this.kind = kind;
  }
}
