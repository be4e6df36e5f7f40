import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseAllDocuments } from "yaml";
import { parseTarget } from "../../client/target.js";
import { ROOT } from "../helpers.js";

// deploy/: the Kubernetes manifests, the systemd unit and the Dockerfile are
// checked for syntax and for agreeing with each other and with the real CLI.

const DEPLOY = join(ROOT, "deploy");
/** The node's default grace period for in-flight calls on SIGTERM, in seconds. */
const NODE_GRACE_S = 10;

// ---------------------------------------------------------------- the CLI

const helpCache = new Map<string, Set<string>>();
const helpTexts = new Map<string, string>();

/** The help text of `ferry <command>`, run from source. */
function helpText(command: string): string {
  let text = helpTexts.get(command);
  if (text === undefined) {
    text = execFileSync(process.execPath, ["--import", "tsx", "cli/main.ts", command, "--help"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1", COLUMNS: "200" },
    });
    helpTexts.set(command, text);
  }
  return text;
}

/** The long flags `ferry <command> --help` lists. */
function cliFlags(command: string): Set<string> {
  let flags = helpCache.get(command);
  if (!flags) {
    flags = new Set();
    for (const line of helpText(command).split("\n")) {
      const m = /^ {2}(?:-[A-Za-z], )?(--[a-z0-9][a-z0-9-]*)/.exec(line);
      if (m) flags.add(m[1] as string);
    }
    assert.ok(flags.has("--help"), `could not read the options of ferry ${command} --help`);
    helpCache.set(command, flags);
  }
  return flags;
}

/** The `--flags` of an argument list (`--a=b` counts as `--a`). */
function flagsOf(args: readonly string[]): string[] {
  return args.filter((a) => a.startsWith("--")).map((a) => a.split("=")[0] as string);
}

/** The value after `--flag` (or of `--flag=value`). */
function flagValue(args: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === flag) return args[i + 1];
    if (args[i]?.startsWith(`${flag}=`)) return (args[i] as string).slice(flag.length + 1);
  }
  return undefined;
}

function assertFlagsExist(command: string, args: readonly string[], where: string): void {
  const known = cliFlags(command);
  const missing = flagsOf(args).filter((f) => !known.has(f));
  assert.deepEqual(missing, [], `${where}: ferry ${command} has no ${missing.join(", ")}`);
}

// ---------------------------------------------------------------- Kubernetes

interface Probe {
  grpc?: { port: number | string; service?: string };
  httpGet?: unknown;
  tcpSocket?: unknown;
  exec?: unknown;
}

interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    resourceFieldRef?: { resource: string; containerName?: string; divisor?: string | number };
  };
}

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string }[];
}

interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: {
    containers: Container[];
    restartPolicy?: string;
    terminationGracePeriodSeconds?: number;
    securityContext?: SecurityContext;
    volumes?: { name: string }[];
  };
}

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: narrowed per kind below
  spec: any;
}

interface ServiceSpec {
  clusterIP?: string;
  publishNotReadyAddresses?: boolean;
  selector: Record<string, string>;
  ports: { name?: string; port: number; targetPort?: number | string; protocol?: string }[];
}

interface DeploymentSpec {
  replicas: number;
  selector: { matchLabels: Record<string, string> };
  template: PodTemplate;
}

/** Every document of a manifest file, parsed strictly (no errors, no warnings, no empty documents). */
function manifests(file: string): Manifest[] {
  const text = readFileSync(join(DEPLOY, "kubernetes", file), "utf8");
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  assert.ok(Array.isArray(docs), `${file}: no YAML documents`);
  return docs.map((doc, i) => {
    assert.deepEqual(
      [...doc.errors, ...doc.warnings].map((e) => e.message),
      [],
      `${file}: document ${i + 1}`,
    );
    const value = doc.toJS() as Manifest | null;
    assert.ok(value && typeof value === "object", `${file}: document ${i + 1} is empty`);
    assert.equal(typeof value.apiVersion, "string", `${file}: document ${i + 1} apiVersion`);
    assert.equal(typeof value.kind, "string", `${file}: document ${i + 1} kind`);
    assert.match(value.metadata?.name ?? "", /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `${file}: metadata.name`);
    return value;
  });
}

