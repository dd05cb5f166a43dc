// Another process in the middle of an LMDB write transaction on a file (as a second writer, or
// an operator's tool, would be): the server's commits wait for LMDB's write lock until `release()`.
// Plain lmdb-js in a child process, so `npm test` needs nothing outside npm.
import { spawn } from 'node:child_process';

const SCRIPT = `
import { open } from 'lmdb';
import { readSync, writeSync } from 'node:fs';
const root = open({ path: process.argv[1], noSubdir: true, maxDbs: 16, encoding: 'binary', keyEncoding: 'binary' });
root.transactionSync(() => {
  writeSync(1, 'holding\\n');
  readSync(0, Buffer.alloc(1)); // until the parent writes or closes stdin
});
await root.close();
`;

export async function holdLmdbWriteTransaction(path: string): Promise<{ release(): Promise<void> }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', SCRIPT, path], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('holding')) resolve();
    });
    void exited.then((code) => reject(new Error(`the lmdb write holder exited with ${code} before holding the lock`)));
  });
  return {
    async release() {
      child.stdin!.end('x');
      const code = await exited;
      if (code !== 0) throw new Error(`the lmdb write holder exited with ${code}`);
    },
  };
}
