/**
 * Hebbian meta-learning's damage test at small scale (Najarro & Risi 2020, §6 of the notes).
 *
 * On the Pendulum swing-up, OpenAI-ES evolves (a) the weights of a static tanh network and (b) the
 * per-synapse ABCD_lr coefficients of a same-shaped plastic network whose weights start random
 * (U[−0.1, 0.1]) every episode. Both are evolved on two bodies at once — the standard rod and a
 * heavier one (the seen damage) — with the same ES settings and the same episodes, then evaluated on
 * the seen bodies and on four held-out damages (a rod ×1.4 and ×2 as long, a motor at 60 % and 40 %),
 * the two harsher ones chosen because they break the static policy (its return drops to about half
 * way to a random policy's). A frozen-plasticity control replays the evolved Hebbian network with its
 * updates switched off after k steps (`plasticSteps`), so the weights stay as the first k updates
 * left them: if the network adapts to damage as it acts, freezing must cost return on the damaged
 * bodies. Within-episode adaptation is shown by the mean |Δw| per step and the reward per step. A
 * Hebbian CartPole agent is evolved too and saved for a browser demo.
 *
 * One run = one evolution run per network. The evidence is a sweep (`paperlab sweep
 * hebbian-adaptation --seeds 0-4`): each seed is an independent evolution run of both networks,
 * and the sweep compares the arms with a paired bootstrap over those runs (never over rollouts of
 * one run, which share one evolved network).
 *
 * Fitness, exactly (the notes' open question). The paper (and its code's `fitness_hebb`) scores a
 * candidate by the undiscounted return of ONE episode (one lifetime, random initial weights) per
 * generation. Ours: the mean return of `episodes` = 2 episodes on each of the 2 training bodies
 * (4 episodes), every candidate of a generation playing the same episode seeds (start states and
 * random initial weights), minus 0.01 · mean(params²), then centred ranks. Why not one episode: the
 * pendulum starts at a uniformly random angle, so one episode's return varies by ±150 with the start
 * alone (the Ant starts from nearly the same pose every time), and with a population of 64 that noise
 * would decide the ranks; shared seeds make candidates differ only by their parameters.
 * See src/hebbian/evolve.ts and rollout.ts (`evaluateFitness`).
 */
import { availableParallelism } from 'node:os';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { lineChart, type ChartSpec } from '../core/charts.js';
import { Rng } from '../core/rng.js';
import { formatInterval } from '../core/stats.js';
import { evolvePolicy, evaluateReturns, summarise, type ReturnStats } from '../hebbian/evolve.js';
import { createEvaluator } from '../hebbian/pool.js';
import { PlasticNetwork, makePolicy, parameterCount, type HebbianPolicySpec, type PolicySpec } from '../hebbian/network.js';
import { Episode, makeAgentFile, type FitnessSpec } from '../hebbian/rollout.js';
import { makeEnv, type EnvSpec } from '../hebbian/envs.js';
import type { EsConfig, GenerationStats } from '../hebbian/es.js';
import type { Experiment, SweepComparisonRow, SweepComparisonSpec, SweepStats, TableRow } from './types.js';

interface Settings {
  hidden: number[];
  es: Partial<EsConfig>;
  generations: number;
  /** Episodes per training body and candidate. */
  episodes: number;
  rollouts: number;
  /** Episodes averaged for the within-episode curves. */
  curveEpisodes: number;
  /**
   * Independent evolution runs per network within one run (seeds seed, seed+1, …; rollouts pooled).
   * 1 in both modes: a sweep's seeds are the independent evolution runs the intervals are over.
   */
  runs: number;
  cartpole: { generations: number; populationSize: number };
}

const QUICK: Settings = {
  hidden: [16, 8],
  es: { populationSize: 64, lr: 0.1, sigma: 0.1 },
  generations: 300,
  episodes: 2,
  rollouts: 100,
  curveEpisodes: 20,
  runs: 1,
  cartpole: { generations: 30, populationSize: 32 },
};

