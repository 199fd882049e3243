// Browser test of the portal's city-data explorer and a personal record's page, against a
// devnet fed by a simulated sensor fleet and holding one record that was consented to and
// read once.
//
//   SIMIN_URL=http://127.0.0.1:8080 SIMIN_RECORD_ID=<hex> node --test data.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const BASE = (process.env.SIMIN_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
const RECORD = process.env.SIMIN_RECORD_ID || '';
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
    viewport: { width: 1200, height: 900 },
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

test('the explorer charts the air-quality feed and offers its open data', async () => {
  await page.goto(`${BASE}/#/data`);
  await page.locator('[data-testid=data-view]').waitFor();
  await page.locator('[data-testid=data-summary]').waitFor();
  const line = page.locator('[data-testid=chart-line]');
  assert.ok(Number(await line.getAttribute('data-points')) >= 1, 'the chart has points');
  assert.match(await page.locator('[data-testid=data-summary]').innerText(), /^(no2|pm10|pm25): [1-9]\d* readings/);
  assert.ok((await page.locator('[data-testid=reading-row]').count()) >= 1, 'latest readings are listed');

  // Another field, through the control, as a user would.
  await page.locator('[data-testid=data-field]').selectOption('pm10');
  await page.waitForURL(/field=pm10/);
  await page.locator('[data-testid=data-summary]').filter({ hasText: 'pm10' }).waitFor();

  // The export and a reading's proof are real answers of the node.
  const csv = await page.locator('[data-testid=export-csv]').getAttribute('href');
  const body = await (await fetch(`${BASE}${csv}`)).text();
  assert.match(body.split('\n')[0], /time/);
  assert.ok(body.trim().split('\n').length > 1, 'the CSV has rows');
  const proof = await page.locator('[data-testid=reading-proof]').first().getAttribute('href');
  const answer = await (await fetch(`${BASE}${proof}`)).json();
  assert.ok(answer.reading && answer.batch_state, 'a reading with its batch state proof');
  await page.screenshot({ path: join(SHOTS, 'data-explorer.png'), fullPage: true });
});

test("a record's page shows its commitment and access log, never its content", async () => {
  assert.match(RECORD, /^[0-9a-f]{64}$/, 'the harness filed a record');
  await page.goto(`${BASE}/#/record`);
  await page.locator('[data-testid=record-input]').fill(RECORD);
  await page.locator('[data-testid=record-form] button').click();
  await page.locator('[data-testid=record-log]').waitFor();
  const events = await page.locator('[data-testid=record-log-row]').evaluateAll((rows) => rows.map((r) => r.dataset.event));
  assert.deepEqual(events, ['created', 'consent_granted', 'read']);
  assert.equal(await page.locator('[data-testid=record-holder]').innerText(), 'seoul.family-welfare');
  assert.match(await page.locator('[data-testid=record-commitment]').innerText(), /^[0-9a-f]{64}$/);
  const text = await page.locator('[data-testid=record-view]').innerText();
  assert.ok(!text.includes('Kim Minji'), 'the content is not on the page');
  await page.screenshot({ path: join(SHOTS, 'record.png'), fullPage: true });
});
