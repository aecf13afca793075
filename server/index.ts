// reuseport-lab/server: the parts of this project's server that another Node
// service adopts to restart without losing a request. main.ts is the whole
// wiring; in short, in this order:
//
//   const fd = listenReusePort('0.0.0.0', 8080);          // every version binds the port
//   const server = http.createServer({ keepAliveTimeout: 2000 });  // announced: Keep-Alive: timeout=2
//   const drainer = new Drainer(server, { idleGraceMs: 2000, deadlineMs: 20000, log: logEvent,
//     beforeListenerClose: () => steerThenSettle({ fd, address: '0.0.0.0', port: 8080, pid: process.pid }) });
//   server.on('request', drainer.handle(app));
//   server.listen({ fd }, () => readiness.markReady({}));  // a marker for this PID, READY=1 to systemd
//   acceptEagerly(server, fd, 64);                       // the whole accept queue, not one per loop turn
//   process.on('SIGTERM', () => { readiness.withdraw(); drainer.drain().then((code) => process.exit(code)); });
//
// The steer proves itself with one GET /healthz through the port and reads
// who answered from the X-Server-Pid header: a service that adopts it must
// answer /healthz with its PID there (app.ts does), or nothing is steered
// that can be trusted. The addon behind listenReusePort and sdNotify ships
// prebuilt for linux-x64; drain.ts holds the drain's contract, line by line.
export { acceptEagerly } from './accept.js';
export { Drainer, type DrainOptions } from './drain.js';
export { Readiness, processStartTime } from './readiness.js';
export { STEER_DEFAULTS, settle, steerAway, steerThenSettle, type SteerOutcome, type SteerTarget } from './steer.js';
export { SERVICE_RESTART } from './websocket.js';
export { logEvent } from './log.js';
export {
  acceptQueueLength,
  DEFAULT_BACKLOG,
  inspectSocket,
  listenReusePort,
  sdNotify,
  type SocketInfo,
} from '../native/index.js';
