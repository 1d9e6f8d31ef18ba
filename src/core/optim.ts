/**
 * AdamW (Loshchilov & Hutter) with decoupled weight decay, a learning rate that can change every
 * step (schedules), and state that round-trips through checkpoints exactly. tfjs's own Adam has no
 * decoupled decay and hides its state behind async getters, so paperlab keeps its own.
 */
import { tf, type Tensor } from './tf.js';
import { PaperlabError, checkNumber } from './errors.js';
import type { ArrayGroup } from './checkpoint.js';
import { adamUpdate } from './ops.js';

export interface AdamWConfig {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay (0 = plain Adam). Default 0. */
  weightDecay?: number;
  /** Which variables decay; default: those of rank ≥ 2 (matrices), as in nanoGPT. */
  decay?: (name: string, v: tf.Variable) => boolean;
}

export class AdamW {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly decay: (name: string, v: tf.Variable) => boolean;
  /** Number of updates applied so far. */
  t = 0;
  private m = new Map<string, tf.Variable>();
  private v = new Map<string, tf.Variable>();

  constructor(cfg: AdamWConfig = {}) {
    this.lr = cfg.lr ?? 1e-3;
    this.beta1 = cfg.beta1 ?? 0.9;
    this.beta2 = cfg.beta2 ?? 0.999;
    this.eps = cfg.eps ?? 1e-8;
    this.weightDecay = cfg.weightDecay ?? 0;
    this.decay = cfg.decay ?? ((_n, v) => v.rank >= 2);
    checkNumber(this.lr, 'lr', { min: 0 });
    checkNumber(this.beta1, 'beta1', { min: 0, max: 1 });
    checkNumber(this.beta2, 'beta2', { min: 0, max: 1 });
    checkNumber(this.weightDecay, 'weightDecay', { min: 0 });
  }

  private slot(map: Map<string, tf.Variable>, name: string, like: Tensor): tf.Variable {
    let s = map.get(name);
    if (!s) {
      // A variable shares its initial tensor's data; dispose that tensor so only the variable remains.
      const zeros = tf.zerosLike(like);
      s = tf.variable(zeros, false);
      zeros.dispose();
      map.set(name, s);
    }
    return s;
  }

  /** Applies one update. `grads` and `vars` are keyed by the same names. */
  apply(grads: Record<string, Tensor>, vars: Record<string, tf.Variable>): void {
    this.t += 1;
    const t = this.t;
    const bc1 = 1 - Math.pow(this.beta1, t);
    const bc2 = 1 - Math.pow(this.beta2, t);
    const stepSize = this.lr / bc1;
    tf.tidy(() => {
      for (const [name, g] of Object.entries(grads)) {
        const p = vars[name];
        if (!p) throw new PaperlabError('grads', `has a gradient for '${name}' but no such variable`, 'pass the variables the gradients were taken for');
        const m = this.slot(this.m, name, p);
        const v = this.slot(this.v, name, p);
        // one fused native kernel per parameter when the addon is active (ops.adamUpdate)
        const decay = this.weightDecay > 0 && this.decay(name, p) ? this.lr * this.weightDecay : 0;
        const next = adamUpdate(p, m, v, g, { beta1: this.beta1, beta2: this.beta2, eps: this.eps, stepSize, bc2, decay });
        m.assign(next.m);
        v.assign(next.v);
        p.assign(next.p);
      }
    });
  }

  /** State for checkpoints: moment estimates plus the step count. */
  async getState(): Promise<ArrayGroup> {
    const out: ArrayGroup = { __t: { shape: [], dtype: 'int32', data: new Int32Array([this.t]) } };
    for (const [kind, map] of [['m', this.m], ['v', this.v]] as const) {
      for (const [name, s] of map) out[`${kind}/${name}`] = { shape: s.shape.slice(), dtype: 'float32', data: (await s.data()) as Float32Array };
    }
    return out;
  }

  setState(state: ArrayGroup): void {
    const t = state.__t;
    if (!t) throw new PaperlabError('optimizer state', 'has no step count', 'load a checkpoint written with an AdamW optimizer');
    this.dispose();
    this.t = t.data[0]!;
    for (const [key, a] of Object.entries(state)) {
      if (key === '__t') continue;
      const slash = key.indexOf('/');
      const kind = key.slice(0, slash);
      const name = key.slice(slash + 1);
      const map = kind === 'm' ? this.m : kind === 'v' ? this.v : undefined;
      if (!map) throw new PaperlabError('optimizer state', `has an unknown entry '${key}'`, 'load a checkpoint written with an AdamW optimizer');
      const init = tf.tensor(a.data, a.shape, 'float32');
      map.get(name)?.dispose();
      map.set(name, tf.variable(init, false));
      init.dispose();
    }
  }

  dispose(): void {
    for (const s of this.m.values()) s.dispose();
    for (const s of this.v.values()) s.dispose();
    this.m.clear();
    this.v.clear();
  }
}

/** Scales gradients so their global L2 norm is at most `maxNorm`; returns the new grads and the norm before clipping. */
export function clipByGlobalNorm(grads: Record<string, Tensor>, maxNorm: number): { grads: Record<string, Tensor>; norm: number } {
  const names = Object.keys(grads);
  const normT = tf.tidy(() => tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n]!))))));
  const norm = normT.dataSync()[0]!;
  normT.dispose();
  if (!(maxNorm > 0) || !Number.isFinite(norm) || norm <= maxNorm) return { grads, norm };
  const scale = maxNorm / (norm + 1e-6);
  const out: Record<string, Tensor> = {};
  for (const n of names) out[n] = tf.mul(grads[n]!, scale);
  return { grads: out, norm };
}
