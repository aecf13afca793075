// How each server ended, read from the servers' own JSON log lines (server.log
// in the state directory): its exit code, and what a drain deadline cut.
// restart.sh cannot learn the exit code of an old server that is not its
// child; the server says it itself before it exits.

export interface ServerEnding {
  pid: number;
  /** From the server's `exit` line; null when it left none (killed, or still running). */
  exitCode: number | null;
  /** From a `drain_deadline` line: what the deadline cut. */
  drainDeadline: { cutConnections: number; cutRequests: number } | null;
}

/** Parses server.log; lines that are not the servers' JSON events are skipped. */
export function parseServerLog(text: string): ServerEnding[] {
  const servers = new Map<number, ServerEnding>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let event: { pid?: unknown; event?: unknown; code?: unknown; cutConnections?: unknown; cutRequests?: unknown };
    try {
      event = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof event.pid !== 'number' || typeof event.event !== 'string') continue;
    const server = servers.get(event.pid) ?? { pid: event.pid, exitCode: null, drainDeadline: null };
    servers.set(event.pid, server);
    if (event.event === 'exit' && typeof event.code === 'number') server.exitCode = event.code;
    if (event.event === 'drain_deadline') server.drainDeadline = { cutConnections: Number(event.cutConnections ?? 0), cutRequests: Number(event.cutRequests ?? 0) };
  }
  return [...servers.values()];
}
