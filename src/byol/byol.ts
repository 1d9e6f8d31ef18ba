/**
 * BYOL (Grill et al. 2020) and SimSiam (Chen & He 2020): self-supervised learning with no negatives.
 *
 *   online:  encoder → projector → predictor      (trained)
 *   target:  encoder → projector                  (BYOL: EMA of the online weights; SimSiam: the
 *                                                   online network itself behind a stop-gradient)
 *
 *   loss = 2 − 2·cos(q₁, sg(z'₂)) + 2 − 2·cos(q₂, sg(z'₁))     (symmetrised, batch-averaged; 0..8)
 *
 * EMA after every step k of K: ξ ← τ_k·ξ + (1 − τ_k)·θ, τ_k = 1 − (1 − τ_base)(cos(πk/K) + 1)/2
 * (or τ_k = τ_base). The ablation switches of the papers' Table 5 / Fig. 2 are options: no
 * predictor, τ = 0 or 1, no batch norm in the heads, SimSiam with and without stop-gradient.
 *
 * The encoder and heads are src/contrastive's Encoder and MlpHead (Linear → BN → ReLU → Linear).
 * Both views go through each network as one concatenated batch, so batch-norm statistics are
 * taken over the two views together.
 */
import { tf, type Tensor } from '../core/tf.js';
import { check, checkInt, checkNumber, checkOneOf } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { Encoder, MlpHead, type EncoderConfig, type HeadConfig } from '../contrastive/encoder.js';
import { copyVariables, detach, l2Normalize, prefixed } from '../contrastive/nn.js';

export const BYOL_MODES = ['byol', 'simsiam'] as const;
export type ByolMode = (typeof BYOL_MODES)[number];
export const TAU_SCHEDULES = ['cosine', 'constant'] as const;
export type TauSchedule = (typeof TAU_SCHEDULES)[number];

export interface ByolConfig {
  /** 'byol' (EMA target, default) or 'simsiam' (the target is the online net behind stop-gradient). */
  mode?: ByolMode;
  encoder?: EncoderConfig;
  /** Projector g. Default { hidden: 256, out: 64 } (the paper: 4096 → 256). */
  projector?: Omit<HeadConfig, 'batchNorm'>;
  /** Predictor q, or false for the no-predictor ablation. Default { hidden: 256 }, out = projector out. */
  predictor?: Omit<HeadConfig, 'batchNorm' | 'out'> | false;
  /** Batch norm inside projector and predictor (Linear → BN → ReLU → Linear). Default true. */
  headBatchNorm?: boolean;
  /** τ_base of the target EMA. Default 0.996 (the paper's). BYOL mode only. */
  tauBase?: number;
  /** 'cosine' (τ rises from τ_base to 1, the paper's) or 'constant' (τ = τ_base). Default 'cosine'. */
  tauSchedule?: TauSchedule;
  /** Block the gradient through the target branch. Default true; false only in SimSiam mode. */
  stopGradient?: boolean;
  /** 'copy' (the paper's: target starts as the online weights) or 'independent' (own random init). */
  targetInit?: 'copy' | 'independent';
}

export interface ResolvedByolConfig {
  mode: ByolMode;
  encoder: EncoderConfig;
  projector: { hidden: number; out: number };
  predictor: { hidden: number } | false;
  headBatchNorm: boolean;
  tauBase: number;
  tauSchedule: TauSchedule;
  stopGradient: boolean;
  targetInit: 'copy' | 'independent';
}

