/** Learning-rate schedules: step → learning rate. */
import { checkInt, checkNumber } from './errors.js';

export type Schedule = (step: number) => number;

export interface WarmupCosineOptions {
  lr: number;
  warmupSteps: number;
  totalSteps: number;
  /** Final lr as a fraction of `lr` (GPT-3 decays to 10 %). Default 0.1. */
  minRatio?: number;
}

/** Linear warm-up from 0 to `lr` over `warmupSteps`, then cosine decay to `minRatio·lr` at `totalSteps`. */
export function warmupCosine(o: WarmupCosineOptions): Schedule {
  checkNumber(o.lr, 'lr', { min: 0 });
  checkInt(o.warmupSteps, 'warmupSteps', { min: 0 });
  checkInt(o.totalSteps, 'totalSteps', { min: 1 });
  const minLr = o.lr * (o.minRatio ?? 0.1);
  return (step: number) => {
    if (step < o.warmupSteps) return (o.lr * (step + 1)) / o.warmupSteps;
    if (step >= o.totalSteps) return minLr;
    const span = Math.max(1, o.totalSteps - o.warmupSteps);
    const progress = (step - o.warmupSteps) / span;
    return minLr + 0.5 * (o.lr - minLr) * (1 + Math.cos(Math.PI * progress));
  };
}

export function constant(lr: number): Schedule {
  checkNumber(lr, 'lr', { min: 0 });
  return () => lr;
}
