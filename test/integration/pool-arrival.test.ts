import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createPool } from "../../client/pool.js";
import type { FerryNode } from "../../server/create-node.js";
import { loadObjects } from "../../server/load-objects.js";
import { type ServerMessage, SessionRequest } from "../../src/gen/ferry/v1/objects.js";
import { toValue } from "../../src/value-codec.js";
import { ROOT, startNode } from "../helpers.js";
import { rawObjectsClient, sessionRaw, sessionResults } from "../hostile-wire.js";

const OBJECTS = `${ROOT}test/fixtures/worker-objects.js`;

/** A Batch frame of `object.method(ms)` for each of `waits`, asking for outcomes as entries end or not. */
function msBatch(object: string, method: string, waits: number[], streamOutcomes: boolean): Buffer {
  return Buffer.from(
    SessionRequest.encode({
      messages: [
        {
          batch: {
            id: 1n,
            object,
            method,
            calls: waits.map((ms) => ({ args: [toValue(ms, "ms")] })),
            timeoutMs: 30_000,
            traceparent: "",
            streamOutcomes,
          },
        },
      ],
    }).finish(),
  );
}

/** Each entry's answer, from the BatchResults of batch 1, in the order they came. */
function answersOf(messages: ServerMessage[]): { results: ServerMessage[]; entries: number[][] } {
  const results = messages.filter((m) => m.batchResult?.id === 1n);
  const entries = results.map(({ batchResult }) => {
    const { indexes, outcomes } = batchResult ?? { indexes: [], outcomes: [] };
    return indexes.length > 0 ? [...indexes] : outcomes.map((_, i) => i);
  });
  return { results, entries };
}

describe("results as they finish", () => {
  let node: FerryNode;
  let target: string;

  before(async () => {
    ({ node, target } = await startNode({ workers: 2, log: () => {} }));
    await loadObjects(node, OBJECTS);
  });

  after(() => node.shutdown());

  for (const [object, where] of [
    ["mainWork", "on the event loop"],
    ["work", "in a worker thread"],
  ] as const) {
    test(`a batch run ${where} answers its entries in more than one message as they end`, async () => {
      const raw = rawObjectsClient(target);
      try {
        const { status, responses } = await sessionRaw(
          raw,
          [msBatch(object, "wait", [0, 400, 0, 800], true)],
          20_000,
        );
        assert.equal(status.code, 0, status.details);
        const { results, entries } = answersOf(sessionResults(responses));
        assert.ok(results.length >= 3, `answered in ${results.length} messages: ${JSON.stringify(entries)}`);
        assert.deepEqual(entries.flat().sort(), [0, 1, 2, 3], "each entry once");
        // The message each entry came in: the quick ones first, then 400 ms, then 800 ms.
        const came = [0, 1, 2, 3].map((i) => entries.findIndex((list) => list.includes(i)));
        const [quick, slow, slower] = [Math.max(came[0] ?? 0, came[2] ?? 0), came[1] ?? 0, came[3] ?? 0];
        assert.ok(quick < slow && slow < slower, `entries came in messages ${came.join(", ")}`);
        assert.ok(
          results.slice(0, -1).every((m) => m.batchResult?.partial),
          "all but the last are partial",
        );
        assert.equal(results.at(-1)?.batchResult?.partial, false);
        const values = new Map<number, unknown>();
        for (const { batchResult } of results) {
          batchResult?.outcomes.forEach((o, k) => {
            values.set(batchResult.indexes[k] ?? k, o.value?.doubleValue ?? o.value?.int64Value);
          });
        }
        assert.deepEqual(
          [0, 1, 2, 3].map((i) => Number(values.get(i))),
          [0, 400, 0, 800],
        );
      } finally {
        raw.close();
      }
    });
  }

  test("a worker thread that one entry keeps busy sends those done before it starts the next", async () => {
    const raw = rawObjectsClient(target);
    try {
      const { responses } = await sessionRaw(raw, [msBatch("work", "burn", [200, 200, 200], true)], 20_000);
      const { entries } = answersOf(sessionResults(responses));
      assert.deepEqual(entries, [[0], [1], [2]]);
    } finally {
      raw.close();
    }
  });

  test("a batch that does not ask for it is answered once, every entry in order", async () => {
    const raw = rawObjectsClient(target);
    try {
      const { responses } = await sessionRaw(
        raw,
        [msBatch("mainWork", "wait", [300, 0, 100], false)],
        20_000,
      );
      const { results } = answersOf(sessionResults(responses));
      assert.equal(results.length, 1);
      const [only] = results;
      assert.deepEqual(only?.batchResult?.indexes, []);
      assert.equal(only?.batchResult?.partial, false);
      assert.deepEqual(
        only?.batchResult?.outcomes.map((o) => Number(o.value?.doubleValue ?? o.value?.int64Value)),
        [300, 0, 100],
      );
    } finally {
      raw.close();
    }
  });

  for (const object of ["mainWork", "work"]) {
    test(`${object}: a chunk's first result reaches the consumer while the rest of it still runs`, async () => {
      const pool = createPool({ nodes: [target] });
      try {
        // One chunk: the quick item answers long before the slow one.
        for await (const ms of pool.imapUnordered<number>(`${object}.wait`, [0, 1500], { chunkSize: 2 })) {
          if (ms !== 0) continue;
          const [running] = pool.maps();
          assert.equal(running?.done, 1);
          assert.equal(running?.inFlight, 1, "the slow item is still in its chunk on the node");
        }
      } finally {
        pool.close();
      }
    });
  }

  test("ordered imap yields item 0 before the map ends", async () => {
    const pool = createPool({ nodes: [target] });
    try {
      const seen: number[] = [];
      for await (const ms of pool.imap<number>("mainWork.wait", [0, 1500, 0], { chunkSize: 3 })) {
        if (seen.length === 0) {
          const [running] = pool.maps();
          assert.ok(running, "the map is still running when item 0 comes");
          assert.ok(running.inFlight >= 1, "item 1 is still on the node");
        }
        seen.push(ms);
      }
      assert.deepEqual(seen, [0, 1500, 0]);
    } finally {
      pool.close();
    }
  });

  test("the first result of a uniform map reaches the consumer before its last item is sent", async () => {
    const pool = createPool({ nodes: [target] });
    let pulled = 0;
    function* items() {
      for (let i = 0; i < 2_000; i++) {
        pulled++;
        yield 5;
      }
    }
    try {
      let pulledAtFirst: number | undefined;
      let count = 0;
      for await (const _ of pool.imapUnordered("mainWork.wait", items())) {
        pulledAtFirst ??= pulled;
        count++;
      }
      assert.equal(count, 2_000);
      assert.ok(
        pulledAtFirst !== undefined && pulledAtFirst < 2_000,
        `${pulledAtFirst} of 2000 read by then`,
      );
    } finally {
      pool.close();
    }
  });
});