const API_VERSIONS: Record<string, string> = { Service: "v1", Deployment: "apps/v1", Job: "batch/v1" };

function only(docs: Manifest[], kind: string): Manifest {
  const found = docs.filter((d) => d.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0] as Manifest;
}

/** Whether every label of `selector` is on `labels`. */
function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function quantity(q: string | undefined): number {
  assert.ok(q !== undefined, "resource quantity missing");
  const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(q));
  assert.ok(m, `resource quantity ${q}`);
  const scale: Record<string, number> = {
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
  };
  return Number(m[1]) * (m[2] ? (scale[m[2]] as number) : 1);
}

/** Container-level settings override the pod's. */
function effective(pod: PodTemplate["spec"], c: Container): SecurityContext {
  return { ...pod.securityContext, ...c.securityContext };
}

function assertLockedDown(pod: PodTemplate["spec"], c: Container): void {
  const sc = effective(pod, c);
  assert.equal(sc.runAsNonRoot, true, `${c.name}: runAsNonRoot`);
  // The image's user is a name (`USER node`): the kubelet can check runAsNonRoot only with a numeric uid.
  assert.ok(Number.isInteger(sc.runAsUser) && (sc.runAsUser as number) > 0, `${c.name}: numeric runAsUser`);
  assert.equal(sc.readOnlyRootFilesystem, true, `${c.name}: readOnlyRootFilesystem`);
  assert.equal(sc.allowPrivilegeEscalation, false, `${c.name}: allowPrivilegeEscalation`);
  assert.ok(c.securityContext?.capabilities?.drop?.includes("ALL"), `${c.name}: drops ALL capabilities`);
  assert.equal(c.securityContext?.capabilities?.add, undefined, `${c.name}: adds no capability`);
}

function assertResources(c: Container): void {
  for (const kind of ["requests", "limits"] as const) {
    for (const r of ["cpu", "memory"]) {
      assert.ok(quantity(c.resources?.[kind]?.[r]) > 0, `${c.name}: resources.${kind}.${r}`);
    }
  }
  for (const r of ["cpu", "memory"]) {
    assert.ok(
      quantity(c.resources?.requests?.[r]) <= quantity(c.resources?.limits?.[r]),
      `${c.name}: ${r} request within its limit`,
    );
  }
}

/** The `$(VAR)` references of a string, which Kubernetes expands from the container's env. */
function envRefs(s: string): string[] {
  return [...s.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)].map((m) => m[1] as string);
}

/** `ferry <command>` and its arguments as the container runs them: image entrypoint or `node bin/ferry.js`. */
function ferryCommand(c: Container): { command: string; args: string[] } {
  assert.deepEqual(c.command, ["node", "bin/ferry.js"], `${c.name}: runs the ferry CLI`);
  const [command, ...args] = c.args ?? [];
  assert.ok(command !== undefined, `${c.name}: names a ferry command`);
  for (const a of c.args ?? []) assert.equal(typeof a, "string", `${c.name}: argument ${a} is a string`);
  return { command, args };
}

test("ferry.yaml parses: a v1 Service and an apps/v1 Deployment", () => {
  const docs = manifests("ferry.yaml");
  assert.deepEqual(docs.map((d) => d.kind).sort(), ["Deployment", "Service"]);
  for (const d of docs) assert.equal(d.apiVersion, API_VERSIONS[d.kind], `${d.kind} apiVersion`);
});

test("the Service is headless, lists only ready pods and selects the Deployment's pods", () => {
  const docs = manifests("ferry.yaml");
  const service = only(docs, "Service");
  const spec = service.spec as ServiceSpec;
  assert.equal(service.metadata.name, "ferry-nodes");
  assert.equal(spec.clusterIP, "None");
  assert.equal(spec.publishNotReadyAddresses, false);
  const deployment = only(docs, "Deployment");
  const dspec = deployment.spec as DeploymentSpec;
  assert.equal(deployment.metadata.name, "ferry-node");
  const podLabels = dspec.template.metadata.labels;
  assert.equal(podLabels["app.kubernetes.io/name"], "ferry-node");
  assert.ok(selects(spec.selector, podLabels), "Service selector matches the pod labels");
  assert.ok(selects(dspec.selector.matchLabels, podLabels), "Deployment selector matches its pod labels");
  assert.equal(dspec.replicas, 3);
});

