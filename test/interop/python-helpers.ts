// Runs hat_lmdb_file.py with a Python that has py-lmdb (Debian's python3-lmdb, LMDB 0.9: the
// library Hat 0.8 uses). Without one the calling test fails with instructions: the
// compatibility check is the point of those tests, so it is never skipped.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./fixtures/hat_lmdb_file.py', import.meta.url));
// PATH may lead to a Python of its own (pyenv) without Debian's packages: try the system one too.
const CANDIDATES = ['python3', '/usr/bin/python3'];

let found: string | null | undefined;

export function findPythonLmdb(): string | null {
  if (found !== undefined) return found;
  found = CANDIDATES.find((python) => spawnSync(python, ['-c', 'import lmdb'], { stdio: 'ignore' }).status === 0) ?? null;
  return found;
}

export function runHatLmdb<T>(request: Record<string, unknown>): T {
  const python = findPythonLmdb();
  if (python === null) {
    throw new Error(
      `no Python with py-lmdb (tried ${CANDIDATES.join(', ')}): install Debian's python3-lmdb ` +
        '(apt-get update && apt-get install -y python3-lmdb; .ci/run does it)',
    );
  }
  const result = spawnSync(python, [SCRIPT], { input: JSON.stringify(request), encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`hat_lmdb_file.py ${String(request.command)} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}
