/** Summarizes a V8 `.cpuprofile` (as `node --cpu-prof` writes it) by self time. */
import { readFileSync } from "node:fs";
import { round } from "./stats.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  selfMs: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Self time by area: a package under node_modules, a folder of this project, or V8's own. */
  byArea: ProfileEntry[];
  byFunction: ProfileEntry[];
}

/** Names the area that a script belongs to, such as `xstate`, `src/flows` or `(gc)`. */
function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const dependency = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (dependency) return dependency[1] as string;
  if (url.startsWith("node:")) return url;
  const project = url.match(/\/(src|db|machines)\/(?:([^/]+)\/)?/);
  if (project) return project[2] && !project[2].includes(".") ? `${project[1]}/${project[2]}` : (project[1] as string);
  return url;
}

function shorten(url: string): string {
  return url.replace(/^file:\/\/.*?\/(node_modules|src|db|machines)\//, "$1/");
}

/** Adds up self time per function and per area, largest first. */
export function summarizeProfile(path: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, index) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });

  const functions = new Map<string, number>();
  const areas = new Map<string, number>();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    totalUs += us;
    if (frame.functionName === "(idle)") continue;
    const name = `${frame.functionName || "(anonymous)"} ${shorten(frame.url)}:${frame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
    const area = areaOf(frame.url, frame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const busyUs = totalUs - (selfUsOf(profile, byId, "(idle)") ?? 0);
  const entries = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: round(us / 1000, 0), share: round(us / busyUs, 3) }));
  return { totalMs: round(busyUs / 1000, 0), byArea: entries(areas), byFunction: entries(functions) };
}

function selfUsOf(profile: CpuProfile, byId: Map<number, ProfileNode>, functionName: string): number {
  let sum = 0;
  profile.samples.forEach((id, index) => {
    if (byId.get(id)?.callFrame.functionName === functionName) sum += profile.timeDeltas[index] ?? 0;
  });
  return sum;
}
