/**
 * The collapse monitor: how spread out the embeddings are and how much class information they keep,
 * measured on fixed, un-augmented images while training runs.
 *
 * - std·√d of L2-normalised embeddings (SimSiam's measure, per channel, averaged; scaled by √d so
 *   that 1 ≈ embeddings spread over the sphere, 0 = every input maps to one point), for the
 *   projection z (where the loss acts) and the representation r (what a probe reads);
 * - kNN accuracy (cosine, k = 20) of the representation, a probe that needs no training.
 *
 * A linear probe (src/contrastive/probe.ts) gives the final figure.
 */
import { tf } from '../core/tf.js';
import { check, checkInt } from '../core/errors.js';
import { embeddingStd, knnAccuracy, mapInBatches, probeEncoder, type ProbeOptions, type ProbeResult } from '../contrastive/index.js';
import type { BYOL } from './byol.js';

export interface CollapseStats {
  step: number;
  /** std of z/‖z‖ per channel, averaged, times √d (1 ≈ healthy, 0 = collapsed). */
  projectionStd: number;
  /** The same for the representation r. */
  representationStd: number;
  /** Unscaled std of z/‖z‖ (SimSiam's figure; ≈ 1/√d when healthy). */
  projectionStdRaw: number;
  /** kNN accuracy of the representation, if the monitor has labelled data. */
  knnAccuracy?: number;
}

export interface MonitorData {
  /** Reference images for kNN (the "memory bank") and their labels. */
  trainX: tf.Tensor4D;
  trainY: tf.Tensor1D;
  /** Images whose embeddings are measured, and their labels. */
  testX: tf.Tensor4D;
  testY: tf.Tensor1D;
}

export class CollapseMonitor {
  readonly history: CollapseStats[] = [];
  constructor(
    readonly data: MonitorData,
    readonly opts: { k?: number } = {},
  ) {
    check(data.testX.shape[0] >= 2, 'data.testX', 'needs at least two images', 'pass a few hundred held-out images');
    checkInt(opts.k ?? 20, 'k', { min: 1, max: data.trainX.shape[0] });
  }

  /** Measures the model now and appends the figures to `history`. */
  measure(model: Pick<BYOL, 'project' | 'encode'>, step: number): CollapseStats {
    const z = mapInBatches(this.data.testX, (x) => model.project(x as tf.Tensor4D));
    const rTest = mapInBatches(this.data.testX, (x) => model.encode(x as tf.Tensor4D));
    const rTrain = mapInBatches(this.data.trainX, (x) => model.encode(x as tf.Tensor4D));
    try {
      const raw = embeddingStd(z);
      const stats: CollapseStats = {
        step,
        projectionStd: raw * Math.sqrt(z.shape[1]),
        representationStd: embeddingStd(rTest) * Math.sqrt(rTest.shape[1]),
        projectionStdRaw: raw,
        knnAccuracy: knnAccuracy(rTrain, this.data.trainY, rTest, this.data.testY, this.opts.k ?? 20),
      };
      this.history.push(stats);
      return stats;
    } finally {
      tf.dispose([z, rTest, rTrain]);
    }
  }
}

/** The final read-out: a linear probe on the frozen online encoder. */
export async function probeByol(
  model: BYOL,
  data: { trainX: tf.Tensor4D; trainY: tf.Tensor1D; testX: tf.Tensor4D; testY: tf.Tensor1D },
  opts: ProbeOptions,
): Promise<ProbeResult> {
  return probeEncoder(model.online.encoder, data, opts);
}