const FULL: Settings = {
  hidden: [16, 8],
  es: { populationSize: 200, lr: 0.1, sigma: 0.1 },
  generations: 300,
  episodes: 2,
  rollouts: 100,
  curveEpisodes: 100,
  runs: 1,
  cartpole: { generations: 100, populationSize: 64 },
};

type Net = 'static' | 'hebbian';
const NETS: readonly Net[] = ['static', 'hebbian'];
const SEEN = ['standard', 'heavy'] as const;
const UNSEEN = ['long', 'weak-motor', 'very-long', 'very-weak-motor'] as const;
const BODIES = [...SEEN, ...UNSEEN];
/** Frozen-plasticity control: Hebbian updates allowed per episode before the weights freeze. */
export const FREEZE_STEPS = [10, 50, 100] as const;

/** Stable table labels (the sweep pairs rows across seeds by label: no run-dependent numbers inside). */
export const BODY_LABEL: Record<string, string> = {
  standard: 'standard body (seen)',
  heavy: 'heavy rod ×1.5 (seen damage)',
  long: 'long rod ×1.4 (unseen damage)',
  'weak-motor': 'motor at 60 % (unseen damage)',
  'very-long': 'very long rod ×2 (unseen damage)',
  'very-weak-motor': 'motor at 40 % (unseen damage)',
};
export const ARM_NAME = { static: 'Static', hebbian: 'Hebbian ABCD_lr' } as const;
export const frozenName = (k: number): string => `Hebbian, plasticity off after ${k} steps`;
export const bodyRow = (arm: string, body: string): string => `${arm}, ${BODY_LABEL[body]}: mean return`;
export const seenRow = (arm: string): string => `${arm}: mean return on the seen bodies`;
export const unseenRow = (arm: string): string => `${arm}: mean return on the unseen damages`;
export const lostRow = (arm: string): string => `${arm}: return lost from seen bodies to unseen damages`;

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const r1 = (x: number): number => Number(x.toFixed(1));

/**
 * Per-step averages over episodes: the reward, the mean |Δw| of the plastic network, and the mean
 * change of its max-normalised weights ŵ = w / max|w| per layer (the network's configuration, which
 * is what a saturating tanh net's behaviour depends on once the weights have grown).
 */
function withinEpisode(spec: PolicySpec, params: Float32Array, env: EnvSpec, episodes: number, seed: number): { dw: number[]; dwHat: number[]; reward: number[] } {
  const e = makeEnv(env);
  const policy = makePolicy(spec, params);
  const plastic = policy instanceof PlasticNetwork ? policy : null;
  const dw = new Array<number>(e.maxSteps).fill(0);
  const dwHat = new Array<number>(e.maxSteps).fill(0);
  const reward = new Array<number>(e.maxSteps).fill(0);
  const normalised = (): Float32Array[] =>
    plastic!.weights.map((w) => {
      const m = Math.max(...Array.from(w, Math.abs)) || 1;
      return w.map((v) => v / m);
    });
  const rng = new Rng(seed);
  for (let k = 0; k < episodes; k++) {
    const ep = new Episode(e, policy, rng.nextU32());
    let prev = plastic ? normalised() : [];
    while (!ep.done) {
      const s = ep.step();
      dw[s.t - 1]! += s.weightChange / episodes;
      reward[s.t - 1]! += s.reward / episodes;
      if (plastic) {
        const cur = normalised();
        let sum = 0;
        let n = 0;
        cur.forEach((w, l) => w.forEach((v, i) => ((sum += Math.abs(v - prev[l]![i]!)), n++)));
        dwHat[s.t - 1]! += sum / n / episodes;
        prev = cur;
      }
    }
  }
  return { dw, dwHat, reward };
}

/**
 * The step after which a per-step change has settled: its 10-step moving average stays below 10 % of
 * its value over the first 10 steps for the rest of the episode; null if it never does.
 */
