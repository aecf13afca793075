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
  /**
   * How its listener closed (drain line 2): steered to another listener
   * first, or why not, and how many connections it accepted while draining;
   * null when it never closed its listener (still serving, or killed).
   */
  listenerClose: ListenerClose | null;
}

export interface ListenerClose {
  steered: boolean;
  /** The PID it handed its listening socket to (handoff): then nothing closed, and nothing needed steering. */
  handedTo: number | null;
  /** Why nothing was steered (`steer_skipped`), else null. */
  reason: string | null;
  acceptedWhileDraining: number | null;
}

/** Parses server.log; lines that are not the servers' JSON events are skipped. */
export function parseServerLog(text: string): ServerEnding[] {
  const servers = new Map<number, ServerEnding>();
  const handedTo = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let event: {
      pid?: unknown;
      event?: unknown;
      code?: unknown;
      cutConnections?: unknown;
      cutRequests?: unknown;
      reason?: unknown;
      acceptedWhileDraining?: unknown;
      to?: unknown;
    };
    try {
      event = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof event.pid !== 'number' || typeof event.event !== 'string') continue;
    const server: ServerEnding = servers.get(event.pid) ?? {
      pid: event.pid,
      exitCode: null,
      drainDeadline: null,
      listenerClose: null,
    };
    servers.set(event.pid, server);
    if (event.event === 'exit' && typeof event.code === 'number') server.exitCode = event.code;
    if (event.event === 'drain_deadline')
      server.drainDeadline = {
        cutConnections: Number(event.cutConnections ?? 0),
        cutRequests: Number(event.cutRequests ?? 0),
      };
    if (event.event === 'listener_handed_over' && typeof event.to === 'number') handedTo.set(event.pid, event.to);
    const close = (steered: boolean, reason: string | null) => ({
      steered,
      reason,
      handedTo: handedTo.get(server.pid) ?? null,
      acceptedWhileDraining: null,
    });
    if (event.event === 'steered') server.listenerClose = close(true, null);
    if (event.event === 'steer_skipped') server.listenerClose = close(false, String(event.reason ?? ''));
    if (event.event === 'listener_closed') {
      server.listenerClose ??= close(false, 'the server said nothing of steering (an older version)');
      server.listenerClose.acceptedWhileDraining =
        typeof event.acceptedWhileDraining === 'number' ? event.acceptedWhileDraining : null;
    }
  }
  return [...servers.values()];
}
