export type ProgramStatus = 'draft' | 'active' | 'paused' | 'closed';

/**
 * A program's lifecycle: draft → active ⇄ paused, and any state but closed → closed. Closed is
 * final because commissions and links must keep pointing at a program that no longer changes.
 */
const NEXT: Record<ProgramStatus, readonly ProgramStatus[]> = {
  draft: ['active', 'closed'],
  active: ['paused', 'closed'],
  paused: ['active', 'closed'],
  closed: [],
};

export function canChangeProgramStatus(from: ProgramStatus, to: ProgramStatus): boolean {
  return from === to || NEXT[from].includes(to);
}
