// One instance of a pm2 cluster (pm2/ecosystem.config.cjs): pm2's cluster
// master owns the port and hands connections to the instances.
const { createServer } = require('node:http');

const answer = (res) => {
  res.setHeader('X-Server-Pid', String(process.pid));
  res.end(`OK. Handled by PID: ${process.pid}\n`);
};
const server = createServer((req, res) => {
  // A request that takes ?ms=N, for the gallery's long-request lane, as any app has a slow endpoint.
  if (req.url.startsWith('/slow?'))
    return setTimeout(answer, Math.min(60_000, Number(new URL(req.url, 'http://x').searchParams.get('ms')) || 0), res);
  answer(res);
});
server.listen(Number(process.env.PORT ?? 8080), () => process.send?.('ready'));
// pm2 reload sends SIGINT, waits kill_timeout, then SIGKILL.
process.on('SIGINT', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
