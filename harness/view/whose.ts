// Whose server a run restarted: this project's, by one of its strategies
// (poc), or a user's, by their own command (gate). The views name the
// restarts and the evidence by it, so a report of someone else's server
// reads in their terms, not ours.
import type { ResultDocument } from '../result/document.js';
import { USER_COMMAND } from '../runtime/runtime.js';

export const isOurServer = (doc: Pick<ResultDocument, 'parameters'>) => doc.parameters.strategy !== USER_COMMAND;

/** The restarts' name: our strategy (`reuseport`), or the user's command in quotes. */
export function restartsName(doc: Pick<ResultDocument, 'parameters'>): string {
  return isOurServer(doc) ? doc.parameters.strategy : `'${doc.parameters.server?.restart ?? 'your command'}'`;
}
