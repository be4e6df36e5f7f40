// ferry reaches into grpc-js where it has no public API. Each reach is
// checked here, so a grpc-js upgrade that moves it fails this file by name
// rather than leaving a node quietly unguarded.

import assert from "node:assert/strict";
import type { Http2Server } from "node:http2";
import { test } from "node:test";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { guardConnections } from "../../server/connection-guard.js";

test("grpc-js keeps its HTTP/2 servers in http2Servers, where the connection guard finds them", async () => {
  const server = new Server();
  await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    ),
  );
  try {
    const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
    assert.ok(
      servers instanceof Map && servers.size === 1,
      "grpc-js no longer has Server.http2Servers: server/connection-guard.ts must find another way in",
    );
    const guard = guardConnections(server, { handshakeTimeoutMs: 1000, maxConnections: 7 });
    assert.equal(guard?.open, 0, "the guard counts the server's connections");
    const [http2] = [...(servers as Map<Http2Server, unknown>).keys()];
    assert.equal(http2?.maxConnections, 7, "the guard's limit is on grpc-js's own HTTP/2 server");
  } finally {
    server.forceShutdown();
  }
});
