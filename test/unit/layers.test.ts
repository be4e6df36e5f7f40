import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { ROOT } from "../helpers.js";

/** Which top-level folders each layer may import from (besides itself). */
const ALLOWED: Record<string, string[]> = {
  src: [],
  server: ["src"],
  client: ["src"],
  cli: ["src", "server", "client"],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "gen" ? [] : sources(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

function relativeImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [...text.matchAll(/(?:import|export)[^"']*?from\s+["'](\.{1,2}\/[^"']+)["']/g)].map(
    (m) => m[1] as string,
  );
  return specs.map((spec) => resolve(dirname(file), spec).replace(/\.js$/, ".ts"));
}

const files = Object.keys(ALLOWED).flatMap((layer) => sources(join(ROOT, layer)));

test("imports go down only: src knows neither side, client and server never import each other", () => {
  const wrong: string[] = [];
  for (const file of files) {
    const layer = relative(ROOT, file).split("/")[0] as string;
    for (const target of relativeImports(file)) {
      const targetLayer = relative(ROOT, target).split("/")[0] as string;
      if (targetLayer !== layer && !ALLOWED[layer]?.includes(targetLayer)) {
        wrong.push(`${relative(ROOT, file)} imports ${relative(ROOT, target)}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});

test("no import cycles", () => {
  const graph = new Map(files.map((f) => [f, relativeImports(f).filter((t) => files.includes(t))]));
  const state = new Map<string, "visiting" | "done">();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "visiting") {
      cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(ROOT, f)).join(" -> "));
      return;
    }
    state.set(file, "visiting");
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, "done");
  };
  for (const file of files) visit(file, []);
  assert.deepEqual(cycles, []);
});
