import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The release server runs on its own port with a fresh data directory (SQLite + mail
// folder) for each run. GATEHOUSE_BIN / GATEHOUSE_SITE come from scripts/test; set
// BASE_URL instead to test a server you started yourself.
const port = Number(process.env.E2E_PORT ?? 3210);
const dataDir = process.env.E2E_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'gatehouse-e2e-'));
process.env.E2E_DATA_DIR = dataDir;
const external = process.env.BASE_URL;
const baseURL = external ?? `http://127.0.0.1:${port}`;
// The test identity provider (oidc/provider.mjs, the npm package oidc-provider) for the
// single sign-on journeys; its one client may return to this app's callback.
const idpPort = Number(process.env.E2E_IDP_PORT ?? 3211);
process.env.E2E_IDP_ISSUER = `http://127.0.0.1:${idpPort}`;
process.env.E2E_IDP_CLIENT_ID = 'gatehouse-e2e';
process.env.E2E_IDP_CLIENT_SECRET = 'e2e-client-secret-0123456789';

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  // One more try for a journey that fails once: reported as "flaky" with the first
  // failure's errors (a page that did not hydrate lists what it logged), not as passed.
  // A journey that fails twice fails the run.
  retries: 1,
  reporter: [['list']],
  use: {
    baseURL,
    browserName: 'chromium',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  webServer: [{
    command: `node oidc/provider.mjs --port ${idpPort} --client-id ${process.env.E2E_IDP_CLIENT_ID} `
      + `--client-secret ${process.env.E2E_IDP_CLIENT_SECRET} --redirect-uri ${baseURL}/auth/sso/callback/`,
    url: `${process.env.E2E_IDP_ISSUER}/.well-known/openid-configuration`,
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: 'ignore',
    stderr: 'pipe',
  }, ...(external ? [] : [{
    command: `${process.env.GATEHOUSE_BIN ?? '../target/release/gatehouse'} serve`,
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      APP_ADDR: `127.0.0.1:${port}`,
      APP_DATA_DIR: dataDir,
      LEPTOS_SITE_ROOT: process.env.GATEHOUSE_SITE ?? '../target/site',
      RUST_LOG: 'warn',
      // Every test browser comes from 127.0.0.1: the per-address registration limit
      // would stop the journeys (it has HTTP tests of its own).
      APP_REGISTER_LIMIT_PER_IP: '0',
      // The test identity provider listens on loopback, which organization-configured
      // requests may reach only when listed (SPEC §9.9).
      APP_OUTBOUND_ALLOWLIST: '127.0.0.1',
    },
  }])],
});
