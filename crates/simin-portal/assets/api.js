// simin portal: calls to the node's JSON API, with RFC 9457 problems as values.

/** An error answer of the API, carrying its problem+json body. */
export class ApiProblem extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.type = problem.type || '';
    this.title = problem.title || '';
  }

  /** The stable slug at the end of the problem type, e.g. `not-anchored`. */
  get slug() {
    return this.type.split('/').pop();
  }
}

const TIMEOUT_MS = 10000;

/** GETs `path` and returns its JSON; throws ApiProblem on an error answer. */
export async function getJson(path) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  try {
    const response = await fetch(path, { headers: { accept: 'application/json' }, signal: controller.signal });
    const text = await response.text();
    let body = {};
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      body = { detail: text.slice(0, 200) };
    }
    if (!response.ok) throw new ApiProblem(response.status, body);
    return body;
  } finally {
    clearTimeout(timer);
  }
}

export const api = {
  status: () => getJson('/v1/status'),
  blocks: (limit = 20, before) => getJson(`/v1/blocks?limit=${limit}${before ? `&before=${before}` : ''}`),
  block: (height) => getJson(`/v1/blocks/${encodeURIComponent(height)}`),
  tx: (hash) => getJson(`/v1/txs/${encodeURIComponent(hash)}`),
  notary: (hash) => getJson(`/v1/notary/${encodeURIComponent(hash)}`),
};

/** Files larger than this are not hashed: WebCrypto needs the whole file in memory. */
export const FILE_BYTES_MAX = 256 * 1024 * 1024;

/** SHA-256 of a File as lowercase hex, computed in the browser. */
export async function sha256File(file) {
  if (!globalThis.crypto || !crypto.subtle) {
    throw new Error('WebCrypto is unavailable: open the portal over https or on 127.0.0.1/localhost.');
  }
  if (file.size > FILE_BYTES_MAX) {
    throw new Error(`The file is over ${FILE_BYTES_MAX / 1024 / 1024} MiB.`);
  }
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