test("the Service port, container port, probes and --port agree; probes are gRPC health checks", () => {
  const docs = manifests("ferry.yaml");
  const spec = only(docs, "Service").spec as ServiceSpec;
  const pod = (only(docs, "Deployment").spec as DeploymentSpec).template.spec;
  assert.equal(pod.containers.length, 1);
  const c = pod.containers[0] as Container;
  const grpcPort = c.ports?.find((p) => p.name === "grpc");
  assert.ok(grpcPort, "container port named grpc");
  const port = grpcPort.containerPort;
  assert.equal(grpcPort.protocol ?? "TCP", "TCP");

  assert.equal(spec.ports.length, 1);
  const sp = spec.ports[0] as ServiceSpec["ports"][number];
  assert.equal(sp.name, "grpc");
  assert.equal(sp.port, port);
  const target = sp.targetPort ?? sp.port;
  assert.equal(
    typeof target === "string" ? c.ports?.find((p) => p.name === target)?.containerPort : target,
    port,
  );

  for (const [name, probe] of [
    ["readinessProbe", c.readinessProbe],
    ["livenessProbe", c.livenessProbe],
  ] as const) {
    assert.ok(probe?.grpc, `${name} uses the gRPC probe`);
    assert.equal(probe.grpc.port, port, `${name} port`);
    assert.equal(probe.httpGet ?? probe.tcpSocket ?? probe.exec, undefined, `${name} has one handler`);
    // The node reports SERVING for the whole server under the empty service name.
    assert.equal(probe.grpc.service ?? "", "", `${name} asks the server's overall health`);
  }

  const { command, args } = ferryCommand(c);
  assert.equal(command, "node");
  assert.equal(flagValue(args, "--port"), String(port));
  assert.equal(flagValue(args, "--host"), "0.0.0.0", "binds every interface of the pod");
});

test("the node container: flags the CLI has, env it references, resources, grace and lockdown", () => {
  const docs = manifests("ferry.yaml");
  const pod = (only(docs, "Deployment").spec as DeploymentSpec).template.spec;
  const c = pod.containers[0] as Container;
  const { command, args } = ferryCommand(c);
  assertFlagsExist(command, args, "ferry.yaml");

  const env = new Map((c.env ?? []).map((e) => [e.name, e]));
  for (const a of args) {
    for (const ref of envRefs(a)) assert.ok(env.has(ref), `$(${ref}) in ${a} is defined in env`);
  }
  assert.equal(env.get("POD_IP")?.valueFrom?.fieldRef?.fieldPath, "status.podIP");
  assert.equal(flagValue(args, "--advertise"), `$(POD_IP):${flagValue(args, "--port")}`);

  // --workers follows the CPU limit (rounded up by the downward API), not the machine's cores.
  const workers = flagValue(args, "--workers");
  assert.ok(workers !== undefined, "--workers is set");
  const refs = envRefs(workers);
  if (refs.length > 0) {
    const ref = env.get(refs[0] as string)?.valueFrom?.resourceFieldRef;
    assert.ok(ref, `${workers} comes from the container's resources`);
    assert.equal(ref.resource, "limits.cpu");
    assert.equal(ref.containerName ?? c.name, c.name);
    assert.equal(String(ref.divisor ?? "1"), "1");
  } else {
    assert.equal(Number(workers), Math.ceil(quantity(c.resources?.limits?.cpu)));
  }

  assertResources(c);
  assert.ok(pod.terminationGracePeriodSeconds !== undefined, "terminationGracePeriodSeconds is set");
  assert.ok(pod.terminationGracePeriodSeconds > NODE_GRACE_S, "grace period outlasts the node's");
  assertLockedDown(pod, c);
  const volumes = new Set((pod.volumes ?? []).map((v) => v.name));
  for (const m of c.volumeMounts ?? []) assert.ok(volumes.has(m.name), `volume ${m.name} is defined`);
});

