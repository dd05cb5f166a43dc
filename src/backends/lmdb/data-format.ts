// Hat 0.8's Python `lmdb` links LMDB 0.9, whose files are in LMDB data format v1. lmdb-js's
// prebuilt binary is LMDB 0.9.90 with format v2, which LMDB 0.9 cannot open, so the project
// builds lmdb-js from source with format v1 at install (scripts/build-lmdb-data-v1.mjs).
// Opening a database with the v2 binary would silently write files Hat cannot read: refuse.

export interface LmdbVersion {
  versionString?: string;
  major: number;
  minor: number;
  patch: number;
}

/** LMDB 0.9.x releases (format v1) are numbered below 0.9.70; the format-v2 branch is 0.9.90. */
export function isLmdbDataV1(version: LmdbVersion): boolean {
  return version.major === 0 && version.minor === 9 && version.patch < 70;
}

export function assertLmdbDataV1(version: LmdbVersion): void {
  if (!isLmdbDataV1(version)) {
    throw new Error(
      `lmdb loads ${version.versionString ?? `${version.major}.${version.minor}.${version.patch}`}, which writes LMDB ` +
        'data format v2 that Hat 0.8 (LMDB 0.9) cannot open; build the format-v1 binary with ' +
        '`node scripts/build-lmdb-data-v1.mjs` in the hat-event-ts folder (node_modules/hat-event-ts in a ' +
        "project that depends on it; needs python3, make and a C++ compiler). The package's postinstall " +
        'runs it when npm runs install scripts',
    );
  }
}
