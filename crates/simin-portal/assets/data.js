// simin portal: the urban-data explorer (a dataset's time series, charted from the
// node's aggregates, with open-data exports) and a personal record's page (its
// commitment, consents and access log: what the citizen sees; never the content).

import { getJson } from './api.js';
import { t } from './i18n.js';
import { fields, h, when } from './views.js';

export const DEFAULT_DATASET = 'seoul.air-quality';
const SVG = 'http://www.w3.org/2000/svg';
const WINDOWS = { '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3 };
const INTERVAL_FOR = { '1h': '60s', '24h': '15m', '7d': '1h' };

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  for (const child of children) if (child) el.append(child);
  return el;
}

/** An SVG line chart of the mean per interval, with the min–max band. */
export function chart(buckets, field) {
  const W = 760, H = 260, L = 48, R = 12, T = 12, B = 28;
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'data-testid': 'data-chart',
    'aria-label': t('data.chart', { field }) });
  if (buckets.length === 0) return root;
  const xs = buckets.map((b) => b.start_ms);
  const lo = Math.min(...buckets.map((b) => b.min));
  const hi = Math.max(...buckets.map((b) => b.max));
  const x0 = Math.min(...xs), x1 = Math.max(...xs) || x0 + 1;
  const span = hi - lo || 1;
  const x = (v) => L + ((v - x0) / (x1 - x0 || 1)) * (W - L - R);
  const y = (v) => T + (1 - (v - lo) / span) * (H - T - B);
  for (let i = 0; i <= 4; i += 1) {
    const v = lo + (span * i) / 4;
    root.append(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }),
      svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, document.createTextNode(v.toFixed(1))));
  }
  for (const at of [x0, (x0 + x1) / 2, x1]) {
    root.append(svg('text', { x: x(at), y: H - 8, 'text-anchor': 'middle', class: 'axis' },
      document.createTextNode(new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }))));
  }
  const band = buckets.map((b) => `${x(b.start_ms)},${y(b.max)}`)
    .concat([...buckets].reverse().map((b) => `${x(b.start_ms)},${y(b.min)}`)).join(' ');
  root.append(svg('polygon', { points: band, class: 'band' }));
  root.append(svg('polyline', { points: buckets.map((b) => `${x(b.start_ms)},${y(b.mean)}`).join(' '), class: 'mean',
    'data-testid': 'chart-line', 'data-points': buckets.length }));
  for (const b of buckets) {
    const dot = svg('circle', { cx: x(b.start_ms), cy: y(b.mean), r: 3.5, class: 'dot' },
      svg('title', {}, document.createTextNode(`${new Date(b.start_ms).toLocaleString()}: ${b.mean.toFixed(2)} (${b.count})`)));
    root.append(dot);
  }
  return root;
}

