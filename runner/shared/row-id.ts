// The identity of a result row: which strategy (and variant) served which workload's scan with
// which access method. Ids, not objects: the sample worker receives them over IPC and results
// files store them. Runner code that holds the registry objects uses RowOf<Strategy, Workload>.
import type { Access } from './access.js';

export interface RowOf<S, W> {
  strategy: S;
  /** '' when the strategy has no variants. */
  variant: string;
  workload: W;
  access: Access;
}

export type RowId = RowOf<string, string>;

/** The ids of a row that holds the registry's strategy and workload objects. */
export function rowIdOf(row: RowOf<{ id: string }, { id: string }>): RowId {
  return { strategy: row.strategy.id, variant: row.variant, workload: row.workload.id, access: row.access };
}

/** "strategy/variant", or just the strategy when it has no variant. */
export function strategyLabel(id: Pick<RowId, 'strategy' | 'variant'>): string {
  return id.variant ? `${id.strategy}/${id.variant}` : id.strategy;
}

/** "strategy/variant workload access": one row in progress lines. */
export function rowIdLabel(id: RowId): string {
  return `${strategyLabel(id)} ${id.workload} ${id.access}`;
}
