import { configDefaults, defineConfig } from 'vitest/config';

// `npm test`: everything that needs only Node and the npm dependencies. Two suites run apart,
// each with its own config: test/interop (needs Debian's python3-lmdb: vitest.interop.config.ts)
// and test/package (packs and installs the tarball: vitest.package.config.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, 'test/interop/**', 'test/package/**'],
    testTimeout: 20000,
    hookTimeout: 20000,
  },
});