test("the client Job runs ferry primes against the Service's DNS name", () => {
  const docs = manifests("primes-job.yaml");
  assert.deepEqual(
    docs.map((d) => d.kind),
    ["Job"],
  );
  const job = docs[0] as Manifest;
  assert.equal(job.apiVersion, API_VERSIONS.Job);
  const template = job.spec.template as PodTemplate;
  assert.ok(["Never", "OnFailure"].includes(template.spec.restartPolicy ?? ""), "a Job's restartPolicy");
  const c = template.spec.containers[0] as Container;
  const { command, args } = ferryCommand(c);
  assert.equal(command, "primes");
  assertFlagsExist(command, args, "primes-job.yaml");
  assertResources(c);
  assertLockedDown(template.spec, c);

  const service = only(manifests("ferry.yaml"), "Service");
  const port = (service.spec as ServiceSpec).ports[0]?.port;
  const nodes = flagValue(args, "--nodes");
  assert.equal(nodes, `dns:///${service.metadata.name}.default.svc.cluster.local:${port}`);
  assert.equal(parseTarget(nodes), nodes);
});

test("every manifest under deploy/kubernetes is checked here", () => {
  const files = readdirSync(join(DEPLOY, "kubernetes")).filter((f) => /\.ya?ml$/.test(f));
  assert.deepEqual(files.sort(), ["ferry.yaml", "primes-job.yaml"]);
});

// ---------------------------------------------------------------- systemd

/** A unit file's sections: each key with its values in order (keys may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, " ").split("\n");
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) return;
    const section = /^\[([A-Za-z]+)\]$/.exec(line);
    if (section) {
      assert.ok(!sections.has(section[1] as string), `section [${section[1]}] appears once`);
      current = new Map();
      sections.set(section[1] as string, current);
      return;
    }
    const kv = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    assert.ok(kv, `line ${i + 1} is Key=Value: ${raw}`);
    assert.ok(current, `line ${i + 1} is inside a section`);
    const [, key, value] = kv as unknown as [string, string, string];
    current.set(key, [...(current.get(key) ?? []), value.trim()]);
  });
  return sections;
}

/** The one value of a key. */
function one(section: Map<string, string[]> | undefined, key: string): string {
  const values = section?.get(key) ?? [];
  assert.equal(values.length, 1, `${key}= set once`);
  return values[0] as string;
}

/** systemd time span in seconds: 30, 30s, 1min, 1min 30s. */
function seconds(span: string): number {
  const units: Record<string, number> = { "": 1, s: 1, sec: 1, m: 60, min: 60, h: 3600 };
  let total = 0;
  for (const part of span.trim().split(/\s+/)) {
    const m = /^(\d+)([a-z]*)$/.exec(part);
    assert.ok(m && units[m[2] as string] !== undefined, `time span ${span}`);
    total += Number(m[1]) * (units[m[2] as string] as number);
  }
  return total;
}

