/** info, list, run, compute: the commands of the foundation. */
import { initEngine, BACKENDS, type BackendChoice } from '../core/engine.js';
import { experiments, findExperiment } from '../experiments/index.js';
import { runExperiment } from '../experiments/runner.js';
import { parseCount, trainingCost, trainingFlops } from '../gpt/compute.js';
import { UsageError, intOption, numOption, parse, strOption } from './args.js';
import type { Command } from './command.js';

const backendOption = { backend: { type: 'string' } } as const;

export function backendFrom(v: string | boolean | undefined): BackendChoice {
  const b = strOption(v, 'auto');
  if (!(BACKENDS as readonly string[]).includes(b)) throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, got '${b}'`);
  return b as BackendChoice;
}

export const info: Command = {
  name: 'info',
  summary: 'versions, backend, native-kernel status and threads',
  usage: 'Usage: paperlab info [--json] [--backend auto|cpu|wasm|tensorflow]',
  async run(argv) {
    const { values } = parse(argv, { json: { type: 'boolean' }, ...backendOption }, this.usage, false);
    const e = await initEngine({ backend: backendFrom(values.backend) });
    if (values.json) {
      process.stdout.write(JSON.stringify(e, null, 2) + '\n');
      return;
    }
    process.stdout.write(
      [
        `paperlab on Node ${e.nodeVersion}, TensorFlow.js ${e.tfjsVersion}`,
        `backend: ${e.backend} (requested ${e.requested})`,
        `native: ${e.native.message}`,
        `threads: ${e.threads}`,
      ].join('\n') + '\n',
    );
  },
};

export const list: Command = {
  name: 'list',
  summary: 'the experiments, each with the claim it re-checks',
  usage: 'Usage: paperlab list [--json]',
  async run(argv) {
    const { values } = parse(argv, { json: { type: 'boolean' } }, this.usage, false);
    if (values.json) {
      process.stdout.write(JSON.stringify(experiments.map(({ run: _r, ...rest }) => rest), null, 2) + '\n');
      return;
    }
    for (const e of experiments) {
      process.stdout.write(`${e.name}\n  paper:    ${e.paper}\n  question: ${e.question}\n  time:     quick ${e.estimate.quick}, full ${e.estimate.full}\n`);
    }
  },
};

export const run: Command = {
  name: 'run',
  summary: 'run experiments and write <out>/<name>/result.json',
  usage:
    'Usage: paperlab run <name> [<name> …] | --all  [--quick] [--seed N] [--out DIR] [--backend B]\n' +
    '  names: see `paperlab list`; --result-dir DIR writes one experiment\'s result.json into DIR itself (as `paperlab sweep` does)',
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      { all: { type: 'boolean' }, quick: { type: 'boolean' }, seed: { type: 'string' }, out: { type: 'string' }, 'result-dir': { type: 'string' }, ...backendOption },
      this.usage,
    );
    if (!values.all && positionals.length === 0) throw new UsageError('name an experiment or pass --all', this.usage);
    if (values.all && positionals.length > 0) throw new UsageError('pass either experiment names or --all, not both', this.usage);
    const chosen = values.all
      ? experiments
      : positionals.map((n) => {
          const e = findExperiment(n);
          if (!e) throw new UsageError(`unknown experiment '${n}'; known: ${experiments.map((x) => x.name).join(', ')}`, this.usage);
          return e;
        });
    const resultDir = typeof values['result-dir'] === 'string' ? values['result-dir'] : undefined;
    if (resultDir !== undefined && chosen.length !== 1) throw new UsageError('--result-dir takes exactly one experiment', this.usage);
    const seed = intOption(values.seed, 'seed', 0);
    const out = strOption(values.out, 'results');
    const quick = Boolean(values.quick);
    await initEngine({ backend: backendFrom(values.backend), seed, verbose: true });
    for (const e of chosen) {
      process.stderr.write(`== ${e.name}${quick ? ' (quick)' : ''}, seed ${seed}\n`);
      const { file, result } = await runExperiment(e, { seed, quick, out, dir: resultDir, command: `paperlab run ${e.name}${quick ? ' --quick' : ''} --seed ${seed}` });
      process.stdout.write(`${e.name}: ${result.verdict}\n  → ${file} (${result.durationSec.toFixed(1)} s)\n`);
    }
  },
};

function fmtCount(x: number): string {
  return x.toExponential(3).replace('e+', 'e');
}

export const compute: Command = {
  name: 'compute',
  summary: 'training compute (C = 6·N·D) and cost of a model',
  usage:
    'Usage: paperlab compute --params N --tokens D [--t5] [--gpu-tflops 28] [--utilization 1] [--usd-per-gpu-hour 1.5] [--json]\n' +
    '  counts accept 175e9, 175B, 125M, 2k; --t5 counts 3·N·D (encoder–decoder) instead of 6·N·D',
  async run(argv) {
    const { values } = parse(
      argv,
      {
        params: { type: 'string' },
        tokens: { type: 'string' },
        t5: { type: 'boolean' },
        'gpu-tflops': { type: 'string' },
        utilization: { type: 'string' },
        'usd-per-gpu-hour': { type: 'string' },
        json: { type: 'boolean' },
      },
      this.usage,
      false,
    );
    if (typeof values.params !== 'string' || typeof values.tokens !== 'string') throw new UsageError('--params and --tokens are required', this.usage);
    let n: number, d: number;
    try {
      n = parseCount(values.params, '--params');
      d = parseCount(values.tokens, '--tokens');
    } catch (e) {
      throw new UsageError((e as Error).message, this.usage);
    }
    const flops = trainingFlops(n, d, { flopsPerParamToken: values.t5 ? 3 : 6 });
    const cost = trainingCost(flops, {
      gpuTflops: numOption(values['gpu-tflops'], 'gpu-tflops', 28),
      utilization: numOption(values.utilization, 'utilization', 1),
      usdPerGpuHour: numOption(values['usd-per-gpu-hour'], 'usd-per-gpu-hour', 1.5),
    });
    if (values.json) {
      process.stdout.write(JSON.stringify({ params: n, tokens: d, ...cost }, null, 2) + '\n');
      return;
    }
    const a = cost.assumptions;
    process.stdout.write(
      [
        `parameters ${fmtCount(n)}, tokens ${fmtCount(d)}`,
        `training compute: ${fmtCount(flops)} FLOPs = ${cost.pfDays.toPrecision(4)} PF-days (${values.t5 ? '3' : '6'}·N·D)`,
        `at ${a.gpuTflops} TFLOP/s × ${a.utilization} utilisation: ${cost.gpuHours.toExponential(3)} GPU-hours = ${cost.gpuYears.toFixed(1)} GPU-years`,
        `cost at $${a.usdPerGpuHour}/GPU-hour: $${(cost.usd / 1e6).toFixed(2)}M`,
      ].join('\n') + '\n',
    );
  },
};
