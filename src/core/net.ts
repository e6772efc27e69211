import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * A loopback TCP port that nothing listens on, for a server started next (the demo app, a lab
 * sshd or HAProxy). It is picked below the kernel's ephemeral range (Linux:
 * ip_local_port_range): a port from that range can become the source port of any outgoing
 * connection between being picked and being listened on, and the server then fails with
 * EADDRINUSE. Without that range known, the kernel picks (port 0).
 */
export async function freeLoopbackPort(): Promise<number> {
  const low = ephemeralLow();
  if (low !== undefined && low > 11_000) {
    for (let i = 0; i < 50; i++) {
      const port = 10_000 + Math.floor(Math.random() * (low - 10_000));
      if ((await listenOn(port).catch(() => undefined)) !== undefined) return port;
    }
  }
  return listenOn(0);
}

function ephemeralLow(): number | undefined {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : undefined;
  } catch {
    return undefined;
  }
}

/** Listens on `port` (0: any) on 127.0.0.1 and closes again; the port it got. */
function listenOn(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      const addr = srv.address();
      const got = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(got));
    });
  });
}
