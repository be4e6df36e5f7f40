/**
 * The page server of `make demo` and the fetch benchmark, in a process of its
 * own so that it does not share the event loop of the client it answers:
 * every page after DELAY_MS (first argument, 100 by default), titled after
 * the number at the end of its path. It listens on a free loopback port,
 * prints it, and stops when its standard input closes.
 */
import { createServer } from "node:http";

const TITLES = [
  "Harbour",
  "Tides &amp; Currents",
  "Caf&eacute; on the Quay",
  "Lighthouse",
  "Ferry &#8470; 9",
];
const delayMs = Number(process.argv[2] ?? 100);

const server = createServer((req, res) => {
  const page = Number(/(\d+)$/.exec(req.url ?? "")?.[1] ?? 0);
  setTimeout(() => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(
      `<!doctype html><title>${TITLES[page % TITLES.length]} (page ${page})</title><p>page ${page}</p>`,
    );
  }, delayMs);
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
// The parent ends us by closing our stdin, or by going away.
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
