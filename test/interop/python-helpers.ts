// Runs hat_lmdb_file.py with a Python that has py-lmdb (Debian's python3-lmdb, LMDB 0.9: the
// library Hat 0.8 uses). Without one the calling test fails with instructions: the
// compatibility check is the point of those tests, so it is never skipped.
import { spawn, spawnSync } from 'node:child_process';
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

function pythonLmdb(): string {
  const python = findPythonLmdb();
  if (python === null) {
    throw new Error(
      `no Python with py-lmdb (tried ${CANDIDATES.join(', ')}): install Debian's python3-lmdb ` +
        '(apt-get update && apt-get install -y python3-lmdb; .ci/run does it)',
    );
  }
  return python;
}

/**
 * py-lmdb in the middle of a write transaction on `path` (as a running Hat server is); it
 * commits when `release()` is called, which answers the SYSTEM server ids it then reads.
 */
export async function holdHatWriteTransaction(path: string): Promise<{ release(): Promise<number[]> }> {
  const child = spawn(pythonLmdb(), [SCRIPT, 'hold', path], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('"holding"')) resolve();
    });
    void exited.then((code) => reject(new Error(`hat_lmdb_file.py hold exited with ${code}`)));
  });
  return {
    async release() {
      child.stdin!.end();
      if ((await exited) !== 0) throw new Error(`hat_lmdb_file.py hold failed: ${out}`);
      return (JSON.parse(out.trim().split('\n').pop()!) as { servers: number[] }).servers;
    },
  };
}

export function runHatLmdb<T>(request: Record<string, unknown>): T {
  const python = pythonLmdb();
  const result = spawnSync(python, [SCRIPT], { input: JSON.stringify(request), encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`hat_lmdb_file.py ${String(request.command)} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}
