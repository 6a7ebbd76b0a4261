// Parsing of ids and numbers from the command line: one-line UsageErrors naming the input.
import { UsageError } from './errors.js';

/** "all" → every item; "a,b" → those items; an unknown id lists the valid ones. */
export function pickIds<T extends { id: string }>(flag: string, value: string, items: T[]): T[] {
  if (value === 'all') return items;
  return value.split(',').map((id) => {
    const hit = items.find((x) => x.id === id.trim());
    if (!hit) throw new UsageError(`${flag} ${id}: unknown; valid: ${items.map((x) => x.id).join(', ')}, all`);
    return hit;
  });
}

/** A whole number in [min, max]. */
export function parseCount(flag: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`${flag} ${value}: expected a whole number from ${min} to ${max}`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`${flag} ${value}: expected a whole number from ${min} to ${max}`);
  return n;
}

/** A finite number > 0 and ≤ max. */
export function parsePositive(flag: string, value: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > max) throw new UsageError(`${flag} ${value}: expected a number greater than 0${max < Number.MAX_SAFE_INTEGER ? ` and at most ${max}` : ''}`);
  return n;
}