export function settleStep(dw: number[], window = 10, fraction = 0.1): number | null {
  if (dw.length < window) return null;
  const avg = (i: number): number => mean(dw.slice(i, i + window));
  const threshold = fraction * avg(0);
  let last = -1;
  for (let i = 0; i + window <= dw.length; i++) if (avg(i) > threshold) last = i;
  return last + window < dw.length ? last + window + 1 : null;
}

export interface RunVerdictInput {
  runs: number;
  seen: Record<Net, number>;
  unseen: Record<Net, number>;
  staticStandard: number;
  staticWorstDamage: number;
  frozenUnseen: Array<{ k: number; unseen: number }>;
  /** Latest settle step over the bodies where the configuration settles (null: never settles). */
  settleMax: number | null;
  settleAll: boolean;
}

const higherLower = (a: number, b: number): string => (a > b ? 'higher than' : a < b ? 'lower than' : 'equal to');

/**
 * One run's verdict (pure): it states the run's numbers and says that they come from one evolution
 * run per network — whether a difference is more than the luck of one evolution is the sweep's call.
 */
export function hebbianRunVerdict(v: RunVerdictInput): string {
  const f = (x: number): string => x.toFixed(0);
  const runs = v.runs === 1 ? 'one evolution run per network' : `${v.runs} evolution runs per network, pooled`;
  const frozen = v.frozenUnseen.map((x) => `${f(x.unseen)} frozen after ${x.k} steps`).join(', ');
  return (
    `From ${runs} (differences need \`paperlab sweep hebbian-adaptation\`: intervals over independent runs, not over rollouts): ` +
    `on the seen bodies the Hebbian network's mean return is ${higherLower(v.seen.hebbian, v.seen.static)} the static one's (${f(v.seen.hebbian)} vs ${f(v.seen.static)}), ` +
    `on the unseen damages ${higherLower(v.unseen.hebbian, v.unseen.static)} it (${f(v.unseen.hebbian)} vs ${f(v.unseen.static)}); ` +
    `the harshest damage takes the static policy from ${f(v.staticStandard)} to ${f(v.staticWorstDamage)}; ` +
    `with plasticity switched off the Hebbian network scores ${frozen} on the unseen damages (always plastic: ${f(v.unseen.hebbian)}); ` +
    (v.settleMax === null
      ? 'its weight configuration keeps changing through the whole episode (paper: settles in < 100 steps).'
      : `its weight configuration settles within ${v.settleMax} steps${v.settleAll ? '' : ' on some bodies'} (paper: < 100).`)
  );
}

/** The sweep's paired comparisons (bootstrap over evolution runs: returns are skewed, n is small). */
export const HEBBIAN_COMPARISONS: SweepComparisonSpec[] = [
  ...UNSEEN.map((b) => ({ a: bodyRow(ARM_NAME.static, 'standard'), b: bodyRow(ARM_NAME.static, b), aName: 'static on the standard body', bName: `static on the ${BODY_LABEL[b]!.replace(' (unseen damage)', '')}`, test: 'bootstrap' as const })),
  { a: seenRow(ARM_NAME.hebbian), b: seenRow(ARM_NAME.static), aName: 'Hebbian (seen bodies)', bName: 'static (seen bodies)', test: 'bootstrap' },
  { a: unseenRow(ARM_NAME.hebbian), b: unseenRow(ARM_NAME.static), aName: 'Hebbian (unseen damages)', bName: 'static (unseen damages)', test: 'bootstrap' },
  ...UNSEEN.map((b) => ({ a: bodyRow(ARM_NAME.hebbian, b), b: bodyRow(ARM_NAME.static, b), aName: `Hebbian (${BODY_LABEL[b]!.replace(' (unseen damage)', '')})`, bName: 'static', test: 'bootstrap' as const })),
  { a: lostRow(ARM_NAME.hebbian), b: lostRow(ARM_NAME.static), aName: 'return Hebbian loses to damage', bName: 'return static loses', test: 'bootstrap' },
  ...FREEZE_STEPS.map((k) => ({ a: unseenRow(ARM_NAME.hebbian), b: unseenRow(frozenName(k)), aName: 'always-plastic Hebbian (unseen damages)', bName: `plasticity off after ${k} steps`, test: 'bootstrap' as const })),
];

