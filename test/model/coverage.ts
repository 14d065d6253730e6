/** Which states and transitions of a machine the replayed paths went through, and a seeded sample of paths. */
import type { FlowModel, ModelPath } from "./models.js";
import { stateNodesOf, transitionsOf } from "./models.js";

export class ModelCoverage {
  private readonly states = new Set<string>();
  private readonly transitions = new Set<string>();
  private readonly replayed = new Map<string, number>();

  constructor(private readonly model: FlowModel) {}

  /** Records a path that a transport replayed to its end. */
  record(path: ModelPath, transport: string): void {
    for (const step of path.steps) {
      this.states.add(String(step.state.context.snapshot.value));
      const { transition } = step.state.context;
      if (transition) this.transitions.add(transition);
    }
    this.replayed.set(transport, (this.replayed.get(transport) ?? 0) + 1);
  }

  /** States and transitions of the machine's definition that no replayed path went through. */
  missing(): { states: string[]; transitions: string[] } {
    const states = stateNodesOf(this.model.machine).map((node) => node.key);
    return {
      states: states.filter((state) => !this.states.has(state)),
      transitions: transitionsOf(this.model.machine).filter((transition) => !this.transitions.has(transition)),
    };
  }

  /** Returns one line such as `model coverage login: states 6/6, transitions 18/18, paths replayed 150 (app.request) + 150 (socket)`. */
  summary(): string {
    const states = stateNodesOf(this.model.machine).length;
    const transitions = transitionsOf(this.model.machine).length;
    const missing = this.missing();
    const replayed = [...this.replayed].map(([transport, count]) => `${count} (${transport})`).join(" + ");
    return (
      `model coverage ${this.model.kind}: states ${states - missing.states.length}/${states}, ` +
      `transitions ${transitions - missing.transitions.length}/${transitions}, paths replayed ${replayed || "0"}`
    );
  }
}

/** A small seeded generator (mulberry32), so that a sample is the same on every run with one seed. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Picks up to `size` of `paths` at random with a seed, leaving out those named in `exclude`. */
export function samplePaths(paths: ModelPath[], exclude: ModelPath[], size: number, seed: number): ModelPath[] {
  const excluded = new Set(exclude.map((path) => path.name));
  const candidates = paths.filter((path) => !excluded.has(path.name));
  const random = createRandom(seed);
  // A partial Fisher-Yates shuffle: the first `size` places get a uniform sample.
  for (let i = 0; i < Math.min(size, candidates.length); i += 1) {
    const j = i + Math.floor(random() * (candidates.length - i));
    [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
  }
  return candidates.slice(0, size);
}