export function resolveByolConfig(c: ByolConfig = {}): ResolvedByolConfig {
  const mode = c.mode ?? 'byol';
  checkOneOf(mode, BYOL_MODES, 'mode');
  const tauSchedule = c.tauSchedule ?? 'cosine';
  checkOneOf(tauSchedule, TAU_SCHEDULES, 'tauSchedule');
  const targetInit = c.targetInit ?? 'copy';
  checkOneOf(targetInit, ['copy', 'independent'] as const, 'targetInit');
  const r: ResolvedByolConfig = {
    mode,
    encoder: c.encoder ?? {},
    projector: { hidden: c.projector?.hidden ?? 256, out: c.projector?.out ?? 64 },
    predictor: c.predictor === false ? false : { hidden: c.predictor?.hidden ?? 256 },
    headBatchNorm: c.headBatchNorm ?? true,
    tauBase: c.tauBase ?? 0.996,
    tauSchedule,
    stopGradient: c.stopGradient ?? true,
    targetInit,
  };
  checkNumber(r.tauBase, 'tauBase', { min: 0, max: 1 });
  checkInt(r.projector.hidden, 'projector.hidden', { min: 1 });
  checkInt(r.projector.out, 'projector.out', { min: 1 });
  if (r.predictor) checkInt(r.predictor.hidden, 'predictor.hidden', { min: 1 });
  check(
    r.stopGradient || mode === 'simsiam',
    'stopGradient',
    "can only be switched off in SimSiam mode (BYOL's target weights are an EMA and get no gradient anyway)",
    "use mode: 'simsiam' for the no-stop-gradient ablation",
  );
  return r;
}

/**
 * The target decay rate after step k of K: τ_base for 'constant', else
 * 1 − (1 − τ_base)·(cos(πk/K) + 1)/2, which runs from τ_base at k = 0 to 1 at k = K.
 */
export function byolTau(k: number, K: number, tauBase: number, schedule: TauSchedule = 'cosine'): number {
  checkNumber(tauBase, 'tauBase', { min: 0, max: 1 });
  checkOneOf(schedule, TAU_SCHEDULES, 'tauSchedule');
  if (schedule === 'constant') return tauBase;
  checkInt(K, 'totalSteps', { min: 1 });
  checkNumber(k, 'step', { min: 0, max: K });
  return 1 - ((1 - tauBase) * (Math.cos((Math.PI * k) / K) + 1)) / 2;
}

/** ξ ← τ·ξ + (1 − τ)·θ for every target variable ξ and the online variable θ of the same name. */
export function emaUpdate(target: Record<string, tf.Variable>, online: Record<string, tf.Variable>, tau: number): void {
  checkNumber(tau, 'tau', { min: 0, max: 1 });
  for (const name of Object.keys(target)) check(online[name] !== undefined, 'online', `has no variable '${name}'`, 'pair networks built from the same config');
  if (tau === 1) return;
  // Assign inside tidy so the new values' tensor handles are released (the variables keep the data).
  tf.tidy(() => {
    for (const [name, xi] of Object.entries(target)) {
      const theta = online[name]!;
      xi.assign(tau === 0 ? tf.clone(theta) : tf.add(tf.mul(xi, tau), tf.mul(theta, 1 - tau)));
    }
  });
}

/** BYOL's regression loss per row: ‖q/‖q‖ − z/‖z‖‖² = 2 − 2·cos(q, z). [N, d] × [N, d] → [N]. */
export function regressionLoss(q: Tensor, z: Tensor): tf.Tensor1D {
  check(q.rank === 2 && z.rank === 2 && q.shape[0] === z.shape[0] && q.shape[1] === z.shape[1], 'q, z', `need equal [N, d] shapes, got [${q.shape.join(', ')}] and [${z.shape.join(', ')}]`, 'pass the prediction and the target projection of the same batch');
  return tf.tidy(() => tf.sub(2, tf.mul(2, tf.sum(tf.mul(l2Normalize(q), l2Normalize(z)), -1))) as tf.Tensor1D);
}

interface Branch {
  encoder: Encoder;
  projector: MlpHead;
}

/** BYOL / SimSiam: online and target networks, the symmetrised loss and the target update. */
export class BYOL {
  readonly config: ResolvedByolConfig;
  readonly online: Branch & { predictor: MlpHead | undefined };
  /** The EMA target (BYOL mode); undefined in SimSiam mode. */
  readonly target: Branch | undefined;

