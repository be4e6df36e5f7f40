import type { Client, Metadata } from "@grpc/grpc-js";
import { type InstanceMode, type MethodDescription, ObjectsService } from "../src/gen/ferry/v1/objects.js";
import { toRemoteError } from "./remote-error.js";

/**
 * The methods of each exposed object a session calls, asked with Describe
 * once and remembered; a failed look-up is asked again next time.
 * `described` hears each object's mode (a session-mode object is held by
 * the session).
 */
export class SessionDescribe {
  readonly #client: Client;
  readonly #metadata: () => Metadata;
  readonly #described: (name: string, mode: InstanceMode) => void;
  readonly #methods = new Map<string, Promise<MethodDescription[]>>();

  constructor(
    client: Client,
    metadata: () => Metadata,
    described: (name: string, mode: InstanceMode) => void,
  ) {
    this.#client = client;
    this.#metadata = metadata;
    this.#described = described;
  }

  methods(name: string, timeoutMs: number): Promise<MethodDescription[]> {
    let methods = this.#methods.get(name);
    if (methods) return methods;
    const describe = ObjectsService.describe;
    methods = new Promise<MethodDescription[]>((resolve, reject) => {
      this.#client.makeUnaryRequest(
        describe.path,
        describe.requestSerialize,
        describe.responseDeserialize,
        { object: name },
        this.#metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, res) => {
          if (err || !res) reject(toRemoteError(err));
          else {
            const described = res.objects[0];
            resolve(described?.methods ?? []);
            if (described) this.#described(name, described.mode);
          }
        },
      );
    });
    this.#methods.set(name, methods);
    methods.catch(() => this.#methods.delete(name));
    return methods;
  }
}
