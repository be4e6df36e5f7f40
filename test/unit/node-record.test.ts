import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDnsTarget } from "../../client/dns-resolver.js";
import { parseNameUri } from "../../client/naming.js";
import { compatible } from "../../src/build-identity.js";
import {
  decodeRecord,
  MAX_RECORD_BYTES,
  matchesWhere,
  parseRegistryUrl,
  parseTags,
} from "../../src/node-record.js";

test("registry URLs name one or several etcd endpoints", () => {
  assert.deepEqual(parseRegistryUrl("etcd://127.0.0.1:2379").hosts, ["http://127.0.0.1:2379"]);
  assert.deepEqual(parseRegistryUrl("etcd://a:2379,[::1]:2380/").hosts, [
    "http://a:2379",
    "http://[::1]:2380",
  ]);
  for (const bad of [
    "http://a:2379",
    "etcd://a",
    "etcd://a:0",
    "etcd://a:2379/prefix",
    "",
    "etcd://a:99999",
  ]) {
    assert.throws(() => parseRegistryUrl(bad), /etcd:\/\/|host:port/, bad);
  }
});

test("tags read key=value pairs, one per flag or comma-separated", () => {
  assert.deepEqual(parseTags(["zone=a", "gpu=none,rack=r1", "empty="]), {
    zone: "a",
    gpu: "none",
    rack: "r1",
    empty: "",
  });
  for (const bad of ["zone", "=a", "a b=c", `${"k".repeat(64)}=v`]) {
    assert.throws(() => parseTags([bad], "--where"), /--where must be key=value/, bad);
  }
});

test("where matches own tags only, never inherited ones", () => {
  const record = decodeRecord(JSON.stringify({ address: "a:1", tags: { zone: "a" } }));
  assert.ok(record);
  assert.equal(matchesWhere(record, undefined), true);
  assert.equal(matchesWhere(record, { zone: "a" }), true);
  assert.equal(matchesWhere(record, { zone: "b" }), false);
  assert.equal(matchesWhere(record, { zone: "a", gpu: "none" }), false);
  assert.equal(matchesWhere(record, { toString: "x" } as Record<string, string>), false);
  assert.equal(matchesWhere(record, JSON.parse('{"__proto__":"x"}') as Record<string, string>), false);
});

test("registry entries that are not node records are ignored, whatever they hold", () => {
  for (const text of [
    "",
    "null",
    "42",
    "[]",
    "{",
    '{"address":""}',
    '{"address":7}',
    "x".repeat(MAX_RECORD_BYTES + 1),
  ]) {
    assert.equal(decodeRecord(text), undefined, text.slice(0, 20));
  }
  const odd = decodeRecord(
    JSON.stringify({
      address: "a:1",
      slots: "many",
      objects: ["x", 3],
      tags: { a: "b", c: 4 },
      protocol: 1.5,
    }),
  );
  assert.deepEqual(odd, {
    address: "a:1",
    slots: 0,
    objects: ["x"],
    tags: { a: "b" },
    version: "",
    protocol: 0,
    contract: "",
    hostname: "",
    pid: 0,
    since: "",
  });
});

test("names and DNS targets are read strictly", () => {
  assert.deepEqual(parseNameUri("ferry+etcd://127.0.0.1:2379/calc"), {
    registry: "etcd://127.0.0.1:2379",
    object: "calc",
  });
  assert.throws(() => parseNameUri("ferry://127.0.0.1:2379/calc"), /ferry\+etcd:\/\/host:port\/ObjectName/);
  assert.throws(() => parseNameUri("ferry+etcd://127.0.0.1:2379/"), /ObjectName/);
  assert.deepEqual(parseDnsTarget("dns:///ferry-nodes.default.svc:50051"), {
    host: "ferry-nodes.default.svc",
    port: 50051,
  });
  assert.deepEqual(parseDnsTarget("dns:localhost:1"), { host: "localhost", port: 1 });
  assert.throws(() => parseDnsTarget("dns:///name"), /dns:\/\/\/name:port/);
  assert.throws(() => parseDnsTarget("dns://8.8.8.8/name:53"), /DNS server in the target is not supported/);
});

test("builds are compatible when protocol and contract agree; an empty contract is not compared", () => {
  const a = { version: "1.0.0", protocol: 1, contract: "aaaa" };
  assert.equal(compatible(a, { ...a, version: "1.0.1" }), true);
  assert.equal(compatible(a, { ...a, contract: "bbbb" }), false);
  assert.equal(compatible(a, { ...a, protocol: 2 }), false);
  assert.equal(compatible(a, { ...a, contract: "" }), true);
});
