// The load modes: which ones a run drives, and what each is called for people.
// Two kinds of load fail differently: keep-alive connections are cut at a
// server's exit; a new connection per request meets a closing listener.

export type LoadChoice = 'keepalive' | 'churn' | 'both';
export type LoadMode = 'keepalive' | 'churn';

export const MODE_NAMES: Record<LoadMode, string> = { keepalive: 'keep-alive', churn: 'new connection per request' };

export function modesOf(load: LoadChoice): LoadMode[] {
  return load === 'both' ? ['keepalive', 'churn'] : [load];
}

/** How the load was generated, for the report. */
export function describeLoad(options: {
  load: LoadChoice;
  connections: number;
  requests?: { name: string; weight: number }[] | null;
  longLane?: { path: string; connections: number } | null;
  stream?: { kind: string; path: string; connections: number } | null;
}): string {
  const keepalive = `autocannon, ${options.connections} keep-alive connections, made to honour Connection: close like a compliant HTTP/1.1 client`;
  const churn = `${options.connections} loops of one request per new connection (raw sockets, http-parser-js)`;
  const modes = options.load === 'keepalive' ? keepalive : options.load === 'churn' ? churn : `${keepalive}; and ${churn}`;
  const mix = options.requests ? `, sending the mix ${options.requests.map((k) => `${k.name} ×${k.weight}`).join(', ')}` : '';
  const lane = options.longLane ? `; and a long-request lane: ${options.longLane.connections} connections each keeping GET ${options.longLane.path} in flight` : '';
  const stream = options.stream ? `; and ${options.stream.connections} ${options.stream.kind} clients of ${options.stream.path} coming back with Last-Event-ID` : '';
  return modes + mix + lane + stream;
}