/** VAR=value lines of an EnvironmentFile; with `commented`, also `#VAR=value` examples. */
function parseEnvFile(text: string, commented = false): [string, string][] {
  return text
    .split("\n")
    .map((l) => (commented ? l.replace(/^#(?=[A-Z_]+=)/, "") : l))
    .map((l) => /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(l.trim()))
    .filter((m) => m !== null)
    .map((m) => [m[1] as string, (m[2] as string).replace(/^"(.*)"$/, "$1")]);
}

const unitText = readFileSync(join(DEPLOY, "systemd", "ferry-node.service"), "utf8");
const envText = readFileSync(join(DEPLOY, "systemd", "ferry-node.env"), "utf8");

test("the systemd unit has [Unit], [Service] and [Install] and stops the node gracefully", () => {
  const unit = parseUnit(unitText);
  assert.deepEqual([...unit.keys()], ["Unit", "Service", "Install"]);
  const u = unit.get("Unit");
  const s = unit.get("Service");
  assert.ok(u?.get("After")?.join(" ").split(/\s+/).includes("network-online.target"));
  assert.ok(u?.get("Wants")?.join(" ").split(/\s+/).includes("network-online.target"));
  assert.equal(one(s, "KillSignal"), "SIGTERM");
  assert.ok(seconds(one(s, "TimeoutStopSec")) > NODE_GRACE_S, "TimeoutStopSec outlasts the node's grace");
  assert.equal(one(s, "Restart"), "on-failure");
  assert.equal(one(unit.get("Install"), "WantedBy"), "multi-user.target");
  for (const [key, value] of [
    ["DynamicUser", "yes"],
    ["NoNewPrivileges", "yes"],
    ["ProtectSystem", "strict"],
    ["ProtectHome", "yes"],
    ["PrivateTmp", "yes"],
  ]) {
    assert.equal(one(s, key as string), value, `${key}=${value}`);
  }
  // V8 compiles code at run time: W^X would kill the node.
  assert.equal(s?.get("MemoryDenyWriteExecute"), undefined);
  assert.match(one(s, "EnvironmentFile"), /^-?\/etc\/default\/ferry-node$/);
});

test("the unit's ExecStart runs bin/ferry.js node with flags the CLI has and variables it defines", () => {
  const unit = parseUnit(unitText);
  const s = unit.get("Service");
  const words = one(s, "ExecStart").split(/\s+/);
  const [node, script, command, ...args] = words;
  assert.equal(node, "/usr/bin/node");
  const workDir = one(s, "WorkingDirectory");
  assert.ok(script?.startsWith(`${workDir}/`), "the script is under WorkingDirectory");
  assert.ok(existsSync(join(ROOT, (script as string).slice(workDir.length + 1))), `${script} is in the repo`);
  assert.equal(command, "node");
  assertFlagsExist("node", args, "ferry-node.service ExecStart");
  assert.equal(flagValue(args, "--host"), "0.0.0.0");

  // Every $VAR / ${VAR} comes from Environment= or the example EnvironmentFile.
  const defined = new Set([
    ...(s?.get("Environment") ?? []).map((e) => e.split("=")[0] as string),
    ...parseEnvFile(envText).map(([k]) => k),
  ]);
  const used = [...one(s, "ExecStart").matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g)].map((m) => m[1]);
  assert.ok(used.length > 0);
  for (const v of used) assert.ok(defined.has(v as string), `$${v} is defined`);
  // ${VAR} becomes one argument even when empty, which --advertise refuses: it needs a default.
  for (const v of [...one(s, "ExecStart").matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1])) {
    assert.ok(
      (s?.get("Environment") ?? []).some((e) => e.startsWith(`${v}=`) && e.length > `${v}=`.length),
      `\${${v}} has a default in Environment=`,
    );
  }
});

test("the example EnvironmentFile: flags the CLI has, addresses it accepts", () => {
  const vars = new Map(parseEnvFile(envText));
  for (const [name, value] of parseEnvFile(envText, true)) {
    if (name === "FERRY_OPTS") assertFlagsExist("node", value.split(/\s+/), `ferry-node.env ${name}`);
  }
  assert.ok(vars.has("FERRY_OPTS"));
  const advertise = vars.get("FERRY_ADVERTISE");
  assert.ok(advertise);
  assert.equal(parseTarget(advertise), advertise);
  assert.equal(advertise.split(":").at(-1), vars.get("FERRY_PORT"), "advertised port is the bound one");
  const registry = vars.get("FERRY_REGISTRY");
  assert.match(registry ?? "", /^etcd:\/\/[^\s/:,]+:\d{1,5}(,[^\s/:,]+:\d{1,5})*$/);
  // The unit passes no --registry: `ferry node` reads FERRY_REGISTRY from its environment.
  assert.match(helpText("node"), /FERRY_REGISTRY/, "ferry node --help documents FERRY_REGISTRY");
});

test("systemd-analyze verify accepts the unit", (t) => {
  const probe = spawnSync("systemd-analyze", ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0 || !existsSync("/usr/bin/node")) {
    t.skip("needs systemd-analyze and /usr/bin/node");
    return;
  }
  const r = spawnSync("systemd-analyze", ["verify", join(DEPLOY, "systemd", "ferry-node.service")], {
    encoding: "utf8",
  });
  if (r.status !== 0 && /Failed to (initialize|set ?up|create|allocate) /i.test(r.stderr)) {
    t.skip(`systemd-analyze cannot run here: ${r.stderr.trim().split("\n")[0]}`);
    return;
  }
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /ferry-node\.service:\d+: /, "no complaint about a line of the unit");
});

