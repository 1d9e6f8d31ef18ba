/**
 * Feed-forward networks for the Hebbian experiments: tanh units, no biases (as in the paper).
 *
 * - PlasticNetwork: its weights are drawn at random at the start of every episode
 *   (U[−initScale, initScale], 0.1 by default) and change after every forward pass by a Hebbian rule
 *   with per-synapse coefficients — the coefficients are what evolution optimises.
 * - StaticNetwork: same shape, fixed weights — the weights are what evolution optimises (baseline).
 *
 * Both implement `Policy`. Plain Float32Array maths; browser-safe (no Node imports).
 */
import { PaperlabError, check, checkInt, checkNumber } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { checkRule, coefficientsPerSynapse, hebbianUpdateLayer, normaliseLayer, type HebbianRule } from './rules.js';

export interface Policy {
  readonly sizes: readonly number[];
  /** Called at the start of every episode; a plastic network redraws its weights from `rng`. */
  reset(rng: Rng): void;
  /** One forward pass (and, for a plastic network, one Hebbian update). Returns the output units. */
  act(observation: ArrayLike<number>): Float32Array;
  /** Mean |Δw| over all synapses in the last `act` (0 for a static network). */
  readonly lastWeightChange: number;
}

export interface StaticPolicySpec {
  kind: 'static';
  /** Layer sizes, input first: [obs, hidden…, outputs]. */
  sizes: number[];
  /**
   * Append a constant 1 to the input (a first-layer bias; default false, the paper's nets have no
   * biases). A bias-free tanh net is an odd function, f(−x) = −f(x), which some tasks punish.
   */
  inputBias?: boolean;
}

export interface HebbianPolicySpec {
  kind: 'hebbian';
  sizes: number[];
  /** As for static networks; the bias synapses are plastic like any other (pre-synaptic o = 1). */
  inputBias?: boolean;
  rule: HebbianRule;
  /** Divide each layer by its max |w| after every update (default false). */
  normalise?: boolean;
  /** Learning rate of rules without `_lr` (default 1, the reference code's implicit value). */
  fixedEta?: number;
  /** Episode-start weights are U[−initScale, initScale] (default 0.1). */
  initScale?: number;
  /**
   * Hebbian updates per episode before plasticity is switched off (default: never off). The
   * frozen-plasticity control: the weights stay as the first `plasticSteps` updates left them.
   */
  plasticSteps?: number;
}

export type PolicySpec = StaticPolicySpec | HebbianPolicySpec;

export function checkSizes(sizes: readonly number[], argument = 'sizes'): void {
  check(Array.isArray(sizes) && sizes.length >= 2, argument, `needs at least [inputs, outputs], got ${JSON.stringify(sizes)}`, 'pass layer sizes such as [4, 32, 16, 2]');
  sizes.forEach((n, i) => checkInt(n, `${argument}[${i}]`, { min: 1 }));
}

/** Number of synapses (weights) of a feed-forward net, counting the optional input-bias synapses. */
export function synapseCount(sizes: readonly number[], inputBias = false): number {
  checkSizes(sizes);
  let n = inputBias ? sizes[1]! : 0;
  for (let l = 0; l + 1 < sizes.length; l++) n += sizes[l]! * sizes[l + 1]!;
  return n;
}

/** Length of the vector evolution optimises: weights (static) or coefficients × synapses (Hebbian). */
export function parameterCount(spec: PolicySpec): number {
  if (spec.kind === 'static') return synapseCount(spec.sizes, spec.inputBias);
  if (spec.kind === 'hebbian') return synapseCount(spec.sizes, spec.inputBias) * coefficientsPerSynapse(spec.rule);
  throw new PaperlabError('policy.kind', `unknown kind '${String((spec as { kind: unknown }).kind)}'`, "use 'static' or 'hebbian'");
}

/** Forward pass of one tanh layer: out[j] = tanh(Σ_i w[j·nIn + i] · in[i]). */
function layerForward(w: Float32Array, input: Float32Array, out: Float32Array): void {
  const nIn = input.length;
  for (let j = 0; j < out.length; j++) {
    let s = 0;
    const row = j * nIn;
    for (let i = 0; i < nIn; i++) s += w[row + i]! * input[i]!;
    out[j] = Math.tanh(s);
  }
}

abstract class FeedForward {
  readonly sizes: readonly number[];
  readonly inputBias: boolean;
  /** activations[0] is the input (plus a trailing constant 1 with inputBias), activations[L] the output. */
  readonly activations: Float32Array[];
  /** One weight matrix per layer, [nOut, nIn] row-major. */
  readonly weights: Float32Array[];

  constructor(sizes: readonly number[], inputBias = false) {
    checkSizes(sizes);
    this.sizes = sizes.slice();
    this.inputBias = inputBias;
    this.activations = sizes.map((n, l) => new Float32Array(l === 0 && inputBias ? n + 1 : n));
    this.weights = [];
    for (let l = 0; l + 1 < sizes.length; l++) this.weights.push(new Float32Array(this.activations[l]!.length * sizes[l + 1]!));
    if (inputBias) this.activations[0]![sizes[0]!] = 1;
  }

  /** Forward pass; returns the output activations (a view, overwritten by the next call). */
  forward(observation: ArrayLike<number>): Float32Array {
    const x = this.activations[0]!;
    const n = this.sizes[0]!;
    if (observation.length !== n) {
      throw new PaperlabError('observation', `has ${observation.length} values but the network takes ${n}`, `build the network with sizes[0] = ${observation.length}`);
    }
    for (let i = 0; i < n; i++) x[i] = observation[i]!;
    for (let l = 0; l < this.weights.length; l++) layerForward(this.weights[l]!, this.activations[l]!, this.activations[l + 1]!);
    return this.activations[this.activations.length - 1]!;
  }
}