function findComparison(stats: Pick<SweepStats, 'comparisons'>, a: string, b: string): SweepComparisonRow | undefined {
  return stats.comparisons.find((c) => c.a === a && c.b === b);
}

/** "higher than" / "lower than" / "within noise of", read from the interval of A − B only. */
export function relation(c: SweepComparisonRow | undefined): string {
  if (!c || c.direction === 'no interval') return 'not separable (no interval: too few runs) from';
  return c.direction === 'greater' ? 'higher than' : c.direction === 'less' ? 'lower than' : 'within noise of';
}

const diffText = (c: SweepComparisonRow | undefined): string => (c ? `${c.meanDiff.toFixed(0)} ${formatInterval(c.ci95)}` : 'n/a');

/**
 * The sweep's verdict (pure; every phrase is read from a paired interval over evolution runs):
 * does damage break the static policy, static vs Hebbian on seen and unseen bodies, the frozen
 * control, and whether the paper's pattern (static better seen, Hebbian better unseen) holds.
 */
export function hebbianSweepVerdict(stats: Pick<SweepStats, 'comparisons' | 'seeds'>): string {
  const n = stats.seeds.length;
  const breaks = UNSEEN.map((b) => ({ b, c: findComparison(stats, bodyRow(ARM_NAME.static, 'standard'), bodyRow(ARM_NAME.static, b)) }));
  const broken = breaks.filter((x) => x.c?.direction === 'greater');
  const seen = findComparison(stats, seenRow(ARM_NAME.hebbian), seenRow(ARM_NAME.static));
  const unseen = findComparison(stats, unseenRow(ARM_NAME.hebbian), unseenRow(ARM_NAME.static));
  const lost = findComparison(stats, lostRow(ARM_NAME.hebbian), lostRow(ARM_NAME.static));
  const frozen = FREEZE_STEPS.map((k) => ({ k, c: findComparison(stats, unseenRow(ARM_NAME.hebbian), unseenRow(frozenName(k))) }));
  const staticBetterSeen = seen?.direction === 'less';
  const hebbianBetterUnseen = unseen?.direction === 'greater';
  const pattern = staticBetterSeen && hebbianBetterUnseen ? 'holds' : staticBetterSeen || hebbianBetterUnseen ? 'holds only in part' : 'does not hold';
  const damage =
    broken.length === 0
      ? 'no damage lowers the static policy\'s return beyond noise'
      : `damage lowers the static policy's return beyond noise on ${broken.length} of ${UNSEEN.length} damaged bodies (${broken.map((x) => `${BODY_LABEL[x.b]!.replace(' (unseen damage)', '')} by ${x.c!.meanDiff.toFixed(0)} ${formatInterval(x.c!.ci95)}`).join(', ')})`;
  const lostText = !lost || lost.direction === 'no interval' ? 'not separable' : lost.direction === 'less' ? 'less return than the static one' : lost.direction === 'greater' ? 'more return than the static one' : 'about as much return as the static one (within noise)';
  const frozenText = frozen
    .map(({ k, c }) => `${!c || c.direction === 'no interval' ? 'not separable from' : c.direction === 'greater' ? 'better than' : c.direction === 'less' ? 'worse than' : 'within noise of'} freezing after ${k} steps (${diffText(c)})`)
    .join(', ');
  return (
    `Over ${n} independent evolution run${n === 1 ? '' : 's'} per network (paired bootstrap 95 % intervals of the differences): ${damage}; ` +
    `the Hebbian network's return is ${relation(seen)} the static one's on the seen bodies (${diffText(seen)}) and ${relation(unseen)} it on the unseen damages (${diffText(unseen)}); ` +
    `going from seen to unseen bodies the Hebbian network loses ${lostText}; ` +
    `on the unseen damages, always-plastic Hebbian is ${frozenText}; ` +
    `so the paper's pattern (static better on the seen body, Hebbian better on unseen damage) ${pattern} at this scale.`
  );
}

