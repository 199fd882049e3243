// "Sign in with Citizen Card" in a browser: Chromium opens the demo library (an OpenID
// Connect client), is sent to the provider's approval page, the citizen's wallet
// approves (the real `simin wallet login`, as a phone would after scanning the QR
// code), and the library welcomes the member with only the claims it asked for. Then
// the citizen opens their access log and sees that login.
//
//   SIMIN_DEMO_URL=http://127.0.0.1:8092 SIMIN_GATEWAY=http://127.0.0.1:8091 SIMIN_BIN=simin \
//   SIMIN_WALLET_DIR=... SIMIN_WALLET_PASSPHRASE=... node --test login.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const DEMO = (process.env.SIMIN_DEMO_URL || 'http://127.0.0.1:8092').replace(/\/$/, '');
const GATEWAY = (process.env.SIMIN_GATEWAY || 'http://127.0.0.1:8091').replace(/\/$/, '');
const SIMIN = process.env.SIMIN_BIN || 'simin';
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
    viewport: { width: 1100, height: 900 },
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

/** The wallet approves the request the page shows, as the phone scanning its QR would. */
async function approveWithWallet() {
  const link = await page.locator('#wallet-link').getAttribute('data-wallet-link');
  assert.match(link, /^openid4vp:\/\/\?/);
  return execFileSync(SIMIN, ['wallet', 'login', '--yes', link], { encoding: 'utf8', timeout: 60000 });
}

test('a citizen signs in to the library with the citizen card', async () => {
  await page.goto(`${DEMO}/`);
  await page.locator('#sign-in').click();
  await page.waitForURL(`${GATEWAY}/authorize?**`);
  assert.equal(await page.locator('#service-name').innerText(), 'Mapo Public Library');
  const scopes = await page.locator('#claims li[data-scope]').evaluateAll((els) => els.map((el) => el.dataset.scope));
  assert.deepEqual(scopes, ['age_over_14', 'resident_district']);
  // The QR code for a phone: an SVG image the page loads.
  const qr = page.locator('.qr img');
  await qr.waitFor();
  assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR code is drawn');
  await page.screenshot({ path: join(SHOTS, 'login-approval.png'), fullPage: true });

  const said = await approveWithWallet();
  assert.match(said, /approved/i);
  // The page notices the approval and continues to the library on its own.
  await page.waitForURL(`${DEMO}/`);
  await page.locator('#welcome').waitFor();
  const claims = await page.locator('#claims .claim').evaluateAll(
    (els) => Object.fromEntries(els.map((el) => [el.dataset.claim, el.textContent])));
  assert.deepEqual(claims, { age_over_14: 'true', resident_district: 'Mapo-gu' });
  assert.match(await page.locator('#subject').innerText(), /^[A-Za-z0-9_-]{43}$/);
  await page.screenshot({ path: join(SHOTS, 'login-welcome.png'), fullPage: true });
});

test('the citizen sees that login in their access log', async () => {
  // The log reaches the chain within a block or two of the login.
  let rows = 0;
  for (let attempt = 0; attempt < 10 && rows === 0; attempt += 1) {
    await page.goto(`${GATEWAY}/access-log`);
    await approveWithWallet();
    await page.locator('#access-log').waitFor();
    rows = await page.locator('#access-log tr.entry').count();
    if (rows === 0) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  assert.ok(rows >= 1, 'the login is in the log');
  const first = page.locator('#access-log tr.entry').first();
  assert.match(await first.innerText(), /Mapo Public Library/);
  assert.equal(await first.locator('.claims').innerText(), 'age_over_14, resident_district');
  await page.screenshot({ path: join(SHOTS, 'access-log.png'), fullPage: true });
});
