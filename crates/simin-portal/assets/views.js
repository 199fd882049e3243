// simin portal: the views, built as DOM nodes (never from HTML strings, so nothing the
// chain holds can inject markup).

import { t } from './i18n.js';

/** Creates an element: `h('a', { href, 'data-testid': 'x' }, 'text', child)`. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export const short = (hex, n = 10) => (hex && hex.length > 2 * n ? `${hex.slice(0, n)}…${hex.slice(-4)}` : hex || '');
export const when = (ms) => (ms === null || ms === undefined ? '' : new Date(Number(ms)).toLocaleString());
const code = (text, testid) => h('code', { class: 'hex', 'data-testid': testid, title: text }, text);

/** A two-column definition list from [label, value, testid] rows. */
export function fields(rows) {
  return h('dl', { class: 'fields' }, rows.map(([label, value, testid]) => [
    h('dt', {}, label),
    h('dd', { 'data-testid': testid }, value),
  ]));
}

export function statusLine(status) {
  return t('chain.status', {
    chain: status.chain_id, height: status.latest_height,
    validators: status.validator_count, mempool: status.mempool_size,
  });
}

export function blocksView(list) {
  const rows = list.blocks.map((b) => h('tr', { 'data-testid': 'block-row', 'data-height': b.height },
    h('td', {}, h('a', { href: `#/block/${b.height}`, 'data-testid': 'block-link' }, String(b.height))),
    h('td', {}, code(short(b.hash), 'block-row-hash')),
    h('td', {}, h('time', { datetime: new Date(Number(b.time)).toISOString() }, when(b.time))),
    h('td', { class: 'num' }, String(b.tx_count)),
    h('td', { class: 'wide' }, code(short(b.proposer)))));
  return h('section', { 'aria-labelledby': 'blocks-title', 'data-testid': 'blocks-view' },
    h('h1', { id: 'blocks-title' }, t('blocks.title')),
    h('p', { class: 'muted' }, t('blocks.refresh')),
    rows.length === 0
      ? h('p', { 'data-testid': 'blocks-empty' }, t('blocks.none'))
      : h('div', { class: 'scroll' }, h('table', { 'data-testid': 'blocks-table' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('height')), h('th', { scope: 'col' }, t('hash')),
          h('th', { scope: 'col' }, t('time')), h('th', { scope: 'col', class: 'num' }, t('txs')),
          h('th', { scope: 'col', class: 'wide' }, t('proposer')))),
        h('tbody', {}, rows))),
    list.next_before ? h('p', {}, h('a', { href: `#/blocks/${list.next_before}`, 'data-testid': 'blocks-older' }, t('blocks.older'))) : null);
}

export function callLabel(call) {
  if (!call) return '';
  const [name, args] = Object.entries(call.call || {})[0] || [call.call, null];
  return `${call.module}.${typeof call.call === 'string' ? call.call : name}${args && args.document ? ` ${short(args.document)}` : ''}${args && args.documents ? ` (${args.documents.length})` : ''}`;
}

function outcome(o) {
  return o.status === 'success'
    ? h('span', { class: 'ok', 'data-testid': 'outcome' }, '✓ success')
    : h('span', { class: 'bad', 'data-testid': 'outcome' }, `✗ ${o.code}: ${o.message}`);
}

export function blockView(lookup) {
  const { block, certificate, receipts } = lookup;
  const hd = block.header;
  const height = Number(hd.height);
  const txRows = block.txs.map((tx, i) => h('tr', { 'data-testid': 'block-tx-row' },
    h('td', { class: 'num' }, String(i)),
    h('td', {}, h('a', { href: `#/tx/${receipts[i] ? receipts[i].tx_hash : ''}`, 'data-testid': 'tx-link' },
      short(receipts[i] ? receipts[i].tx_hash : ''))),
    h('td', {}, callLabel(tx.tx.call)),
    h('td', {}, receipts[i] ? outcome(receipts[i].outcome) : '')));
  return h('section', { 'data-testid': 'block-view', 'aria-labelledby': 'block-title' },
    h('h1', { id: 'block-title' }, t('block.title', { height }), ' '),
    h('nav', { class: 'pager', 'aria-label': 'Blocks' },
      height > 1 ? h('a', { href: `#/block/${height - 1}`, 'data-testid': 'block-prev' }, t('block.prev')) : null,
      h('a', { href: `#/block/${height + 1}`, 'data-testid': 'block-next' }, t('block.next'))),
    h('h2', {}, t('block.header')),
    fields([
      [t('height'), String(hd.height), 'block-height'],
      [t('hash'), code(lookup.hash), 'block-hash'],
      [t('time'), when(hd.time), 'block-time'],
      ['chain_id', hd.chain_id],
      ['prev_block_hash', h('a', { href: height > 1 ? `#/block/${height - 1}` : '#/' }, code(hd.prev_block_hash))],
      ['tx_root', code(hd.tx_root)],
      ['receipts_root', code(hd.receipts_root)],
      ['state_root', code(hd.state_root), 'block-state-root'],
      ['validators_hash', code(hd.validators_hash)],
      [t('proposer'), code(hd.proposer)],
    ]),
    h('h2', {}, t('block.txs')),
    txRows.length === 0 ? h('p', {}, t('block.notxs')) : h('div', { class: 'scroll' }, h('table', { 'data-testid': 'block-txs' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', class: 'num' }, '#'), h('th', { scope: 'col' }, t('hash')),
        h('th', { scope: 'col' }, t('call')), h('th', { scope: 'col' }, t('outcome')))),
      h('tbody', {}, txRows))),
    h('h2', {}, t('block.cert')),
    certificateView(certificate));
}

