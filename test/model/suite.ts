/**
 * The replay suite of one machine. It replays every shortest path of the machine's model and a
 * seeded sample of its simple paths, each over `app.request()` and over a socket. Then it checks
 * that the replayed paths went through every state and transition of the machine.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FlowKind } from "../../machines/index.js";
import { type TestApp, createTestApp } from "../support/app.js";
import { OPERATOR_ENV } from "../support/operator.js";
import { ModelCoverage, samplePaths } from "./coverage.js";
import { type ModelPath, flowModels, shortestPathsOf, simplePathsOf } from "./models.js";
import { ActorPool, type Transport, inProcessTransport, replayPath, socketTransport } from "./replay.js";

/** `MODEL_SEED` picks another sample of simple paths. The default keeps runs repeatable. */
const DEFAULT_SEED = 20_260_105;

export function describeModelReplay(kind: FlowKind, options: { sampleSize: number }): void {
  const model = flowModels[kind];
  const shortest = shortestPathsOf(model);
  const seed = Number(process.env.MODEL_SEED ?? DEFAULT_SEED);
  const sample = samplePaths(simplePathsOf(model), shortest, options.sampleSize, seed);
  const coverage = new ModelCoverage(model);

  let app: TestApp;
  let actors: ActorPool;
  let socket: Transport & { close(): Promise<void> };
  beforeAll(async () => {
    // A threshold of 1 lets one failed sign-in in another flow pause the address.
    app = await createTestApp({ env: { ...OPERATOR_ENV, SIGN_IN_PAUSE_THRESHOLD: "1" } });
    actors = new ActorPool(app);
    socket = await socketTransport(app);
  });
  afterAll(async () => {
    await socket?.close();
    await app?.close();
  });

  const describePaths = (title: string, paths: ModelPath[], transportName: Transport["name"]) => {
    describe(title, () => {
      for (const path of paths) {
        it(path.name, async () => {
          const transport = transportName === "socket" ? socket : inProcessTransport(app);
          await replayPath({ app, transport, actors }, path);
          coverage.record(path, transportName);
        });
      }
    });
  };

  for (const transportName of ["app.request", "socket"] as const) {
    describe(`${kind} model over ${transportName}`, () => {
      describePaths("every shortest path", shortest, transportName);
      describePaths(`simple paths sampled with seed ${seed}`, sample, transportName);
    });
  }

  it(`covers every state and transition of the ${kind} machine`, () => {
    console.log(coverage.summary());
    expect(coverage.missing()).toEqual({ states: [], transitions: [] });
  });
}
