// Statistics for `bench gate`: a two-sided Mann-Whitney U (Wilcoxon rank-sum) test with an
// exact p-value for the small sample counts a benchmark run has, and a seeded PRNG.
// The rank sum itself comes from simple-statistics (wilcoxonRankSum); simple-statistics has no
// p-value for it, and its permutationTest compares means with Math.random-style resampling
// (p can be 0, and it is not reproducible), so the null distribution is computed here.

import { errorFunction, wilcoxonRankSum } from 'simple-statistics';

/** Outcome of a two-sided rank-sum test of x against y. */
export interface RankTest {
  /** Two-sided p-value: 2 × the smaller tail probability of the observed rank sum, at most 1. */
  p: number;
  /** The smallest two-sided p-value these sample sizes (and this tie pattern) can produce at all;
   *  when it exceeds alpha, no difference can ever be significant. */
  minP: number;
  /** exact: the full permutation distribution of the rank sum (ties as midranks);
   *  normal: the tie- and continuity-corrected normal approximation (large samples only). */
  method: 'exact' | 'normal';
}

/** Exact distributions are used while (pooled n) × (smaller n) × (rank-sum range) stays below this. */
const EXACT_WORK_LIMIT = 2e7;
/** Cumulative null distributions of tie-free tests, by "m,n" (they depend on the sizes only). */
const cache = new Map<string, Float64Array>();

/**
 * Two-sided Mann-Whitney U / Wilcoxon rank-sum test of x against y.
 * Exact (every assignment of the pooled midranks to the groups) while that is cheap, which
 * covers every realistic benchmark sample count (e.g. 30 vs 30); the normal approximation
 * with tie and continuity correction beyond. Both samples need at least one value.
 */
export function rankSumTest(x: readonly number[], y: readonly number[]): RankTest {
  if (x.length === 0 || y.length === 0) throw new RangeError('rankSumTest: empty sample');
  // Work on the smaller group: its rank-sum distribution is the cheaper one to enumerate.
  const [a, b] = x.length <= y.length ? [x, y] : [y, x];
  const m = a.length;
  const n = b.length;
  const total = m + n;
  const ranks2 = doubledMidranks([...a, ...b]);
  // wilcoxonRankSum gives a's rank sum; doubled, it is an integer even with half-rank ties.
  const w2 = Math.round(2 * wilcoxonRankSum(a, b));
  const sorted = [...ranks2].sort((p, q) => p - q);
  const lo2 = sumOf(sorted.slice(0, m));
  const hi2 = sumOf(sorted.slice(total - m));
  const range = sumOf(ranks2);
  if (total * m * range <= EXACT_WORK_LIMIT) {
    const cdf = exactCdf(ranks2, m, n);
    const tails = (s: number) => Math.min(cdf[s], 1 - (s > 0 ? cdf[s - 1] : 0));
    return { p: Math.min(1, 2 * tails(w2)), minP: Math.min(1, 2 * Math.min(cdf[lo2], 1 - (hi2 > 0 ? cdf[hi2 - 1] : 0))), method: 'exact' };
  }
  const normalP = (s2: number) => {
    const mean = (m * (total + 1)) / 2;
    const ties = tieTerm(ranks2);
    const variance = ((m * n) / 12) * (total + 1 - ties / (total * (total - 1)));
    if (variance <= 0) return 1;
    const z = Math.max(0, Math.abs(s2 / 2 - mean) - 0.5) / Math.sqrt(variance);
    return Math.min(1, 1 - errorFunction(z / Math.SQRT2));
  };
  return { p: normalP(w2), minP: normalP(lo2), method: 'normal' };
}

/** Pooled midranks (1-based) times two, so that tied half-ranks stay integers. */
function doubledMidranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((p, q) => p[0] - q[0]);
  const out = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) out[order[k][1]] = i + j + 2; // 2 × mean of ranks i+1..j+1
    i = j + 1;
  }
  return out;
}

/** Σ(t³ − t) over groups of tied values (t = group size), from doubled ranks. */
function tieTerm(ranks2: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const r of ranks2) counts.set(r, (counts.get(r) ?? 0) + 1);
  let s = 0;
  for (const t of counts.values()) s += t * t * t - t;
  return s;
}

/** P(doubled rank sum of a random m-subset ≤ s), for every s, by subset-sum counting. */
function exactCdf(ranks2: readonly number[], m: number, n: number): Float64Array {
  const tieFree = new Set(ranks2).size === ranks2.length;
  const key = `${m},${n}`;
  if (tieFree && cache.has(key)) return cache.get(key)!;
  const range = sumOf(ranks2);
  // ways[k * (range + 1) + s] = number of k-subsets of the items seen so far with sum s.
  const width = range + 1;
  const ways = new Float64Array((m + 1) * width);
  ways[0] = 1;
  let reach = 0;
  ranks2.forEach((r, i) => {
    reach += r;
    for (let k = Math.min(i + 1, m); k >= 1; k--) {
      const row = k * width;
      const prev = (k - 1) * width;
      for (let s = reach; s >= r; s--) ways[row + s] += ways[prev + s - r];
    }
  });
  const cdf = new Float64Array(width);
  let all = 0;
  for (let s = 0; s < width; s++) all += ways[m * width + s];
  let acc = 0;
  for (let s = 0; s < width; s++) {
    acc += ways[m * width + s];
    cdf[s] = acc / all;
  }
  if (tieFree) cache.set(key, cdf);
  return cdf;
}

function sumOf(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

/** A seeded PRNG (mulberry32) returning numbers in [0, 1): reproducible splits and fixtures. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