// ---------------------------------------------------------------- Dockerfile

interface Instruction {
  op: string;
  args: string;
  stage: number;
}

function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  for (const raw of text.replace(/\\\n/g, " ").split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    assert.ok(m, `Dockerfile line: ${raw}`);
    const op = (m[1] as string).toUpperCase();
    if (op === "FROM") stage++;
    assert.ok(stage >= 0 || op === "ARG", `${op} before FROM`);
    out.push({ op, args: (m[2] as string).trim(), stage });
  }
  return out;
}

test("the Dockerfile: two node:20 stages, builds, runs bin/ferry.js as a non-root user", () => {
  const ins = parseDockerfile(readFileSync(join(DEPLOY, "Dockerfile"), "utf8"));
  const froms = ins.filter((i) => i.op === "FROM").map((i) => i.args.split(/\s+/));
  assert.equal(froms.length, 2, "multi-stage");
  for (const f of froms) assert.equal(f[0], "node:20-bookworm-slim");
  assert.equal(froms[0]?.[1]?.toUpperCase(), "AS");
  const stages = new Set(froms.map((f) => f[2]).filter((n) => n !== undefined));
  const last = froms.length - 1;
  const runs = (stage: number) =>
    ins
      .filter((i) => i.op === "RUN" && i.stage === stage)
      .map((i) => i.args)
      .join("\n");
  assert.match(runs(0), /npm ci\b/);
  assert.match(runs(0), /npm run build\b/);
  assert.match(runs(last), /npm ci\b[^\n]*--omit=dev/);

  const entry = ins.filter((i) => i.op === "ENTRYPOINT");
  assert.equal(entry.length, 1);
  const entrypoint = JSON.parse((entry[0] as Instruction).args) as string[];
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    bin: Record<string, string>;
    files: string[];
  };
  assert.deepEqual(entrypoint, ["node", (pkg.bin.ferry as string).replace(/^\.\//, "")]);
  const cmd = ins.find((i) => i.op === "CMD");
  if (cmd) {
    const [command, ...args] = JSON.parse(cmd.args) as string[];
    assertFlagsExist(command as string, args, "Dockerfile CMD");
  }
  const user = ins.filter((i) => i.op === "USER" && i.stage === last).at(-1);
  assert.ok(user && !/^(root|0)(:|$)/.test(user.args), "the runtime stage runs as a non-root user");

  // Every COPY source is in the repository (the build context is its root),
  // and the runtime stage gets package.json plus everything the package ships.
  const copied = new Set<string>();
  for (const i of ins.filter((x) => x.op === "COPY")) {
    const words = i.args.split(/\s+/);
    const from = words.find((w) => w.startsWith("--from="))?.slice("--from=".length);
    const paths = words.filter((w) => !w.startsWith("--"));
    assert.ok(paths.length >= 2, `COPY ${i.args}`);
    const sources = paths.slice(0, -1);
    if (from !== undefined) {
      assert.ok(stages.has(from), `COPY --from=${from} names a stage`);
    } else {
      for (const src of sources) assert.ok(existsSync(join(ROOT, src)), `COPY ${src}: not in the repository`);
    }
    if (i.stage === last) {
      for (const src of sources) copied.add(src.replace(/^.*\//, "").replace(/\/$/, ""));
    }
  }
  for (const f of ["package.json", "package-lock.json", ...pkg.files]) {
    assert.ok(copied.has(f), `the runtime stage copies ${f}`);
  }
});
