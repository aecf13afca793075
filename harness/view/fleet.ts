// A fleet's tasks as rows, for the terminal and the HTML report: each task's
// life in seconds since the load started (negative: before it) and how many
// answers carried its container's name.
import type { ResultDocument } from '../result/document.js';

export const FLEET_COLUMNS = [
  'slot',
  'container',
  'created (s)',
  'running (s)',
  'out of DNS (s)',
  'signalled (s)',
  'ended (s)',
  'state',
  'answers',
];

export function fleetRows(doc: ResultDocument): (string | number)[][] {
  if (!doc.fleet) return [];
  const seconds = (at: number | null) => (at === null ? '–' : ((at - doc.startedAt) / 1000).toFixed(1));
  const answers = new Map<string, number>();
  for (const p of doc.pids) {
    const name = doc.identityNames?.[String(p.pid)];
    if (name) answers.set(name, (answers.get(name) ?? 0) + p.count);
  }
  return doc.fleet.tasks.map((t) => {
    const answered =
      t.container === null ? undefined : [...answers].find(([name]) => name.startsWith(t.container!))?.[1];
    return [
      t.slot ?? '–',
      t.container ?? t.id.slice(0, 12),
      seconds(t.createdAt),
      seconds(t.runningAt),
      seconds(t.stoppingAt),
      seconds(t.signalledAt),
      seconds(t.endedAt),
      t.state,
      answered ?? 0,
    ];
  });
}
