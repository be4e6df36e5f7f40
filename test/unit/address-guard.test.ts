import assert from "node:assert/strict";
import { test } from "node:test";
import { AddressGuard } from "../../server/fetcher/address-guard.js";

test("public addresses pass; loopback, private, link-local and the like are refused, however written", () => {
  const guard = new AddressGuard();
  for (const ok of ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "8.8.8.8"]) {
    assert.equal(guard.refusal(ok), undefined, ok);
  }
  for (const [address, what] of [
    ["127.0.0.1", /loopback/],
    ["127.255.0.9", /loopback/],
    ["::1", /loopback/],
    ["::ffff:127.0.0.1", /127\.0\.0\.1 is a loopback/],
    ["::ffff:7f00:1", /127\.0\.0\.1 is a loopback/],
    ["0:0:0:0:0:ffff:a9fe:a9fe", /169\.254\.169\.254 is a link-local/],
    ["10.0.0.1", /private/],
    ["172.31.255.255", /private/],
    ["192.168.1.1", /private/],
    ["100.64.0.1", /shared/],
    ["169.254.169.254", /cloud metadata/],
    ["fe80::1", /link-local/],
    ["fd12:3456::1", /unique local/],
    ["224.0.0.1", /multicast/],
    ["0.0.0.0", /unspecified/],
    ["::", /unspecified/],
  ] as const) {
    assert.match(guard.refusal(address) ?? "", what, address);
  }
  assert.equal(guard.refusal("172.32.0.1"), undefined, "just outside 172.16.0.0/12");
});

test("an allow list opens exactly its ranges, and bad entries are refused", () => {
  const guard = new AddressGuard(["127.0.0.1/32", "10.1.0.0/16", "::1"]);
  assert.equal(guard.refusal("127.0.0.1"), undefined);
  assert.equal(guard.refusal("::ffff:127.0.0.1"), undefined);
  assert.match(guard.refusal("127.0.0.2") ?? "", /--fetch-allow 127\.0\.0\.2\/32 permits it/);
  assert.equal(guard.refusal("10.1.200.3"), undefined);
  assert.match(guard.refusal("10.2.0.1") ?? "", /private/);
  assert.equal(guard.refusal("::1"), undefined);
  for (const bad of ["localhost", "10.0.0.0/33", "::1/129", "1.2.3.4/x", ""]) {
    assert.throws(() => new AddressGuard([bad]), /not an address or CIDR range/, bad);
  }
});

test("the lookup refuses a name that resolves to a forbidden address", async () => {
  const guard = new AddressGuard();
  const err = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
    guard.lookup("localhost", { all: true }, (e) => resolve(e)),
  );
  assert.equal(err?.code, "EFORBIDDEN");
  assert.match(err?.message ?? "", /localhost resolves to .* loopback/);
  const open = new AddressGuard(["127.0.0.0/8", "::1"]);
  const found = await new Promise<unknown>((resolve) =>
    open.lookup("localhost", { all: true }, (e, addresses) => resolve(e ?? addresses)),
  );
  assert.ok(Array.isArray(found) && found.length > 0, String(found));
});
