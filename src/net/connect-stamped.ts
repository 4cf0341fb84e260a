import type { Socket, TcpSocketConnectOpts } from 'node:net';

/**
 * `socket.connect` to an IP literal with `onStart` run on the tick right before the connect(2)
 * call: net queues that call with process.nextTick, after the one queued here, so the argument and
 * handle set-up before it fall in no phase (curl stamps at its connect(2) too).
 */
export function connectStamped(socket: Socket, options: TcpSocketConnectOpts, onStart: () => void): void {
  process.nextTick(onStart);
  socket.connect(options);
}
