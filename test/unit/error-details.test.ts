import assert from "node:assert/strict";
import { test } from "node:test";
import type { Metadata } from "@grpc/grpc-js";
import { RemoteError, toRemoteError } from "../../client/remote-error.js";
import { toServiceError } from "../../server/call-scope.js";
import { Code } from "../../src/code.js";
import { decodeStatusDetails, encodeStatusDetails } from "../../src/error-details.js";
import { createLog, SILENT } from "../../src/log.js";
import { ServerError } from "../../src/server-error.js";

test("error details round-trip through google.rpc.Status", () => {
  const bytes = encodeStatusDetails(3, "n: bad", {
    name: "ServerError",
    message: "n: bad",
    stack: "",
    field: "n",
  });
  assert.deepEqual(decodeStatusDetails(bytes), {
    name: "ServerError",
    message: "n: bad",
    stack: "",
    field: "n",
  });
  assert.equal(decodeStatusDetails(new Uint8Array([0xff, 0xff])), undefined);
});

test("a ServerError reaches the caller with its code, field and name", () => {
  const sent = toServiceError(new ServerError(Code.NOT_FOUND, "no such thing", { field: "name" }), "/x/Y", {
    exposeStacks: false,
    log: createLog({
      name: "ferry node",
      write: () => assert.fail("ServerErrors are the caller's business, not the log's"),
    }),
  });
  const got = toRemoteError(
    Object.assign(new Error("x"), { code: sent.code, details: sent.details, metadata: sent.metadata }),
  );
  assert.ok(got instanceof RemoteError);
  assert.equal(got.code, Code.NOT_FOUND);
  assert.equal(got.details, "no such thing");
  assert.equal(got.remoteName, "ServerError");
  assert.equal(got.field, "name");
  assert.equal(got.codeName, "NOT_FOUND");
});

test("unknown errors are UNKNOWN, logged, and keep their internals unless stacks are exposed", () => {
  const logged: string[] = [];
  const hidden = toServiceError(new TypeError("secret path /etc/x"), "/x/Y", {
    exposeStacks: false,
    log: createLog({ name: "ferry node", write: (l) => logged.push(l) }),
  });
  assert.equal(hidden.code, Code.UNKNOWN);
  assert.doesNotMatch(hidden.details ?? "", /secret/);
  assert.match(logged[0] ?? "", /secret path/);
  const shown = toServiceError(new TypeError("visible"), "/x/Y", { exposeStacks: true, log: SILENT });
  const err = toRemoteError(
    Object.assign(new Error("x"), {
      code: shown.code,
      details: shown.details,
      metadata: shown.metadata as Metadata,
    }),
  );
  assert.equal(err.remoteName, "TypeError");
  assert.match(err.remoteStack ?? "", /visible/);
  assert.match(err.stack ?? "", /--- remote stack \(TypeError\) ---/);
});
