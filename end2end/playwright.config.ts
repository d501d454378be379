import { defineConfig } from '@playwright/test';

// Debian's Chromium; Playwright never downloads a browser here. Flags keep it quiet on a
// closed network (see shared BUILD.md).
const launchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

export default defineConfig({
  testDir: './tests',
  globalSetup: './global-setup.ts',
  // Two cores: one browser at a time keeps timings sane.
  workers: 1,
  fullyParallel: false,
  retries: process.env.CI ? 1 : 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: {
    launchOptions,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    { name: 'hydrated', testIgnore: /no-js\.spec\.ts/, use: { javaScriptEnabled: true } },
    { name: 'no-js', testMatch: /no-js\.spec\.ts/, use: { javaScriptEnabled: false } },
  ],
});
