// Browser test of the simin portal against a running node.
//
//   SIMIN_URL=http://127.0.0.1:8080 [SIMIN_ANCHORED_FILE=/path/anchored.pdf] \
//   [SIMIN_CHROMIUM=/usr/bin/chromium] [SIMIN_SCREENSHOT_DIR=.] node --test portal.test.mjs
//
// Needs at least one committed block with at least one transaction. The anchored-file
// step runs only when SIMIN_ANCHORED_FILE names a file the harness anchored beforehand.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';

const BASE = (process.env.SIMIN_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
const ANCHORED = process.env.SIMIN_ANCHORED_FILE || '';
const SHOTS = process.env.SIMIN_SCREENSHOT_DIR || '.';
const TIMEOUT_MS = 20000;

let userDataDir;
let context;
let page;

before(async () => {
  userDataDir = mkdtempSync(join(tmpdir(), 'simin-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.SIMIN_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    locale: 'en-US',
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(TIMEOUT_MS);
  page = context.pages()[0] || (await context.newPage());
  page.on('pageerror', (error) => console.error('page error:', error));
});

after(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

/** Drops `bytes` as a file named `name` on the drop zone, as a user dragging it would. */
async function dropFile(name, bytes) {
  const dataTransfer = await page.evaluateHandle(({ name, b64 }) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], name, { type: 'application/octet-stream' }));
    return transfer;
  }, { name, b64: Buffer.from(bytes).toString('base64') });
  await page.dispatchEvent('[data-testid=dropzone]', 'drop', { dataTransfer });
}

test('the explorer lists the latest blocks', async () => {
  await page.goto(`${BASE}/`);
  await page.locator('[data-testid=blocks-table]').waitFor();
  const rows = page.locator('[data-testid=block-row]');
  assert.ok((await rows.count()) >= 1, 'at least one block is listed');
  const heights = await rows.evaluateAll((els) => els.map((el) => Number(el.dataset.height)));
  assert.deepEqual(heights, [...heights].sort((a, b) => b - a), 'newest first');
  assert.match(await page.locator('[data-testid=chain-status]').innerText(), /height \d+/);
  await page.screenshot({ path: join(SHOTS, 'portal-blocks.png'), fullPage: true });
});

test('a block opens with its header, transactions and certificate', async () => {
  // Find a block with a transaction through the API, then open it through the UI.
  const list = await (await fetch(`${BASE}/v1/blocks?limit=100`)).json();
  const withTx = list.blocks.find((b) => b.tx_count > 0);
  assert.ok(withTx, 'some recent block holds a transaction');
  await page.goto(`${BASE}/#/block/${withTx.height}`);
  await page.locator('[data-testid=block-view]').waitFor();
  assert.equal(await page.locator('[data-testid=block-height]').innerText(), String(withTx.height));
  assert.equal((await page.locator('[data-testid=block-hash]').innerText()).trim(), withTx.hash);
  assert.equal(await page.locator('[data-testid=block-tx-row]').count(), withTx.tx_count);
  assert.ok((await page.locator('[data-testid=certificate-signer]').count()) >= 1, 'the certificate lists signers');

  await page.locator('[data-testid=tx-link]').first().click();
  await page.locator('[data-testid=tx-view]').waitFor();
  const hash = (await page.locator('[data-testid=tx-hash]').innerText()).trim();
  assert.match(hash, /^[0-9a-f]{64}$/);
  assert.match(page.url(), new RegExp(`#/tx/${hash}$`));
  assert.match(await page.locator('[data-testid=tx-call]').innerText(), /\w+\.\w+/);
  await page.locator('[data-testid=tx-outcome]').waitFor();
  await page.locator('[data-testid=tx-proof]').waitFor();
  assert.equal(await page.locator('[data-testid=tx-height]').innerText(), String(withTx.height));
  await page.screenshot({ path: join(SHOTS, 'portal-tx.png'), fullPage: true });
});

test('an anchored file shows its organisation and height', { skip: !ANCHORED && !process.env.CI && 'SIMIN_ANCHORED_FILE not set' }, async () => {
  await page.goto(`${BASE}/#/check`);
  await page.locator('[data-testid=dropzone]').waitFor();
  await dropFile(basename(ANCHORED), readFileSync(ANCHORED));
  const result = page.locator('[data-testid=notary-result]');
  await result.waitFor();
  assert.equal(await result.getAttribute('data-state'), 'anchored');
  assert.match(await page.locator('[data-testid=notary-organization]').innerText(), /^[a-z0-9][a-z0-9.-]*$/);
  assert.match(await page.locator('[data-testid=notary-height]').innerText(), /^\d+$/);
  await page.screenshot({ path: join(SHOTS, 'portal-anchored.png'), fullPage: true });
});

test('an unknown file is shown as never anchored', async () => {
  await page.goto(`${BASE}/#/check`);
  await page.locator('[data-testid=dropzone]').waitFor();
  const bytes = randomBytes(64);
  await dropFile('unknown.bin', bytes);
  const result = page.locator('[data-testid=notary-result]');
  await result.waitFor();
  assert.equal(await result.getAttribute('data-state'), 'not-anchored');
  assert.match(await result.innerText(), /never anchored/i);
  const { createHash } = await import('node:crypto');
  const expected = createHash('sha256').update(bytes).digest('hex');
  assert.equal((await page.locator('[data-testid=file-hash]').innerText()).trim(), expected, 'hashed in the browser');
  await page.screenshot({ path: join(SHOTS, 'portal-not-anchored.png'), fullPage: true });
});
