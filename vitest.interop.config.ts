import { defineConfig } from 'vitest/config';

// `npm run test:interop`: the tests that need software from outside npm (Debian's python3-lmdb,
// the LMDB 0.9 library Hat 0.8 itself uses). .ci/run installs it, then runs this.
export default defineConfig({
  test: {
    include: ['test/interop/**/*.test.ts'],
    testTimeout: 20000,
    hookTimeout: 20000,
  },
});
