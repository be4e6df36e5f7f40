/**
 * Compile-only checks of typing pool maps and proxies from a user's own
 * module (`npm run typecheck` fails if a line marked @ts-expect-error
 * compiles). Never run.
 */
import type { NodeConnection } from "../../client/connect.js";
import type { Pool } from "../../client/pool.js";
import type { Remote } from "../../client/proxy.js";
import type { RemoteError } from "../../client/remote-error.js";
import { remote } from "../../client/remote-method.js";
import type * as Scoring from "./scoring.js";

declare const pool: Pool;
declare const conn: NodeConnection;

export async function typedFromTheModule(): Promise<void> {
  const scoring = remote<typeof Scoring.scoring>("scoring");
  const scores: number[] = await pool.map(scoring.score, [1, 2, 3]);
  const settled: (number | RemoteError)[] = await pool.map(scoring.score, [1], { errors: "return" });
  // @ts-expect-error with errors: "return" an entry may be a RemoteError
  const unsettled: number[] = await pool.map(scoring.score, [1], { errors: "return" });
  // @ts-expect-error items are the method's argument
  await pool.map(scoring.score, ["one"]);
  // @ts-expect-error a method of two arguments is not mapped over single items
  await pool.map(scoring.add, [1, 2]);
  const sums: number[] = await pool.starmap(scoring.add, [
    [1, 2],
    [3, 4],
  ]);
  // @ts-expect-error starmap items are the method's argument lists
  await pool.starmap(scoring.add, [["1", 2]]);
  const sum: number = await pool.submit(scoring.add, [2, 3]);
  // @ts-expect-error submit takes the argument list
  await pool.submit(scoring.add, 2);
  for await (const s of pool.imapUnordered(scoring.score, [1, 2])) {
    const n: number = s;
    void n;
  }
  for await (const s of pool.imap(scoring.score, [1, 2])) {
    // @ts-expect-error a score is a number
    const text: string = s;
    void text;
  }
  // A stream's items come back as a list per item.
  const countdowns: number[][] = await pool.map(scoring.countdown, [3, 2]);
  // @ts-expect-error no such method
  void scoring.nope;
  // @ts-expect-error fields are not methods
  void scoring.exposed;
  void [scores, settled, unsettled, sums, sum, countdowns];
}

export async function classesAndActors(): Promise<void> {
  const model = remote<typeof Scoring.Model>("Model");
  const predictions: { label: string; p: number }[] = await pool.map(model.predict, [[1], [2]]);
  const proxy: Remote<Scoring.Model> = conn.proxy<Scoring.Model>("Model");
  const fitted: number = await proxy.fit([[1, 2]]);
  // @ts-expect-error a private field is not part of the remote object
  void proxy.rows;
  void [predictions, fitted];
}
