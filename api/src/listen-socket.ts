/**
 * Bun.serve listens with a fixed backlog of 512 and TCP_DEFER_ACCEPT (Bun 1.4: `listen(fd, 512)`,
 * then the option set to 1), and has no setting for either. Deferred, a connection stays in the
 * kernel's SYN queue until its first request arrives, and that queue is as long as the backlog. So
 * when thousands of users connect at once, the queue overflows and the kernel answers with SYN
 * cookies. The connections work, but a cookie keeps only a coarse segment size, so large responses
 * leave in many small segments (measured: "The listen queue" in bench/FINDINGS.md).
 *
 * So, after Bun has listened, this finds the replica's own listening socket and, through libc,
 * lists it again with HTTP_LISTEN_BACKLOG and turns the deferral off: the socket then behaves as
 * Node's does, and the Node reference listens with the same backlog. Linux only; anywhere else, or
 * if a step fails, the socket keeps Bun's settings and the caller says so in the log.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import { fdsOf, listeningInodesOf } from "@wf/platform/process";

const IPPROTO_TCP = 6;
const TCP_DEFER_ACCEPT = 9;

/** This process's descriptors of the sockets listening on `port`: with SO_REUSEPORT every replica has its own. */
export function ownListeningFds(port: number): number[] {
  return fdsOf("self", listeningInodesOf(port));
}

type Libc = ReturnType<typeof openLibc>;
let opened: Libc | undefined;

function openLibc() {
  return dlopen("libc.so.6", {
    setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    getsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
    listen: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  }).symbols;
}

/** Opened on first use: a process that never tunes a socket never loads it. */
const libc = (): Libc => (opened ??= openLibc());

/** TCP_DEFER_ACCEPT of a socket, in seconds (0: off). */
export function deferAcceptOf(fd: number): number {
  const value = new Int32Array(1);
  const size = new Uint32Array([4]);
  if (libc().getsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, ptr(value), ptr(size)) !== 0)
    throw new Error(`getsockopt(TCP_DEFER_ACCEPT) failed on fd ${fd}`);
  return value[0]!;
}

export type ListenTuning = { ok: true; fds: number[]; deferAcceptWas: number[] } | { ok: false; reason: string };

/** Lists this process's sockets on `port` again with `backlog`, accepting without deferral. */
export function tuneListenSockets(port: number, backlog: number): ListenTuning {
  if (process.platform !== "linux") return { ok: false, reason: `not Linux (${process.platform})` };
  try {
    const fds = ownListeningFds(port);
    if (fds.length === 0) return { ok: false, reason: `no listening socket of this process on port ${port} in /proc` };
    const deferAcceptWas = fds.map(deferAcceptOf);
    const off = new Int32Array([0]);
    for (const fd of fds) {
      if (libc().setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, ptr(off), 4) !== 0)
        return { ok: false, reason: `setsockopt(TCP_DEFER_ACCEPT, 0) failed on fd ${fd}` };
      // listen() on a listening socket only sets its backlog (capped by net.core.somaxconn).
      if (libc().listen(fd, backlog) !== 0) return { ok: false, reason: `listen(fd ${fd}, ${backlog}) failed` };
    }
    return { ok: true, fds, deferAcceptWas };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}