function certificateView(certificate) {
  if (!certificate) return h('p', { 'data-testid': 'certificate-missing' }, t('block.nocert'));
  return h('div', { 'data-testid': 'certificate' },
    h('p', {}, t('block.signers', { n: certificate.signatures.length, round: certificate.round })),
    h('ul', { class: 'signers' }, certificate.signatures.map((s) =>
      h('li', { 'data-testid': 'certificate-signer' }, code(s.validator)))));
}

export function txView(lookup) {
  const { tx, receipt, inclusion_proof: proof } = lookup;
  return h('section', { 'data-testid': 'tx-view', 'aria-labelledby': 'tx-title' },
    h('h1', { id: 'tx-title' }, t('tx.title')),
    fields([
      [t('hash'), code(lookup.hash), 'tx-hash'],
      [t('tx.block'), h('a', { href: `#/block/${lookup.height}`, 'data-testid': 'tx-block-link' }, String(lookup.height)), 'tx-height'],
      [t('index'), String(lookup.index)],
      [t('signer'), code(tx.tx.signer)],
      [t('nonce'), String(tx.tx.nonce)],
      ['expiry_height', String(tx.tx.expiry_height)],
      [t('call'), callLabel(tx.tx.call), 'tx-call'],
    ]),
    h('details', {}, h('summary', {}, 'JSON'), h('pre', { 'data-testid': 'tx-call-json' }, JSON.stringify(tx.tx.call, null, 2))),
    h('h2', {}, t('tx.receipt')),
    fields([[t('outcome'), outcome(receipt.outcome), 'tx-outcome']]),
    h('h2', {}, t('tx.proof')),
    h('div', { 'data-testid': 'tx-proof' },
      h('p', {}, t('tx.proofnote', { index: proof.leaf_index, size: proof.tree_size })),
      h('ol', { class: 'path' }, proof.path.map((p) => h('li', {}, code(p)))),
      fields([['tx_root', code(lookup.header.tx_root)]])));
}

/** The answer to "was this document anchored?": the proof's facts, or "never anchored". */
export function notaryResult(hash, proof) {
  if (!proof) {
    return h('div', { class: 'result never', role: 'status', 'data-testid': 'notary-result', 'data-state': 'not-anchored' },
      h('p', { class: 'verdict' }, '✗ ', t('notary.never')),
      h('p', {}, t('notary.never.detail')),
      fields([['SHA-256', code(hash), 'notary-document']]));
  }
  const r = proof.record;
  const batch = proof.batch_proof;
  return h('div', { class: 'result anchored', role: 'status', 'data-testid': 'notary-result', 'data-state': 'anchored' },
    h('p', { class: 'verdict' }, '✓ ', t('notary.anchored')),
    h('p', {}, t('notary.anchored.by', { org: r.organization, height: r.height, time: when(r.time) })),
    fields([
      ['SHA-256', code(hash), 'notary-document'],
      [t('organization'), r.organization, 'notary-organization'],
      [t('height'), h('a', { href: `#/block/${r.height}` }, String(r.height)), 'notary-height'],
      [t('time'), when(r.time), 'notary-time'],
      ['tx', h('a', { href: `#/tx/${r.tx_hash}`, 'data-testid': 'notary-tx' }, short(r.tx_hash))],
      [t('signer'), code(r.signer)],
      [t('anchor'), code(proof.anchor)],
      [t('batch'), batch ? t('notary.batch', { n: r.documents, index: batch.leaf_index }) : '—'],
      [t('state.root'), code(proof.header.state_root)],
      [t('block.cert'), `${proof.certificate.signatures.length} / ${proof.validators.validators.length}`],
    ]),
    h('p', { class: 'muted' }, t('notary.verify', { hash })));
}

export function errorView(error) {
  return h('div', { class: 'result error', role: 'alert', 'data-testid': 'error' },
    h('p', { class: 'verdict' }, error.status === 404 ? t('not.found') : t('error')),
    h('p', {}, error.message || String(error)));
}
