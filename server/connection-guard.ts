import type { Http2Server, ServerHttp2Session } from "node:http2";
import type { Socket } from "node:net";
import { Server as TlsServer } from "node:tls";
import type { Server } from "@grpc/grpc-js";

/** A connection that has not finished its HTTP/2 handshake by then is closed. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Connections a node holds at once; past it, new ones are closed as they arrive. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;

/** After grpc-js has asked a connection with no call running to close, how long its peer gets to let it. */
const CLOSE_GRACE_MS = 5_000;

/** What the guard enforces on every connection of a node. */
export interface ConnectionLimits {
  handshakeTimeoutMs: number;
  maxConnections: number;
}

/**
 * Closes the connections grpc-js would hold for as long as their peer likes.
 * grpc-js turns off the socket timeout, so a socket that never sends the
 * HTTP/2 preface and settings (a silent connect, half a preface, a TLS
 * handshake that stops) stays open for good; and when it closes an idle
 * connection it does so gracefully, which never completes if the peer reads
 * nothing. Thousands of either would use up the node's descriptors. This
 * guard destroys a connection that has not finished its handshake within
 * `handshakeTimeoutMs`, destroys one whose graceful close (with no call
 * running) has not completed after {@link CLOSE_GRACE_MS}, and caps the
 * connections held at once.
 *
 * grpc-js has none of these options and no public hook on its HTTP/2
 * sessions (its server-side connection management stops at
 * `grpc.max_connection_idle_ms` and `grpc.max_connection_age_ms`; see
 * https://github.com/grpc/grpc-node/issues/2081), so the guard reaches its
 * HTTP/2 servers through grpc-js's private `http2Servers` map;
 * test/unit/grpc-internals.test.ts fails by name if an upgrade moves it. Returns the count of open connections, or undefined
 * when that map is not there (another grpc-js), after which the node runs
 * without the guard; the caller logs it.
 */
export function guardConnections(server: Server, limits: ConnectionLimits): OpenConnections | undefined {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map)) return undefined;
  const counted: ReadonlySet<Connection>[] = [];
  for (const http2Server of servers.keys() as IterableIterator<Http2Server>) {
    if (guarded.has(http2Server)) continue;
    guarded.add(http2Server);
    http2Server.maxConnections = limits.maxConnections;
    // A connection's raw socket and its HTTP/2 session arrive apart and are
    // paired here; everything after holds its own Connection, never a lookup.
    // A plain connection's session comes first, synchronously inside the
    // "connection" event (Node's own listener runs before this one); a TLS
    // one's later, after the TLS handshake, and is found by peer address.
    const secure = http2Server instanceof TlsServer;
    let plain: Connection | undefined;
    const awaitingTls = new Map<string, Connection>();
    const live = new Set<Connection>();
    counted.push(live);
    const sweep = setInterval(() => closeWithinGrace(live), CLOSE_GRACE_MS);
    sweep.unref();
    http2Server.once("close", () => clearInterval(sweep));
    http2Server.on("session", (session: ServerHttp2Session) => {
      const peer = `${session.socket.remoteAddress}:${session.socket.remotePort}`;
      let conn = secure ? awaitingTls.get(peer) : undefined;
      if (conn) awaitingTls.delete(peer);
      conn ??= { socket: undefined, session: undefined, handshake: undefined, streams: 0 };
      if (!secure) plain = conn;
      watchSession(conn, session);
    });
    http2Server.on("connection", (socket: Socket) => {
      let conn = secure ? undefined : plain;
      plain = undefined;
      const peer = `${socket.remoteAddress}:${socket.remotePort}`;
      if (!conn) {
        conn = { socket: undefined, session: undefined, handshake: undefined, streams: 0 };
        // A newer socket from the same address and port means the older one is gone.
        awaitingTls.set(peer, conn);
      }
      const paired = conn;
      paired.socket = socket;
      live.add(paired);
      if (!paired.settled) {
        paired.handshake = setTimeout(() => kill(paired), limits.handshakeTimeoutMs);
        paired.handshake.unref();
      }
      socket.once("close", () => {
        live.delete(paired);
        clearTimeout(paired.handshake);
        if (awaitingTls.get(peer) === paired) awaitingTls.delete(peer);
      });
    });
  }
  return {
    get open() {
      let open = 0;
      for (const live of counted) open += live.size;
      return open;
    },
  };
}

/** The connections a guard holds on a node's server. */
export interface OpenConnections {
  /** Connections open now. */
  readonly open: number;
}

const guarded = new WeakSet<Http2Server>();

interface Connection {
  socket: Socket | undefined;
  session: ServerHttp2Session | undefined;
  /** Runs out unless the HTTP/2 handshake finishes first. */
  handshake: NodeJS.Timeout | undefined;
  /** The peer's settings have arrived: the handshake is done. */
  settled?: boolean;
  streams: number;
  /** When a sweep first found its session closing with no stream open. */
  closingSince?: number;
}

function watchSession(conn: Connection, session: ServerHttp2Session): void {
  conn.session = session;
  session.once("remoteSettings", () => {
    conn.settled = true;
    clearTimeout(conn.handshake);
  });
  session.on("stream", (stream) => {
    conn.streams++;
    stream.once("close", () => conn.streams--);
  });
}

/**
 * Closes a connection for good. Once a session holds the socket, destroying
 * the session alone leaves the socket open until the peer closes its side,
 * which a peer that reads nothing never does: both go.
 */
function kill(conn: Connection): void {
  conn.session?.destroy();
  conn.socket?.destroy();
}

/**
 * Gives a graceful close of a session (grpc-js's idle timeout, shutdown, a
 * client's GOAWAY) {@link CLOSE_GRACE_MS} to one or two sweeps once no
 * stream is open, then kills the connection: Node's close waits forever for
 * a peer that reads nothing. Node's public `session.closed` says a close has
 * begun. A close with calls still running is left to finish them, as
 * shutdown's grace intends.
 */
function closeWithinGrace(live: ReadonlySet<Connection>): void {
  const now = Date.now();
  for (const conn of live) {
    const closing = conn.session?.closed === true && conn.streams === 0;
    if (!closing) conn.closingSince = undefined;
    else if (conn.closingSince === undefined) conn.closingSince = now;
    else kill(conn);
  }
}
