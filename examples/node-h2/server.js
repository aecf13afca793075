// A plain Node HTTP/2 server in clear text (h2c, prior knowledge), no
// framework and no addon: Node's own listen({ reusePort: true }) so a new
// process binds beside the old one, and server.close() on SIGTERM, the way
// a Node HTTP/2 server is usually stopped. What close() sends the open
// sessions is Node's choice, and it differs between versions (docs/how-it-works.md, "HTTP/2: two GOAWAYs").
import http2 from 'node:http2';

const port = Number(process.env.PORT ?? 8080);
const answer = (res) => {
  res.setHeader('X-Server-Pid', String(process.pid));
  res.end(`OK. Handled by PID: ${process.pid}\n`);
};
const server = http2.createServer((req, res) => {
  if (req.url === '/healthz') return res.end('ok\n');
  // A request that takes ?ms=N, for the gallery's long-request lane, as any app has a slow endpoint.
  if (req.url.startsWith('/slow?'))
    return setTimeout(answer, Math.min(60_000, Number(new URL(req.url, 'http://x').searchParams.get('ms')) || 0), res);
  answer(res);
});
server.listen({ port, host: '0.0.0.0', reusePort: true }, () => console.log(`pid ${process.pid} listening on ${port}`));
process.on('SIGTERM', () => {
  console.log(`pid ${process.pid} closing`);
  server.close(() => process.exit(0));
});