/** The explorer of one dataset. */
export async function dataView(dataset, params) {
  const window = params.get('window') in WINDOWS ? params.get('window') : '1h';
  const to = Date.now();
  const from = to - WINDOWS[window];
  const district = params.get('district') || '';
  const filter = new URLSearchParams({ from, to });
  if (district) filter.set('district', district);
  const latest = await getJson(`/v1/data/${encodeURIComponent(dataset)}/readings?${filter}&limit=1000`);
  const numeric = latest.readings.length
    ? Object.keys(latest.readings[latest.readings.length - 1].value).filter((k) => typeof latest.readings[latest.readings.length - 1].value[k] === 'number')
    : [];
  const field = numeric.includes(params.get('field')) ? params.get('field') : numeric[0];
  let aggregate = { buckets: [], scanned: 0, interval_ms: 0 };
  if (field) {
    const q = new URLSearchParams(filter);
    q.set('interval', INTERVAL_FOR[window]);
    q.set('field', field);
    aggregate = (await getJson(`/v1/data/${encodeURIComponent(dataset)}/aggregate?${q}`)).aggregate;
  }
  const go = (changes) => {
    const next = new URLSearchParams({ window, field: field || '', district, ...changes });
    location.hash = `#/data/${encodeURIComponent(dataset)}?${next}`;
  };
  const select = (testid, value, options, onchange) => h('select', { 'data-testid': testid, onchange: (e) => onchange(e.target.value) },
    options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
  const controls = h('div', { class: 'controls' },
    h('label', {}, t('data.field'), ' ', select('data-field', field, numeric.map((f) => [f, f]), (f) => go({ field: f }))),
    h('label', {}, t('data.window'), ' ', select('data-window', window, Object.keys(WINDOWS).map((w) => [w, w]), (w) => go({ window: w }))),
    h('form', { class: 'inline', onsubmit: (e) => { e.preventDefault(); go({ district: new FormData(e.target).get('district') || '' }); } },
      h('label', {}, t('data.district'), ' ', h('input', { name: 'district', value: district, placeholder: 'mapo', 'data-testid': 'data-district', size: 12 })),
      h('button', { type: 'submit' }, t('search.go'))));
  const csv = `/v1/data/${encodeURIComponent(dataset)}/export.csv?${filter}`;
  const json = `/v1/data/${encodeURIComponent(dataset)}/export.json?${filter}`;
  const rows = latest.readings.slice(-10).reverse().map((r) => h('tr', { 'data-testid': 'reading-row' },
    h('td', {}, when(r.time_ms)), h('td', {}, r.source), h('td', {}, r.district),
    h('td', {}, h('code', {}, JSON.stringify(r.value))),
    h('td', {}, h('a', { href: `/v1/data/${encodeURIComponent(dataset)}/readings/${encodeURIComponent(r.source)}/${r.seq}/${r.index}/proof`,
      'data-testid': 'reading-proof' }, t('data.proof')))));
  return h('section', { 'data-testid': 'data-view' },
    h('h1', {}, t('data.title', { dataset })),
    h('p', {}, t('data.intro')),
    controls,
    field ? h('p', { 'data-testid': 'data-summary' }, t('data.summary', { field, scanned: aggregate.scanned, buckets: aggregate.buckets.length }))
      : h('p', { 'data-testid': 'data-empty' }, t('data.empty')),
    chart(aggregate.buckets, field || ''),
    h('p', {}, t('data.export'), ' ', h('a', { href: csv, 'data-testid': 'export-csv' }, 'CSV'), ' · ', h('a', { href: json, 'data-testid': 'export-json' }, 'JSON')),
    h('h2', {}, t('data.latest')),
    rows.length ? h('table', { class: 'table' }, h('thead', {}, h('tr', {}, [t('time'), t('data.source'), t('data.district'), t('data.value'), ''].map((c) => h('th', {}, c)))),
      h('tbody', {}, rows)) : h('p', {}, t('data.empty')));
}

/** A personal record: what the chain knows of it, and who read it. */
export async function recordView(id) {
  const form = h('form', { class: 'inline', 'data-testid': 'record-form', onsubmit: (e) => {
    e.preventDefault();
    location.hash = `#/record/${(new FormData(e.target).get('id') || '').trim().toLowerCase()}`;
  } }, h('label', {}, t('record.id'), ' ', h('input', { name: 'id', value: id || '', size: 66, 'data-testid': 'record-input', spellcheck: 'false' })),
  h('button', { type: 'submit' }, t('search.go')));
  if (!id) return h('section', { 'data-testid': 'record-view' }, h('h1', {}, t('record.title')), h('p', {}, t('record.intro')), form);
  const record = await getJson(`/v1/records/${encodeURIComponent(id)}`);
  const log = record.log.map((e) => h('tr', { 'data-testid': 'record-log-row', 'data-event': e.event },
    h('td', {}, when(e.time)), h('td', {}, t(`record.event.${e.event}`)), h('td', {}, e.organization || ''),
    h('td', {}, e.purpose || ''), h('td', {}, String(e.height))));
  return h('section', { 'data-testid': 'record-view' },
    h('h1', {}, t('record.title')), form,
    fields([
      [t('record.kind'), record.kind, 'record-kind'],
      [t('record.holder'), record.holder, 'record-holder'],
      [t('record.commitment'), h('code', { class: 'hex' }, record.commitment), 'record-commitment'],
      [t('record.created'), when(record.created_time), 'record-created'],
      [t('record.state'), record.erased_time ? t('record.erased', { when: when(record.erased_time) }) : t('record.live'), 'record-state'],
    ]),
    h('p', { class: 'muted' }, t('record.private')),
    h('h2', {}, t('record.log')),
    h('table', { class: 'table', 'data-testid': 'record-log' },
      h('thead', {}, h('tr', {}, [t('time'), t('record.event'), t('record.organization'), t('record.purpose'), t('height')].map((c) => h('th', {}, c)))),
      h('tbody', {}, log)));
}