  constructor(config: ByolConfig, rng: Rng) {
    const c = resolveByolConfig(config);
    this.config = c;
    const bn = c.headBatchNorm;
    const build = (r: Rng): Branch => {
      const encoder = new Encoder(c.encoder, r.fork('encoder'));
      const projector = new MlpHead(encoder.dim, { ...c.projector, batchNorm: bn }, r.fork('projector'));
      return { encoder, projector };
    };
    const onlineBranch = build(rng.fork('online'));
    const predictor = c.predictor ? new MlpHead(c.projector.out, { hidden: c.predictor.hidden, out: c.projector.out, batchNorm: bn }, rng.fork('predictor')) : undefined;
    this.online = { ...onlineBranch, predictor };
    if (c.mode === 'byol') {
      this.target = build(rng.fork('target'));
      if (c.targetInit === 'copy') {
        copyVariables(branchVariables(this.online), branchVariables(this.target));
        copyVariables(branchBuffers(this.online), branchBuffers(this.target));
      }
    }
  }

  /** The trainable (online) variables. */
  variables(): Record<string, tf.Variable> {
    const out = branchVariables(this.online);
    if (this.online.predictor) Object.assign(out, prefixed('predictor', this.online.predictor.variables()));
    return out;
  }

  /** The target's variables, keyed like the online ones (empty in SimSiam mode). */
  targetVariables(): Record<string, tf.Variable> {
    return this.target ? branchVariables(this.target) : {};
  }

  /** τ after step k of K, from the config's τ_base and schedule. */
  tau(k: number, K: number): number {
    return byolTau(k, K, this.config.tauBase, this.config.tauSchedule);
  }

  /** The EMA step of the target (no-op in SimSiam mode). */
  updateTarget(tau: number): void {
    if (this.target) emaUpdate(this.targetVariables(), branchVariables(this.online), tau);
  }

  /**
   * The symmetrised loss for two views of the same images (call inside a gradient tape):
   * Σ over the two directions of mean(2 − 2·cos(q, sg(z'))).
   */
  loss(view1: tf.Tensor4D, view2: tf.Tensor4D, training = true): tf.Scalar {
    const n = this.online.encoder.checkImages(view1, 'view1');
    check(view2.shape.join(',') === view1.shape.join(','), 'view2', `has shape [${view2.shape.join(', ')}] but view1 has [${view1.shape.join(', ')}]`, 'pass two views of the same batch');
    return tf.tidy(() => {
      const x = tf.concat([view1, view2], 0);
      const z = this.online.projector.apply(this.online.encoder.apply(x, training), training);
      const q = this.online.predictor ? this.online.predictor.apply(z, training) : z;
      let zt: Tensor;
      if (this.target) zt = this.target.projector.apply(this.target.encoder.apply(x, training), training);
      else zt = z;
      if (this.config.stopGradient) zt = detach(zt);
      const q1 = tf.slice(q, 0, n);
      const q2 = tf.slice(q, n, n);
      const t1 = tf.slice(zt, 0, n);
      const t2 = tf.slice(zt, n, n);
      return tf.add(tf.mean(regressionLoss(q1, t2)), tf.mean(regressionLoss(q2, t1))) as tf.Scalar;
    });
  }

  /** Online representations (what the probe reads), evaluation mode. */
  encode(x: tf.Tensor4D): tf.Tensor2D {
    return this.online.encoder.apply(x, false);
  }

  /** Online projections z (where the loss acts), evaluation mode. */
  project(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.online.projector.apply(this.online.encoder.apply(x, false), false));
  }

  dispose(): void {
    this.online.encoder.dispose();
    this.online.projector.dispose();
    this.online.predictor?.dispose();
    this.target?.encoder.dispose();
    this.target?.projector.dispose();
  }
}

function branchVariables(b: Branch): Record<string, tf.Variable> {
  return { ...prefixed('encoder', b.encoder.variables()), ...prefixed('projector', b.projector.variables()) };
}

function branchBuffers(b: Branch): Record<string, tf.Variable> {
  return { ...prefixed('encoder', b.encoder.buffers()), ...prefixed('projector', b.projector.buffers()) };
}

/** SimSiam: BYOL's mode 'simsiam' (no EMA target; stop-gradient on the online projection). */
export class SimSiam extends BYOL {
  constructor(config: Omit<ByolConfig, 'mode' | 'tauBase' | 'tauSchedule' | 'targetInit'>, rng: Rng) {
    super({ ...config, mode: 'simsiam' }, rng);
  }
}
