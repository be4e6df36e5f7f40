/**
 * One process of the load test: `clients` separate connections to a node,
 * each calling in a closed loop until `seconds` have passed; prints one JSON
 * line with calls, failures (by code) and latencies.
 */
import { credentials, Metadata } from "@grpc/grpc-js";
import { PrimeCheckerClient, PrimeMethod } from "../dist/src/gen/ferry/v1/prime.js";

const [target = "", clientsText = "250", secondsText = "30"] = process.argv.slice(2);
const clients = Number(clientsText);
const until = Date.now() + Number(secondsText) * 1000;
const latencies: number[] = [];
const failures: Record<string, number> = {};
let calls = 0;

async function loop(i: number): Promise<void> {
  // A connection of its own: no subchannel shared with the other clients.
  const client = new PrimeCheckerClient(target, credentials.createInsecure(), {
    "grpc.use_local_subchannel_pool": 1,
    "grpc.primary_user_agent": `ferry-load/${i}`,
  });
  while (Date.now() < until) {
    const started = performance.now();
    const error = await new Promise<{ code: number } | null>((resolve) =>
      client.isPrime(
        { n: 1_000_003n + BigInt(i), method: PrimeMethod.PRIME_METHOD_MILLER_RABIN },
        new Metadata(),
        { deadline: Date.now() + 30_000 },
        (err) => resolve(err),
      ),
    );
    calls++;
    if (error) failures[String(error.code)] = (failures[String(error.code)] ?? 0) + 1;
    else latencies.push(performance.now() - started);
  }
  client.close();
}

await Promise.all(Array.from({ length: clients }, (_, i) => loop(i)));
latencies.sort((a, b) => a - b);
const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
process.stdout.write(
  `${JSON.stringify({ calls, failures, p50: at(0.5), p99: at(0.99), max: at(1), ok: latencies.length })}\n`,
);
