// What the gate adds to a user's Compose file: the gated service's port on
// 127.0.0.1, tcp_migrate_req, its label; in the file's own format version.
import { describe, expect, it } from 'vitest';
import { overrideFor } from './compose.js';

describe('overrideFor', () => {
  it("publishes the port on 127.0.0.1, sets tcp_migrate_req and the gate's label, in the file's version", () => {
    expect(
      overrideFor({ service: 'web', port: 8080, tcpMigrateReq: 1 }, "version: '2.4'\nservices:\n  web: {}\n"),
    ).toBe(
      [
        "version: '2.4'",
        'services:',
        '  "web":',
        '    ports:',
        '      - "127.0.0.1::8080"',
        '    sysctls:',
        '      net.ipv4.tcp_migrate_req: "1"',
        '    labels:',
        '      reuseport-lab: gate',
        '',
      ].join('\n'),
    );
  });

  it('names no version for a file that names none (the Compose specification), and quotes the service name', () => {
    const text = overrideFor({ service: 'a"b: c', port: 1, tcpMigrateReq: 0 }, 'services:\n  x: {}\n');
    expect(text.startsWith('services:\n  "a\\"b: c":\n')).toBe(true);
  });
});
