// A user's own unary gRPC method as the load: its request built from the
// .proto file and the JSON body, every bad input one line that names the
// flag; then sent on the open model's schedule to a real gRPC server
// (@grpc/grpc-js, in process), every call answered OK and counted.
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES } from '../../test/processes.js';
import { NO_SCHEDULE } from './arrivals.js';
import { grpcCheck, grpcMethodKind, grpcMessage } from './grpc.js';
import { Http2Ledger } from './h2-ledger.js';
import { startOpenLoad } from './open-load.js';
import { Recorder } from './recorder.js';

const SHOP = join(FIXTURES, 'grpc/shop.proto');
const servers: grpc.Server[] = [];
afterEach(() => servers.splice(0).forEach((server) => server.forceShutdown()));

describe('--grpc-method', () => {
  it("encodes --grpc-body as the method's request message, sent as a gRPC POST to its path", () => {
    const { name, kind } = grpcMethodKind(SHOP, 'shop.Cart/Add', '{"item":"tea","count":2}');
    expect(name).toBe('shop.Cart/Add');
    expect(kind).toMatchObject({
      name: 'gRPC shop.Cart/Add',
      method: 'POST',
      path: '/shop.Cart/Add',
      headers: { 'content-type': 'application/grpc', te: 'trailers' },
    });
    // item = 1 (length-delimited "tea"), count = 2 (varint 2), behind the 5-byte prefix.
    expect(kind.body).toEqual(grpcMessage(Buffer.from([0x0a, 3, 0x74, 0x65, 0x61, 0x10, 2])));
  });

  it.each([
    [SHOP, 'shop.Cart.Add', '{}', /--grpc-method "shop.Cart.Add" is not pkg.Service\/Method/],
    [join(FIXTURES, 'grpc/none.proto'), 'shop.Cart/Add', '{}', /--grpc-proto .*none.proto: ENOENT/],
    [join(FIXTURES, 'grpc/broken.proto'), 'shop.Cart/Add', '{}', /--grpc-proto .*broken.proto: illegal/],
    [SHOP, 'shop.Cart/Remove', '{}', /--grpc-method shop.Cart\/Remove is not in .*shop.proto; its services: shop.Cart/],
    [SHOP, 'shop.Cart/Follow', '{}', /--grpc-method shop.Cart\/Follow streams; the load sends unary methods only/],
    [SHOP, 'shop.Cart/Add', '{item:', /--grpc-body is not JSON/],
    [SHOP, 'shop.Cart/Add', '[1]', /--grpc-body must be a JSON object/],
    [
      SHOP,
      'shop.Cart/Add',
      '{"itme":"tea"}',
      /--grpc-body: itme is no field of shop.Cart\/Add's request \(its fields: item, count\)/,
    ],
  ])('refuses %s %s %s in one line', (proto, method, body, message) => {
    expect(() => grpcMethodKind(proto, method, body)).toThrow(message);
  });

  it('sends it on schedule to a gRPC server: every call answered with OK, named by its metadata', async () => {
    const shop = grpc.loadPackageDefinition(loadSync(SHOP, { keepCase: true })) as unknown as {
      shop: { Cart: { service: grpc.ServiceDefinition } };
    };
    const server = new grpc.Server();
    servers.push(server);
    let seen = '';
    server.addService(shop.shop.Cart.service, {
      Add: (
        call: grpc.ServerUnaryCall<{ item: string; count: number }, unknown>,
        done: grpc.sendUnaryData<unknown>,
      ) => {
        seen = `${call.request.item} ×${call.request.count}`;
        const metadata = new grpc.Metadata();
        metadata.set('x-server-pid', String(process.pid));
        call.sendMetadata(metadata);
        done(null, { total: call.request.count });
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    const { kind } = grpcMethodKind(SHOP, 'shop.Cart/Add', '{"item":"tea","count":2}');
    const recorder = new Recorder(100);
    const ledger = new Http2Ledger('h2c');
    const load = startOpenLoad(
      {
        mode: 'keepalive',
        host: '127.0.0.1',
        port,
        ratePerSecond: 100,
        maxConnections: 10,
        maxSeconds: 10,
        timeoutSeconds: 5,
        settleMs: 1000,
        mix: { kinds: [kind], sinkOf: () => recorder },
        check: grpcCheck((header) => ({ ok: true, pid: Number(header('x-server-pid')), version: '' })),
        http2: { protocol: 'h2c', retryRefused: false, ledger },
      },
      recorder,
      NO_SCHEDULE,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    await load.stop();
    const snapshot = recorder.snapshot();
    expect(snapshot.failed).toBe(0);
    expect(snapshot.answered).toBeGreaterThan(20);
    expect(snapshot.pids.map((p) => p.pid)).toEqual([process.pid]);
    expect(ledger.snapshot().grpcStatuses).toEqual({ OK: snapshot.answered });
    expect(seen).toBe('tea ×2');
  });
});
