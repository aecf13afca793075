// The gallery (examples/): real servers, each in a small image built from
// Debian packages or npm, each with the gate configuration it is judged by.
// The gate is not tuned to any of them.
import { join } from 'node:path';

export interface Example {
  name: string;
  /** What it is and how it restarts, one line. */
  summary: string;
  /** How its image is built: a Dockerfile in examples/ (context: examples/), or this project's own image. */
  build: { dockerfile: string } | { project: true };
  /** The Node major its image is built on (the Dockerfile's NODE_VERSION); default: the project's. */
  nodeVersion?: string;
  /** The image tag its gate configuration names. */
  image: string;
  /** Its gate configuration, from the repository root. */
  config: string;
}

export const EXAMPLES: Example[] = [
  {
    name: 'go-seed',
    summary:
      'seed 004 in Go: SO_REUSEPORT via net.ListenConfig, Shutdown on SIGTERM; restart script waits on /healthz through the shared port',
    build: { dockerfile: 'go-seed/Dockerfile' },
    image: 'reuseport-lab-example/go-seed:local',
    config: 'examples/go-seed/gate.json',
  },
  {
    name: 'go-static',
    summary: 'the same binary alone on an empty base (no shell): PID 1 restarts it on SIGHUP; --identity none',
    build: { dockerfile: 'go-seed/Dockerfile.static' },
    image: 'reuseport-lab-example/go-static:local',
    config: 'examples/go-seed/gate.static.json',
  },
  {
    name: 'node-plain',
    summary: "plain Node: listen({ reusePort: true }), server.close() on SIGTERM; the seed's restart script",
    build: { dockerfile: 'node-plain/Dockerfile' },
    image: 'reuseport-lab-example/node-plain:local',
    config: 'examples/node-plain/gate.json',
  },
  {
    name: 'nginx',
    summary: "Debian's nginx, two workers, nginx -s reload",
    build: { dockerfile: 'nginx/Dockerfile' },
    image: 'reuseport-lab-example/nginx:local',
    config: 'examples/nginx/gate.json',
  },
  {
    name: 'nginx-tls',
    summary: 'the same nginx serving HTTPS with a self-signed certificate (--tls --insecure)',
    build: { dockerfile: 'nginx/Dockerfile.tls' },
    image: 'reuseport-lab-example/nginx-tls:local',
    config: 'examples/nginx/gate.tls.json',
  },
  {
    name: 'node-h2',
    summary:
      "plain Node over HTTP/2 (h2c): http2.createServer, listen({ reusePort: true }), server.close() on SIGTERM; the seed's restart script",
    build: { dockerfile: 'node-h2/Dockerfile' },
    image: 'reuseport-lab-example/node-h2:local',
    config: 'examples/node-h2/gate.json',
  },
  {
    name: 'node20-h2',
    summary:
      'the same server under Node 20, where listen() ignores reusePort (the new process cannot bind) and close() leaves open sessions be',
    build: { dockerfile: 'node-h2/Dockerfile' },
    nodeVersion: '20',
    image: 'reuseport-lab-example/node20-h2:local',
    config: 'examples/node-h2/gate.node20.json',
  },
  {
    name: 'grpc-go',
    summary:
      "grpc-go (Debian's) with the health service: SO_REUSEPORT, GracefulStop on SIGTERM (two GOAWAYs), Stop after 5 s; the seed's restart script with a gRPC health probe",
    build: { dockerfile: 'grpc-go/Dockerfile' },
    image: 'reuseport-lab-example/grpc-go:local',
    config: 'examples/grpc-go/gate.json',
  },
  {
    name: 'nginx-h2c',
    summary: "Debian's nginx over HTTP/2 in clear text (listen 8080 http2), nginx -s reload",
    build: { dockerfile: 'nginx/Dockerfile.h2c' },
    image: 'reuseport-lab-example/nginx-h2c:local',
    config: 'examples/nginx/gate.h2c.json',
  },
  {
    name: 'pm2',
    summary: 'pm2 cluster of two Node instances, pm2 reload all',
    build: { dockerfile: 'pm2/Dockerfile' },
    image: 'reuseport-lab-example/pm2:local',
    config: 'examples/pm2/gate.json',
  },
  {
    name: 'reuseport-lab',
    summary: "this project's server and scripts/restart.sh",
    build: { project: true },
    image: 'reuseport-lab:local',
    config: 'examples/reuseport-lab/gate.json',
  },
  {
    name: 'reuseport-lab-handoff',
    summary: "this project's server, the listening socket handed to the new one (scripts/restart.sh --handoff)",
    build: { project: true },
    image: 'reuseport-lab:local',
    config: 'examples/reuseport-lab/gate.handoff.json',
  },
  {
    name: 'reuseport-lab-naive',
    summary: "this project's server, stopped and then started (scripts/naive-restart.sh)",
    build: { project: true },
    image: 'reuseport-lab:local',
    config: 'examples/reuseport-lab/gate.naive.json',
  },
];

/** The build context of the examples' Dockerfiles. */
export const EXAMPLES_DIR = (root: string) => join(root, 'examples');
