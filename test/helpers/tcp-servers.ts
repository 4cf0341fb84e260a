import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer, Socket } from 'node:net';
import type { Server } from 'node:net';
import { once } from 'node:events';

export interface Listener {
  port: number;
  close(): Promise<void>;
}

/** Accepts connections; `hang` keeps them open without a byte, otherwise closes them at once. */
export async function openListener(opts: { hang?: boolean } = {}): Promise<Listener> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (!opts.hang) socket.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A loopback port that refuses connections and stays refused for the test: a python3 socket bound
 * but never listening holds it (the kernel answers SYNs with RST), so no other process can take
 * it meanwhile, as one could a port that was bound and released.
 */
export async function refusedListener(): Promise<Listener> {
  const { port, stop } = await pythonSocket(false);
  return { port, close: stop };
}

/** A python3 TCP socket on 127.0.0.1 held until `stop`: listening with backlog 0, or only bound. */
async function pythonSocket(listen: boolean): Promise<{ port: number; stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(
    'python3',
    [
      '-c',
      [
        'import socket, sys',
        `s = socket.socket(); s.bind(("127.0.0.1", 0))${listen ? '; s.listen(0)' : ''}`,
        'print(s.getsockname()[1], flush=True)',
        'sys.stdin.read()',
      ].join('\n'),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return {
    port: Number(String(chunk).trim()),
    stop: async () => {
      child.stdin?.end();
      child.kill();
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

/**
 * A listener whose accept queue is full, so the kernel drops new SYNs and a connect hangs until
 * its timeout: the closest a loopback test gets to a firewall that drops packets. Node always
 * accepts, so the listener is a python3 socket with backlog 0 that never calls accept().
 */
export async function blackholeListener(): Promise<Listener> {
  const { port, stop } = await pythonSocket(true);
  // Fill the accept queue (backlog 0 holds one completed connection, a second may be in flight).
  const fillers: Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const s = new Socket();
    s.on('error', () => undefined);
    s.connect(port, '127.0.0.1');
    fillers.push(s);
  }
  await new Promise((r) => setTimeout(r, 100));
  return {
    port,
    close: async () => {
      for (const s of fillers) s.destroy();
      await stop();
    },
  };
}
