// The README's "Your own project", as written: a project of its own (its own
// package.json, "type": "module"), ferry installed by path, which builds it,
// tsx, an objects.ts module with a main-thread class and a worker-thread
// object, served by the project's `ferry node --load ./objects.ts` from the
// built dist/, and a client run with the project's tsx. Only the port changes.

import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";
import { ROOT, runNode } from "../helpers.js";

/** The fenced blocks of the README's "Your own project" section. */
function ownProject(): { lang: string; code: string }[] {
  const readme = readFileSync(`${ROOT}README.md`, "utf8");
  const start = readme.indexOf("\n## Your own project\n");
  assert.ok(start >= 0, "README has a Your own project section");
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
  return [...section.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({
    lang: m[1] as string,
    code: m[2] as string,
  }));
}

const blocks = ownProject();
const [setup, run] = blocks.filter((b) => b.lang === "sh").map((b) => b.code);
/** The TypeScript files, by the name each block's first line gives (`// objects.ts`). */
const files = new Map(
  blocks
    .filter((b) => b.lang === "ts")
    .map((b) => [/^\/\/ (\S+\.ts)\n/.exec(b.code)?.[1] ?? "?", b.code] as const),
);

// npm run by the test must not take the test run's own npm settings (under
// `npm test`, npm_config_* name this checkout).
const npmEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
const npm = (cwd: string, ...args: string[]) =>
  execFileSync("npm", args, { cwd, env: npmEnv, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

let tmp: string;
/** The copy of this checkout's package that the projects install. */
let ferry: string;
/** The project of the README. */
let app: string;
const children = new Set<ChildProcess>();

before(() => {
  tmp = mkdtempSync(join(tmpdir(), "ferry-app-"));
  // A copy of the checkout's package, not the checkout itself: installing a
  // path runs its prepare script, which rebuilds dist/, and the dist/ of the
  // checkout is in use by other tests. Its node_modules is the checkout's,
  // what `npm ci` made there.
  ferry = join(tmp, "ferry");
  for (const part of [
    "package.json",
    "tsconfig.json",
    "index.ts",
    "src",
    "server",
    "client",
    "cli",
    "bin",
    "proto",
  ]) {
    cpSync(join(ROOT, part), join(ferry, part), { recursive: true });
  }
  symlinkSync(join(ROOT, "node_modules"), join(ferry, "node_modules"));

  assert.ok(setup && run, "a setup block and a run block");
  assert.match(setup, /^npm init -y && npm pkg set type=module\b/m);
  assert.match(setup, /^npm install \.\.\/ferry tsx\b/m);
  app = join(tmp, "app");
  mkdirSync(app);
  npm(app, "init", "-y");
  npm(app, "pkg", "set", "type=module");
  // Tests cannot reach the registry: tsx comes from the checkout's own copy
  // (npm links a directory, as it links ferry's).
  npm(app, "install", "--offline", "--no-audit", "--no-fund", ferry, join(ROOT, "node_modules", "tsx"));
  assert.ok(existsSync(join(ferry, "dist", "cli", "main.js")), "installing ferry's path built its dist/");
  for (const [name, code] of files) writeFileSync(join(app, name), code);
});

after(async () => {
  for (const child of children) {
    child.kill("SIGKILL");
    await once(child, "exit");
  }
  rmSync(tmp, { recursive: true, force: true });
});

/** Starts `ferry node --port 0 --json …` in `cwd` with the CLI at `bin`; rejects with its stderr if it exits first. */
async function ferryNode(
  cwd: string,
  bin: string,
  args: string[],
): Promise<{ child: ChildProcess; target: string }> {
  const child = spawn(process.execPath, [bin, "node", "--port", "0", "--json", ...args], {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = once(child, "exit").then(([code]) => {
    throw new Error(`ferry node exited with ${code} before listening: ${stderr}`);
  });
  const listening = (async () => {
    for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
      return (JSON.parse(line) as { listening: string }).listening;
    }
    throw new Error(`ferry node printed nothing: ${stderr}`);
  })();
  return { child, target: await Promise.race([listening, exited]) };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  await exited;
}

/** Runs the README's client.ts in `cwd` against `target` with the project's tsx; returns its output. */
async function client(cwd: string, target: string): Promise<string> {
  const code = files.get("client.ts");
  assert.ok(code, "a client.ts block");
  writeFileSync(join(cwd, "client.ts"), code.replaceAll("127.0.0.1:50051", target));
  const ran = await runNode([join(cwd, "node_modules", ".bin", "tsx"), "client.ts"], undefined, cwd);
  assert.equal(ran.code, 0, ran.stderr);
  return ran.stdout;
}

/** What the README says the client prints: the comment on its console.log line. */
function expected(): string {
  const printed = /console\.log\(.*\); \/\/ (.+)$/m.exec(files.get("client.ts") ?? "")?.[1];
  assert.ok(printed, "client.ts says what it prints");
  return `${printed}\n`;
}

test("a project of its own serves objects.ts, in worker threads too, to a client run with its tsx", async () => {
  assert.match(run as string, /^npx ferry node --load \.\/objects\.ts\b/m);
  assert.match(run as string, /^npx tsx client\.ts\b/m);
  assert.match(files.get("objects.ts") ?? "", /run: "workers"/);
  const { child, target } = await ferryNode(app, join(app, "node_modules", ".bin", "ferry"), [
    "--workers",
    "2",
    "--load",
    "./objects.ts",
  ]);
  try {
    assert.equal(await client(app, target), expected());
  } finally {
    await stop(child);
  }
});

test("a worker thread started after the node's first ones imports the .ts module too", async () => {
  // The node's threads start before --load; a thread that replaces one starts after.
  writeFileSync(
    join(app, "crash.ts"),
    `export const crashy = {
  exposed: ["exit", "twice"], run: "workers",
  exit(): never { process.exit(3); },
  twice(x: number): number { return 2 * x; },
};
`,
  );
  const { child, target } = await ferryNode(app, join(app, "node_modules", ".bin", "ferry"), [
    "--workers",
    "1",
    "--load",
    "./crash.ts",
  ]);
  try {
    writeFileSync(
      join(app, "crash-client.ts"),
      `import { Code, connect, RemoteError } from "ferry";
const conn = connect(${JSON.stringify(target)});
const crashy = conn.proxy<typeof import("./crash.js").crashy>("crashy");
await crashy.exit().catch((e: unknown) => console.log(e instanceof RemoteError && Code[e.code]));
console.log(await crashy.twice(21));
conn.close();
`,
    );
    const ran = await runNode([join(app, "node_modules", ".bin", "tsx"), "crash-client.ts"], undefined, app);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout, "INTERNAL\n42\n");
  } finally {
    await stop(child);
  }
});

/**
 * ferry as a git install leaves it: its package with its dependencies only,
 * so no tsx beside it; `project` gets it linked as its node_modules/ferry.
 */
function installedFerry(project: string, packageJson: object): string {
  const installed = join(tmp, "installed");
  if (!existsSync(installed)) {
    for (const part of ["package.json", "bin", "proto", "dist"]) {
      cpSync(join(ferry, part), join(installed, part), { recursive: true });
    }
    const { dependencies } = JSON.parse(readFileSync(join(ferry, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    for (const name of Object.keys(dependencies)) {
      mkdirSync(dirname(join(installed, "node_modules", name)), { recursive: true });
      symlinkSync(join(ROOT, "node_modules", name), join(installed, "node_modules", name));
    }
  }
  mkdirSync(join(project, "node_modules"), { recursive: true });
  writeFileSync(join(project, "package.json"), JSON.stringify(packageJson));
  symlinkSync(installed, join(project, "node_modules", "ferry"));
  writeFileSync(join(project, "objects.ts"), files.get("objects.ts") ?? "");
  return join(project, "node_modules", "ferry", "bin", "ferry.js");
}

/** Links the checkout's tsx into `project` as npm would install it: the package and its bin. */
function linkTsx(project: string): void {
  const tsx = join(ROOT, "node_modules", "tsx");
  symlinkSync(tsx, join(project, "node_modules", "tsx"));
  const { bin } = JSON.parse(readFileSync(join(tsx, "package.json"), "utf8")) as { bin: string };
  mkdirSync(join(project, "node_modules", ".bin"), { recursive: true });
  symlinkSync(join(tsx, bin), join(project, "node_modules", ".bin", "tsx"));
}

test("a .ts module takes the project's tsx, and without one fails with one line saying what to do", async () => {
  const project = join(tmp, "no-tsx");
  const bin = installedFerry(project, { type: "module" });
  const refused = await runNode([bin, "node", "--port", "0", "--load", "./objects.ts"], undefined, project);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /^ferry: .*\.\/objects\.ts is TypeScript: npm install tsx in your project, or compile it to \.js\n$/,
  );

  linkTsx(project);
  const { child, target } = await ferryNode(project, bin, ["--workers", "2", "--load", "./objects.ts"]);
  try {
    assert.equal(await client(project, target), expected());
  } finally {
    await stop(child);
  }
});

test("a .ts module in a CommonJS project says to make it a module", async () => {
  const project = join(tmp, "commonjs");
  const bin = installedFerry(project, { name: "commonjs-app", type: "commonjs" });
  linkTsx(project);
  const refused = await runNode([bin, "node", "--port", "0", "--load", "./objects.ts"], undefined, project);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /^ferry: .*cannot load \.\/objects\.ts: .*set "type": "module" in its package\.json, or name it \.mts\)\n$/,
  );
});
