import { defineConfig } from 'vitest/config';

// `npm run test:package`: packs the package, installs the tarball in a temporary folder outside
// the repository (npm install, which rebuilds lmdb-js there) and uses it as a consumer would.
// Minutes, not seconds, and it needs the npm registry or a warm npm cache: .ci/run runs it.
export default defineConfig({
  test: {
    include: ['test/package/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
  },
});
