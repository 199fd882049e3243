// simin portal: the page's entry point: routing by URL fragment, auto-refresh, the drop zone.

import { api, ApiProblem, sha256File } from './api.js';
import { DEFAULT_DATASET, dataView, recordView } from './data.js';
import { lang, setLang, t, translateStatic } from './i18n.js';
import {
  blocksView, blockView, errorView, h, notaryResult, statusLine, txView,
} from './views.js';

const REFRESH_MS = 4000;
const HEX64 = /^[0-9a-f]{64}$/;
const view = document.getElementById('view');
let refreshTimer = null;
let renderToken = 0;

/** Replaces the view, unless a newer navigation started meanwhile. */
function show(token, node) {
  if (token !== renderToken) return;
  view.replaceChildren(node);
}

async function refreshStatus() {
  const line = document.querySelector('[data-testid=chain-status]');
  try {
    line.textContent = statusLine(await api.status());
  } catch {
    line.textContent = '';
  }
}

/** Looks up a document hash: the proof, or null when it was never anchored. */
async function lookupDocument(hash) {
  try {
    return await api.notary(hash);
  } catch (error) {
    if (error instanceof ApiProblem && error.slug === 'not-anchored') return null;
    throw error;
  }
}

async function renderBlocks(token, before) {
  const list = await api.blocks(20, before);
  show(token, blocksView(list));
  if (!before) {
    refreshTimer = setTimeout(() => { if (token === renderToken) route(true); }, REFRESH_MS);
  }
}

function checkView(token) {
  const input = h('input', { type: 'file', id: 'file-input', class: 'visually-hidden', 'data-testid': 'file-input' });
  const out = h('div', { 'data-testid': 'check-output', 'aria-live': 'polite' });
  const zone = h('label', { for: 'file-input', class: 'dropzone', tabindex: '0', 'data-testid': 'dropzone' },
    h('span', { class: 'drop-icon', 'aria-hidden': 'true' }, '⇩'), h('span', {}, t('check.drop')));
  const handle = async (file) => {
    if (!file) return;
    out.replaceChildren(h('p', {}, t('check.hashing')));
    try {
      const hash = await sha256File(file);
      const proof = await lookupDocument(hash);
      if (token !== renderToken) return;
      out.replaceChildren(
        h('p', {}, t('check.hash', { name: file.name }), ': ', h('code', { class: 'hex', 'data-testid': 'file-hash' }, hash)),
        notaryResult(hash, proof));
    } catch (error) {
      out.replaceChildren(errorView(error));
    }
  };
  input.addEventListener('change', () => handle(input.files[0]));
  zone.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); input.click(); } });
  for (const name of ['dragenter', 'dragover']) {
    zone.addEventListener(name, (e) => { e.preventDefault(); zone.classList.add('over'); });
  }
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    handle(e.dataTransfer && e.dataTransfer.files[0]);
  });
  return h('section', { 'data-testid': 'check-view', 'aria-labelledby': 'check-title' },
    h('h1', { id: 'check-title' }, t('check.title')),
    h('p', {}, t('check.intro')), input, zone, out);
}

/** Renders the view named by the URL fragment; `quiet` keeps the old view while loading. */
async function route(quiet = false) {
  clearTimeout(refreshTimer);
  const token = ++renderToken;
  const [path, query = ''] = (location.hash || '#/').split('?');
  const [, page = '', rawArg = ''] = path.split('/');
  const arg = decodeURIComponent(rawArg);
  if (!quiet) view.replaceChildren(h('p', { 'data-testid': 'loading' }, t('loading')));
  refreshStatus();
  try {
    if (page === '' || page === 'blocks') await renderBlocks(token, arg || undefined);
    else if (page === 'block') show(token, blockView(await api.block(arg)));
    else if (page === 'tx') show(token, txView(await api.tx(arg)));
    else if (page === 'notary') {
      const proof = await lookupDocument(arg.toLowerCase());
      show(token, h('section', { 'data-testid': 'notary-view' }, h('h1', {}, t('notary.title')), notaryResult(arg.toLowerCase(), proof)));
    } else if (page === 'check') show(token, checkView(token));
    else if (page === 'data') show(token, await dataView(arg || DEFAULT_DATASET, new URLSearchParams(query)));
    else if (page === 'record') show(token, await recordView(arg));
    else show(token, errorView(new ApiProblem(404, { detail: location.hash })));
  } catch (error) {
    show(token, errorView(error));
    if (page === '' || page === 'blocks') refreshTimer = setTimeout(() => { if (token === renderToken) route(true); }, REFRESH_MS);
  }
  if (!quiet && token === renderToken) view.focus({ preventScroll: true });
}

/** Sends a search to the right page: a number is a height; a hash a tx, else a document. */
async function search(query) {
  const q = query.trim().toLowerCase();
  if (/^\d+$/.test(q)) location.hash = `#/block/${q}`;
  else if (HEX64.test(q)) {
    try {
      await api.tx(q);
      location.hash = `#/tx/${q}`;
    } catch {
      location.hash = `#/notary/${q}`;
    }
  }
}

function updateLangButton() {
  document.querySelector('[data-testid=lang-toggle]').textContent = lang() === 'ko' ? 'English' : '한국어';
}

document.querySelector('[data-testid=search-form]').addEventListener('submit', (e) => {
  e.preventDefault();
  search(new FormData(e.target).get('q') || '');
});
document.querySelector('[data-testid=lang-toggle]').addEventListener('click', () => {
  setLang(lang() === 'ko' ? 'en' : 'ko');
  translateStatic();
  updateLangButton();
  route();
});
window.addEventListener('hashchange', () => route());
translateStatic();
updateLangButton();
route();