export const hebbianAdaptation: Experiment = {
  name: 'hebbian-adaptation',
  section: 'hebbian',
  paper: 'Meta-Learning through Hebbian Plasticity in Random Networks (Najarro & Risi, NeurIPS 2020)',
  claim:
    'Networks whose weights start random every episode and self-organise by evolved Hebbian rules (ABCD_lr) are somewhat worse than static networks on the body they were evolved on, but keep working on an unseen damaged body, adapting within ~100 steps.',
  question: 'The notes: "I am not completely certain how the fitness is evaluated" — and does the Hebbian network really beat fixed weights on damage it never saw?',
  estimate: { quick: '~1 min (native kernels, idle 2 cores)', full: '~2 min (native kernels, idle 2 cores)' },
  sweep: { comparisons: HEBBIAN_COMPARISONS, verdict: hebbianSweepVerdict },
  async run(ctx) {
    const s = ctx.quick ? QUICK : FULL;
    const workers = Math.min(2, availableParallelism());
    const sizes = [3, ...s.hidden, 1];
    const nets: Record<Net, PolicySpec> = {
      static: { kind: 'static', sizes, inputBias: true },
      hebbian: { kind: 'hebbian', sizes, rule: 'ABCD_lr', inputBias: true },
    };
    const cartPolicy: PolicySpec = { kind: 'hebbian', sizes: [4, ...s.hidden, 2], rule: 'ABCD_lr', normalise: true };
    const train = (policy: PolicySpec): FitnessSpec => ({ policy, envs: SEEN.map((b) => ({ name: 'pendulum', body: b })), episodes: s.episodes });
    const evaluator = createEvaluator(workers);
    const ckRoot = path.join(ctx.outDir, 'checkpoints');
    const mode = ctx.quick ? 'quick' : 'full';
    // runs[i][net]: evolved parameters and history of run i (seed ctx.seed + i).
    const runs: Array<Record<Net, { params: Float32Array; history: GenerationStats[]; seconds: number }>> = [];
    let cart: { params: Float32Array; history: GenerationStats[] };
    try {
      for (let i = 0; i < s.runs; i++) {
        const seed = ctx.seed + i;
        const run = {} as (typeof runs)[number];
        for (const kind of NETS) {
          ctx.log(`run ${i + 1}/${s.runs}: evolving the ${kind} network (${parameterCount(nets[kind])} parameters), ${s.generations} generations × ${s.es.populationSize} candidates, ${workers} workers`);
          const r = await evolvePolicy({
            spec: train(nets[kind]),
            generations: s.generations,
            es: s.es,
            seed,
            evaluator,
            // Per-generation checkpoints: an interrupted run resumes where it stopped.
            checkpointDir: path.join(ckRoot, `${mode}-seed${seed}-${kind}`),
            label: `hebbian-adaptation ${kind} (run ${i + 1})`,
          });
          run[kind] = { params: r.params, history: r.history, seconds: r.seconds };
        }
        runs.push(run);
      }
      // CartPole: a Hebbian agent for the browser demo. Capped returns tie at 500, and with rank
      // shaping a tie-breaking penalty would then drive every step, so the penalty is off here.
      ctx.log(`evolving a Hebbian CartPole agent (${s.cartpole.generations} generations)`);
      cart = await evolvePolicy({
        spec: { policy: cartPolicy, envs: [{ name: 'cartpole' }], episodes: 1 },
        generations: s.cartpole.generations,
        es: { populationSize: s.cartpole.populationSize, lr: 0.1, penalty: 0 },
        seed: ctx.seed,
        evaluator,
        checkpointDir: path.join(ckRoot, `${mode}-seed${ctx.seed}-cartpole`),
        label: 'hebbian-adaptation cartpole',
      });
    } finally {
      await evaluator.close();
    }

    // Evaluation: the same rollout seeds for both networks (and the frozen controls) on every body.
    const evalSeed = ctx.rng.fork('eval').nextU32();
    const results: Record<Net, Record<string, ReturnStats>> = { static: {}, hebbian: {} };
    const perRun: Record<Net, Record<string, number[]>> = { static: {}, hebbian: {} };
    for (const kind of NETS) {
      for (const body of BODIES) {
        const all = runs.map((r) => evaluateReturns(train(nets[kind]), r[kind].params, { name: 'pendulum', body }, s.rollouts, evalSeed));
        results[kind][body] = summarise(all.flatMap((x) => x.returns));
        perRun[kind][body] = all.map((x) => x.mean);
      }
    }
    // Frozen plasticity: the evolved coefficients, updates off after k steps of every episode.
    const frozen: Record<number, Record<string, ReturnStats>> = {};
    for (const k of FREEZE_STEPS) {
      const spec: HebbianPolicySpec = { ...(nets.hebbian as HebbianPolicySpec), plasticSteps: k };
      frozen[k] = {};
      for (const body of BODIES) {
        frozen[k]![body] = summarise(runs.flatMap((r) => evaluateReturns(train(spec), r.hebbian.params, { name: 'pendulum', body }, s.rollouts, evalSeed).returns));
      }
    }
    const cartResults: Record<string, ReturnStats> = {};
    for (const body of ['standard', 'long-pole', 'heavy-pole', 'weak-motor']) {
      cartResults[body] = evaluateReturns({ policy: cartPolicy, envs: [{ name: 'cartpole' }], episodes: 1 }, cart.params, { name: 'cartpole', body }, s.rollouts, evalSeed);
    }

    // Within-episode curves (first run).
    const curveSeed = ctx.rng.fork('curves').nextU32();
    const dwRows: Array<Record<string, string | number>> = [];
    const rewardRows: Array<Record<string, string | number>> = [];
    const settle: Record<string, number | null> = {};
    const meanAbsDw: Record<string, number> = {};
    for (const body of BODIES) {
      const h = withinEpisode(nets.hebbian, runs[0]!.hebbian.params, { name: 'pendulum', body }, s.curveEpisodes, curveSeed);
      const st = withinEpisode(nets.static, runs[0]!.static.params, { name: 'pendulum', body }, s.curveEpisodes, curveSeed);
      settle[body] = settleStep(h.dwHat);
      meanAbsDw[body] = mean(h.dw);
      h.dwHat.forEach((v, t) => dwRows.push({ step: t + 1, body, change: v }));
      if (body === 'standard' || body === 'long') {
        for (const [net, c] of [['hebbian', h], ['static', st]] as const) {
          // 5-step means keep the chart readable.
          for (let t = 0; t < c.reward.length; t += 5) rewardRows.push({ step: t + 5, series: `${net}, ${body}`, reward: mean(c.reward.slice(t, t + 5)) });
        }
      }
    }

    // Agent files: the trained networks, loadable by src/hebbian/browser.ts (createEpisode).
    const info = (generations: number) => ({ experiment: 'hebbian-adaptation', seed: ctx.seed, quick: ctx.quick, generations });
    await fs.writeFile(path.join(ctx.outDir, 'cartpole-hebbian-agent.json'), JSON.stringify(makeAgentFile({ name: 'cartpole' }, cartPolicy, cart.params, info(s.cartpole.generations))));
    for (const kind of NETS) {
      await fs.writeFile(path.join(ctx.outDir, `pendulum-${kind}-agent.json`), JSON.stringify(makeAgentFile({ name: 'pendulum' }, nets[kind], runs[0]![kind].params, info(s.generations))));
    }
    // The run finished: its checkpoints have served their purpose (crash recovery).
    await fs.rm(ckRoot, { recursive: true, force: true });

    const groupMean = (r: Record<string, ReturnStats>, bodies: readonly string[]): number => mean(bodies.map((b) => r[b]!.mean));
    const seenMean = (k: Net): number => groupMean(results[k], SEEN);
    const unseenMean = (k: Net): number => groupMean(results[k], UNSEEN);
    const settleSteps = BODIES.map((b) => settle[b]).filter((x): x is number => x !== null);
    const n = s.rollouts * s.runs;

    const paperPattern: Record<string, Record<Net, string>> = {
      standard: { static: '1604 (Ant, seen body)', hebbian: '1051 (Ant, seen body)' },
      heavy: { static: 'better than Hebbian (seen)', hebbian: 'worse than static (seen)' },
    };
    const unseenPaper = { static: 'stops walking (Ant, unseen damage)', hebbian: 'keeps walking (Ant, unseen damage)' };
    const unit = 'pendulum return (200 steps, 0 is best)';
    const table: TableRow[] = [];
    for (const body of BODIES) {
      for (const kind of NETS) table.push({ label: bodyRow(ARM_NAME[kind], body), ours: r1(results[kind][body]!.mean), paper: (paperPattern[body] ?? unseenPaper)[kind], unit });
    }
    for (const kind of NETS) {
      table.push({ label: seenRow(ARM_NAME[kind]), ours: r1(seenMean(kind)), paper: kind === 'static' ? 'higher (Ant 1604)' : 'lower (Ant 1051)', unit });
      table.push({ label: unseenRow(ARM_NAME[kind]), ours: r1(unseenMean(kind)), paper: kind === 'static' ? 'lower' : 'higher', unit });
      table.push({ label: lostRow(ARM_NAME[kind]), ours: r1(seenMean(kind) - unseenMean(kind)), paper: kind === 'static' ? 'large' : 'small', unit: 'return' });
    }
    for (const k of FREEZE_STEPS) {
      for (const body of BODIES) table.push({ label: bodyRow(frozenName(k), body), ours: r1(frozen[k]![body]!.mean), paper: null, unit });
      table.push({ label: seenRow(frozenName(k)), ours: r1(groupMean(frozen[k]!, SEEN)), paper: null, unit });
      table.push({ label: unseenRow(frozenName(k)), ours: r1(groupMean(frozen[k]!, UNSEEN)), paper: 'lower than plastic, if the network adapts as it acts', unit });
    }
    for (const body of BODIES) table.push({ label: `Hebbian weight configuration settles (change of w/max|w| < 10 % of its start), ${BODY_LABEL[body]}`, ours: settle[body] ?? 'never', paper: '< 100', unit: 'steps' });
    table.push({ label: 'Spread of returns over this run\'s rollouts (std), static / Hebbian, standard body', ours: `${results.static.standard!.std.toFixed(0)} / ${results.hebbian.standard!.std.toFixed(0)}`, paper: null, unit: `return (${n} rollouts of one evolved network: not an interval over runs)` });
    table.push({ label: 'CarRacing, for scale (not run here)', ours: null, paper: 'Hebbian 872 ± 11 vs static 711 ± 16', unit: 'return' });
    for (const body of Object.keys(cartResults)) table.push({ label: `Hebbian CartPole agent (random weights every episode), ${body} body: mean return`, ours: r1(cartResults[body]!.mean), paper: null, unit: 'return (max 500)' });

    const verdict = hebbianRunVerdict({
      runs: s.runs,
      seen: { static: seenMean('static'), hebbian: seenMean('hebbian') },
      unseen: { static: unseenMean('static'), hebbian: unseenMean('hebbian') },
      staticStandard: results.static.standard!.mean,
      staticWorstDamage: Math.min(...UNSEEN.map((b) => results.static[b]!.mean)),
      frozenUnseen: FREEZE_STEPS.map((k) => ({ k, unseen: groupMean(frozen[k]!, UNSEEN) })),
      settleMax: settleSteps.length ? Math.max(...settleSteps) : null,
      settleAll: settleSteps.length === BODIES.length,
    });

    const charts: ChartSpec[] = [
      lineChart({
        id: 'weight-change',
        title: 'Hebbian network: weight change per step within an episode',
        alt: `Mean per-step change of the max-normalised weights (w / max|w| per layer) of the evolved ABCD_lr network over ${s.curveEpisodes} episodes on each pendulum body; weights start random every episode.`,
        rows: dwRows,
        x: 'step',
        y: 'change',
        series: 'body',
        xTitle: 'step in episode',
        yTitle: 'mean |Δ(w / max|w|)| per synapse',
        logY: true,
      }),
      lineChart({
        id: 'reward-per-step',
        title: 'Reward per step within an episode (5-step means)',
        alt: `Mean reward at each step over ${s.curveEpisodes} episodes for the static and Hebbian networks on the standard body and the unseen long rod.`,
        rows: rewardRows,
        x: 'step',
        y: 'reward',
        series: 'series',
        xTitle: 'step in episode',
        yTitle: 'reward',
      }),
      lineChart({
        id: 'evolution',
        title: 'Mean population fitness per generation',
        alt: 'Mean fitness (average return on the standard and heavy pendulum) of the ES population per generation, static vs Hebbian.',
        rows: NETS.flatMap((k) => runs[0]![k].history.filter((h) => h.generation % 5 === 0).map((h) => ({ generation: h.generation, network: k, fitness: h.meanFitness }))),
        x: 'generation',
        y: 'fitness',
        series: 'network',
      }),
    ];

    const returns = (k: Net) => Object.fromEntries(BODIES.map((b) => [b, { mean: results[k][b]!.mean, std: results[k][b]!.std, perRunMeans: perRun[k][b]! }]));
    return {
      config: {
        env: 'pendulum',
        seenBodies: [...SEEN],
        unseenBodies: [...UNSEEN],
        sizes,
        inputBias: true,
        rule: 'ABCD_lr',
        initialWeights: 'U[-0.1, 0.1] every episode',
        generations: s.generations,
        es: { ...s.es },
        episodesPerBodyPerCandidate: s.episodes,
        seeding: 'shared',
        fitness: 'mean return of 2 episodes on each of the 2 seen bodies (shared seeds within a generation), minus 0.01*mean(params^2), centred ranks; the paper: return of one episode',
        freezeSteps: [...FREEZE_STEPS],
        runs: s.runs,
        rollouts: s.rollouts,
        workers,
        cartpole: { sizes: cartPolicy.sizes, normalise: true, generations: s.cartpole.generations, populationSize: s.cartpole.populationSize, lr: 0.1, penalty: 0 },
      },
      metrics: {
        static: returns('static'),
        hebbian: returns('hebbian'),
        seenMean: { static: seenMean('static'), hebbian: seenMean('hebbian') },
        unseenMean: { static: unseenMean('static'), hebbian: unseenMean('hebbian') },
        frozen: Object.fromEntries(FREEZE_STEPS.map((k) => [String(k), Object.fromEntries(BODIES.map((b) => [b, { mean: frozen[k]![b]!.mean, std: frozen[k]![b]!.std }]))])),
        settleStep: settle,
        meanAbsDwPerStep: meanAbsDw,
        cartpole: Object.fromEntries(Object.entries(cartResults).map(([b, r]) => [b, { mean: r.mean, std: r.std }])),
        evolveSeconds: Object.fromEntries(NETS.map((k) => [k, runs.reduce((a, r) => a + r[k].seconds, 0)])),
        parameters: { static: parameterCount(nets.static), hebbian: parameterCount(nets.hebbian) },
        finalFitness: Object.fromEntries(NETS.map((k) => [k, runs.map((r) => r[k].history.at(-1)!.meanFitness)])),
      },
      table,
      verdict,
      charts,
    };
  },
};
