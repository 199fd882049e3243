// simin portal: English and Korean labels, chosen by the browser or the toggle.

const STRINGS = {
  en: {
    skip: 'Skip to content',
    'nav.blocks': 'Blocks',
    'nav.check': 'Check a document',
    'nav.data': 'City data',
    'nav.record': 'My records',
    'data.title': 'Dataset {dataset}',
    'data.intro': 'Readings signed by registered sensors; every reading can be proved against a block header.',
    'data.chart': 'Mean of {field} per interval, with its minimum and maximum',
    'data.field': 'Field', 'data.window': 'Window', 'data.district': 'District', 'data.source': 'Source', 'data.value': 'Value',
    'data.summary': '{field}: {scanned} readings in {buckets} intervals.',
    'data.empty': 'No committed readings in this window.',
    'data.export': 'Open data export:',
    'data.latest': 'Latest readings',
    'data.proof': 'proof',
    'record.title': 'A personal record',
    'record.intro': 'Enter a record id from your wallet to see what the chain holds about it: never its content.',
    'record.id': 'Record id',
    'record.kind': 'Kind', 'record.holder': 'Held by', 'record.commitment': 'Commitment (SHA-256 of the encrypted content)',
    'record.created': 'Created', 'record.state': 'State', 'record.live': 'readable by the holder and those you consent to',
    'record.erased': 'erased {when}: its key was destroyed, the content is unreadable everywhere',
    'record.private': 'The content is encrypted off chain; the chain holds this commitment, your pseudonymous key, your consents and every access.',
    'record.log': 'Access log', 'record.event': 'Event', 'record.organization': 'Organisation', 'record.purpose': 'Purpose',
    'record.event.created': 'created', 'record.event.consent_granted': 'consent granted', 'record.event.consent_revoked': 'consent revoked',
    'record.event.read': 'read', 'record.event.erased': 'erased',
    'search.label': 'Height or hash',
    'search.placeholder': 'Height, tx hash or document hash',
    'search.go': 'Go',
    loading: 'Loading…',
    foot: "Every answer here can be checked against the validators' signatures.",
    'chain.status': 'Chain {chain} · height {height} · {validators} validators · {mempool} pending',
    'blocks.title': 'Latest blocks',
    'blocks.refresh': 'Refreshes every few seconds.',
    'blocks.none': 'No block has been committed yet.',
    'blocks.older': 'Older blocks',
    height: 'Height', hash: 'Hash', time: 'Time', txs: 'Transactions', proposer: 'Proposer',
    'block.title': 'Block {height}',
    'block.header': 'Header',
    'block.txs': 'Transactions',
    'block.notxs': 'This block has no transactions.',
    'block.cert': 'Commit certificate',
    'block.nocert': 'The node has no certificate for this block.',
    'block.signers': '{n} validators signed in round {round}.',
    'block.prev': '← Previous', 'block.next': 'Next →',
    call: 'Call', outcome: 'Outcome', signer: 'Signer', nonce: 'Nonce', index: 'Index', validator: 'Validator',
    'tx.title': 'Transaction',
    'tx.receipt': 'Receipt',
    'tx.proof': 'Inclusion proof',
    'tx.proofnote': 'Leaf {index} of {size} under the block header\'s tx_root.',
    'tx.block': 'In block',
    'check.title': 'Check a document',
    'check.intro': 'Drop a file to see whether it was anchored on the chain. The file never leaves your computer: only its SHA-256 is looked up.',
    'check.drop': 'Drop a file here, or click to choose one',
    'check.hashing': 'Computing SHA-256…',
    'check.hash': 'SHA-256 of {name}',
    'notary.title': 'Document',
    'notary.anchored': 'Anchored',
    'notary.anchored.by': 'Anchored by {org} at height {height} on {time}.',
    'notary.never': 'Never anchored',
    'notary.never.detail': 'No organisation has anchored a document with this SHA-256.',
    organization: 'Organisation', anchor: 'Anchor', 'batch': 'Batch', documents: 'Documents', 'state.root': 'State root',
    'notary.batch': 'Part of a batch of {n}: leaf {index}.',
    'notary.verify': 'Verify offline with: simin notary verify {hash}',
    error: 'Something went wrong',
    'not.found': 'Not found',
  },
  ko: {
    skip: '본문으로 건너뛰기',
    'nav.blocks': '블록',
    'nav.check': '문서 확인',
    'nav.data': '도시 데이터',
    'nav.record': '내 기록',
    'data.title': '데이터셋 {dataset}',
    'data.intro': '등록된 센서가 서명한 측정값입니다. 모든 측정값은 블록 헤더로 증명할 수 있습니다.',
    'data.field': '항목', 'data.window': '기간', 'data.district': '자치구', 'data.source': '출처', 'data.value': '값',
    'data.summary': '{field}: {buckets}개 구간에 {scanned}개 측정값.',
    'data.empty': '이 기간에 확정된 측정값이 없습니다.',
    'data.export': '공공데이터 내보내기:',
    'data.latest': '최근 측정값',
    'data.proof': '증명',
    'record.title': '개인 기록',
    'record.log': '열람 기록',
    'record.event.created': '생성', 'record.event.consent_granted': '동의', 'record.event.consent_revoked': '동의 철회',
    'record.event.read': '열람', 'record.event.erased': '파기',
    'search.label': '높이 또는 해시',
    'search.placeholder': '블록 높이, 거래 해시 또는 문서 해시',
    'search.go': '검색',
    loading: '불러오는 중…',
    foot: '이 화면의 모든 답은 검증자 서명으로 확인할 수 있습니다.',
    'chain.status': '체인 {chain} · 높이 {height} · 검증자 {validators}명 · 대기 {mempool}건',
    'blocks.title': '최근 블록',
    'blocks.refresh': '몇 초마다 새로 고칩니다.',
    'blocks.none': '아직 확정된 블록이 없습니다.',
    'blocks.older': '이전 블록',
    height: '높이', hash: '해시', time: '시각', txs: '거래', proposer: '제안자',
    'block.title': '블록 {height}',
    'block.header': '헤더',
    'block.txs': '거래',
    'block.notxs': '이 블록에는 거래가 없습니다.',
    'block.cert': '확정 인증서',
    'block.nocert': '이 블록의 인증서가 노드에 없습니다.',
    'block.signers': '검증자 {n}명이 라운드 {round}에서 서명했습니다.',
    'block.prev': '← 이전', 'block.next': '다음 →',
    call: '호출', outcome: '결과', signer: '서명자', nonce: '논스', index: '순번', validator: '검증자',
    'tx.title': '거래',
    'tx.receipt': '영수증',
    'tx.proof': '포함 증명',
    'tx.proofnote': '블록 헤더 tx_root 아래 {size}개 중 {index}번째 잎.',
    'tx.block': '포함 블록',
    'check.title': '문서 확인',
    'check.intro': '파일을 끌어다 놓으면 체인에 등록되었는지 확인합니다. 파일은 컴퓨터를 떠나지 않고 SHA-256 값만 조회합니다.',
    'check.drop': '여기에 파일을 놓거나 눌러서 고르세요',
    'check.hashing': 'SHA-256 계산 중…',
    'check.hash': '{name}의 SHA-256',
    'notary.title': '문서',
    'notary.anchored': '등록됨',
    'notary.anchored.by': '{org} 기관이 높이 {height}, {time}에 등록했습니다.',
    'notary.never': '등록된 적 없음',
    'notary.never.detail': '이 SHA-256 값의 문서를 등록한 기관이 없습니다.',
    organization: '기관', anchor: '앵커', 'batch': '묶음', documents: '문서 수', 'state.root': '상태 루트',
    'notary.batch': '{n}건 묶음의 {index}번째 잎.',
    'notary.verify': '오프라인 검증: simin notary verify {hash}',
    error: '문제가 생겼습니다',
    'not.found': '찾을 수 없음',
  },
};

let current = localStorage.getItem('simin.lang') || ((navigator.language || 'en').startsWith('ko') ? 'ko' : 'en');

export function lang() {
  return current;
}

export function setLang(next) {
  current = STRINGS[next] ? next : 'en';
  localStorage.setItem('simin.lang', current);
}

/** The label `key` in the current language, with `{name}` placeholders filled in. */
export function t(key, values = {}) {
  const text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ''));
}

/** Applies labels to the static parts of the page. */
export function translateStatic(root = document) {
  document.documentElement.lang = current;
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
}