export class StaticNetwork extends FeedForward implements Policy {
  readonly lastWeightChange = 0;

  /** `params`: all weights, layer after layer, each [nOut, nIn] row-major (nIn counts the bias input). */
  constructor(sizes: readonly number[], params: ArrayLike<number>, inputBias = false) {
    super(sizes, inputBias);
    const n = synapseCount(sizes, inputBias);
    check(params.length === n, 'params', `static network ${JSON.stringify(sizes)} has ${n} weights, got ${params.length}`, 'pass parameterCount(spec) values');
    let o = 0;
    for (const w of this.weights) {
      for (let k = 0; k < w.length; k++) w[k] = params[o++]!;
    }
  }

  reset(): void {}

  act(observation: ArrayLike<number>): Float32Array {
    return this.forward(observation);
  }
}

export class PlasticNetwork extends FeedForward implements Policy {
  readonly rule: HebbianRule;
  readonly normalise: boolean;
  readonly fixedEta: number;
  readonly initScale: number;
  /** Updates per episode before the weights freeze (Infinity: always plastic). */
  readonly plasticSteps: number;
  /** Updates applied since the last reset. */
  private updates = 0;
  /** Per-synapse coefficients, layer after layer, synapse (j, i) row-major, K values each. */
  readonly coeffs: Float32Array;
  private readonly offsets: number[] = [];
  private readonly nSynapses: number;
  private readonly before: Float32Array[];
  lastWeightChange = 0;

  constructor(spec: Omit<HebbianPolicySpec, 'kind'>, coeffs: ArrayLike<number>) {
    super(spec.sizes, spec.inputBias ?? false);
    checkRule(spec.rule, 'rule');
    this.rule = spec.rule;
    this.normalise = spec.normalise ?? false;
    this.fixedEta = spec.fixedEta ?? 1;
    this.initScale = spec.initScale ?? 0.1;
    checkNumber(this.fixedEta, 'fixedEta');
    checkNumber(this.initScale, 'initScale', { min: 0 });
    if (spec.plasticSteps !== undefined) checkInt(spec.plasticSteps, 'plasticSteps', { min: 0 });
    this.plasticSteps = spec.plasticSteps ?? Number.POSITIVE_INFINITY;
    const K = coefficientsPerSynapse(this.rule);
    this.nSynapses = synapseCount(spec.sizes, this.inputBias);
    const n = this.nSynapses * K;
    check(coeffs.length === n, 'coeffs', `rule ${this.rule} on ${JSON.stringify(spec.sizes)} needs ${n} coefficients (${K} per synapse), got ${coeffs.length}`, 'pass parameterCount(spec) values');
    this.coeffs = Float32Array.from(coeffs);
    this.before = this.normalise ? this.weights.map((w) => new Float32Array(w.length)) : [];
    let o = 0;
    for (const w of this.weights) {
      this.offsets.push(o);
      o += w.length * K;
    }
  }

  /** Draws fresh random weights U[−initScale, initScale] (every episode starts from these). */
  reset(rng: Rng): void {
    const s = this.initScale;
    for (const w of this.weights) for (let k = 0; k < w.length; k++) w[k] = rng.uniform(-s, s);
    this.lastWeightChange = 0;
    this.updates = 0;
  }

  /**
   * Applies the rule to every layer using the activations of the last forward pass
   * (pre = activations[l], post = activations[l + 1]), then normalises each layer if enabled.
   * Returns the mean |Δw| over all synapses, measured after normalisation.
   */
  hebbianUpdate(): number {
    let total = 0;
    for (let l = 0; l < this.weights.length; l++) {
      const w = this.weights[l]!;
      if (this.normalise) {
        const before = this.before[l]!;
        before.set(w);
        hebbianUpdateLayer(this.rule, w, this.coeffs, this.offsets[l]!, this.activations[l]!, this.activations[l + 1]!, this.fixedEta);
        normaliseLayer(w);
        for (let k = 0; k < w.length; k++) total += Math.abs(w[k]! - before[k]!);
      } else {
        total += hebbianUpdateLayer(this.rule, w, this.coeffs, this.offsets[l]!, this.activations[l]!, this.activations[l + 1]!, this.fixedEta);
      }
    }
    this.lastWeightChange = total / this.nSynapses;
    return this.lastWeightChange;
  }

  /** Forward pass, then the Hebbian update (the action is decided by the weights before the update). */
  act(observation: ArrayLike<number>): Float32Array {
    const out = this.forward(observation);
    if (this.updates < this.plasticSteps) {
      this.hebbianUpdate();
      this.updates++;
    } else {
      this.lastWeightChange = 0;
    }
    return out;
  }
}

/** Builds the policy a parameter vector describes (what a worker does for every candidate). */
export function makePolicy(spec: PolicySpec, params: ArrayLike<number>): Policy {
  const n = parameterCount(spec);
  check(params.length === n, 'params', `policy needs ${n} parameters, got ${params.length}`, 'pass parameterCount(spec) values');
  return spec.kind === 'static' ? new StaticNetwork(spec.sizes, params, spec.inputBias ?? false) : new PlasticNetwork(spec, params);
}

/**
 * Where evolution starts: Hebbian coefficients ~ N(0, 1) (the paper's initialisation); static weights
 * ~ U[−0.1, 0.1], the same distribution a plastic network starts each episode from.
 */
export function initialParameters(spec: PolicySpec, rng: Rng): Float32Array {
  const n = parameterCount(spec);
  return spec.kind === 'hebbian' ? rng.normalArray(n) : rng.uniformArray(n, -0.1, 0.1);
}
