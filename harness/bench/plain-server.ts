// The yardstick of `npm run bench`: a plain http.createServer that sends the
// same body and the same headers as ours, and nothing else. With
// REUSE_PORT=1 it binds with Node's own listen({ reusePort: true }) (Node
// 22.12+/23.1+) instead of a plain listen.
import { createServer } from 'node:http';

const body = Buffer.from(`OK. Handled by PID: ${process.pid}\n`);
const headers = {
  'X-Server-Pid': String(process.pid),
  'X-Server-Version': 'v1',
  'Content-Type': 'text/plain; charset=utf-8',
  'Content-Length': body.length,
};
const server = createServer((_req, res) => {
  res.writeHead(200, headers);
  res.end(body);
});
const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';
// reusePort is newer than @types/node 20: passed through as is.
server.listen({ port, host, ...(process.env.REUSE_PORT === '1' ? { reusePort: true } : {}) } as Parameters<
  typeof server.listen
>[0]);
process.on('SIGTERM', () => process.exit(0));
