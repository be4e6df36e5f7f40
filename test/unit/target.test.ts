import assert from "node:assert/strict";
import { test } from "node:test";
import { parseTarget } from "../../client/target.js";

test("targets are host:port, [v6]:port, ferry:// URIs or gRPC schemes", () => {
  assert.equal(parseTarget("127.0.0.1:50051"), "127.0.0.1:50051");
  assert.equal(parseTarget("node-1.local:50051"), "node-1.local:50051");
  assert.equal(parseTarget("[::1]:50051"), "[::1]:50051");
  assert.equal(parseTarget("ferry://10.0.0.5:50051/PrimeChecker"), "10.0.0.5:50051");
  assert.equal(parseTarget("dns:///ferry.svc:50051"), "dns:///ferry.svc:50051");
});

test("malformed targets are refused with the reason", () => {
  for (const bad of ["", "host", "host:", "host:0", "host:70000", ":50051", "http://x:1", "a b:1"]) {
    assert.throws(() => parseTarget(bad), TypeError, bad);
  }
});
