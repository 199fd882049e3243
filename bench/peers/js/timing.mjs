// Timing shared by the JS peers, the same as `simin-bench measure`: a warm-up, then
// rounds over the items in turn (each operation awaited before the next, on one
// thread), the median round reported as one line of JSON.

export async function rate({ warmupMs, roundMs, rounds, count, op }) {
  let next = 0;
  const step = async () => {
    const item = next % count;
    if (!(await op(item))) {
      throw new Error(`item ${item} did not verify`);
    }
    next += 1;
  };
  const warm = performance.now();
  while (performance.now() - warm < warmupMs) {
    await step();
  }
  const results = [];
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    let ops = 0;
    for (;;) {
      await step();
      ops += 1;
      if (ops % 8 === 0 && performance.now() - start >= roundMs) break;
    }
    results.push(ops / ((performance.now() - start) / 1000));
  }
  const sorted = [...results].sort((a, b) => a - b);
  return {
    ops_per_sec: Math.round(sorted[Math.floor(sorted.length / 2)]),
    rounds: results.map(Math.round),
  };
}

export function settings(argv) {
  const [dir, warmupMs = '1000', roundMs = '2000', rounds = '3'] = argv;
  if (!dir) throw new Error('usage: DIR [WARMUP_MS] [ROUND_MS] [ROUNDS]');
  return { dir, warmupMs: Number(warmupMs), roundMs: Number(roundMs), rounds: Number(rounds) };
}
