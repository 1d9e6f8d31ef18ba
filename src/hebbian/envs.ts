/**
 * Small Gym-like environments in TypeScript: `reset(seed)` → observation, `step(action)` →
 * { observation, reward, done }. Each has a changeable body (masses, lengths, motor strength) with
 * named "damaged" variants, so a controller evolved on one body can be tested on another.
 *
 * - CartPole: Gym's CartPole-v1 (Barto, Sutton & Anderson 1983 equations, explicit Euler, τ = 0.02 s,
 *   ±10 N pushes, fails past ±12° or ±2.4 m, +1 per step, at most 500 steps).
 * - Pendulum: Gym's Pendulum-v1 swing-up (uniform rod about its end, semi-implicit Euler, dt = 0.05 s,
 *   speed clipped to ±8 rad/s, 200 steps, reward −(θ² + 0.1 θ̇² + 0.001 u²)). The action is in [−1, 1]
 *   and is scaled by the body's motor strength `maxTorque`, so a weak motor is a body change.
 *
 * Browser-safe: no Node imports.
 */
import { PaperlabError, check, checkInt, checkNumber } from '../core/errors.js';
import { Rng } from '../core/rng.js';

export interface EnvStep {
  observation: Float32Array;
  reward: number;
  /** The episode is over (failure or time limit); call reset before stepping again. */
  done: boolean;
}

export interface Env {
  readonly name: EnvName;
  readonly observationSize: number;
  /** Discrete: number of actions (the policy's argmax picks one). Continuous: action dimensions. */
  readonly actionSize: number;
  readonly actionType: 'discrete' | 'continuous';
  readonly maxSteps: number;
  reset(seed: number): Float32Array;
  step(action: number | ArrayLike<number>): EnvStep;
}

export type EnvName = 'cartpole' | 'pendulum';
export const ENV_NAMES: readonly EnvName[] = ['cartpole', 'pendulum'];

// ---------------------------------------------------------------------------------------------
// CartPole

export interface CartPoleBody {
  gravity: number;
  massCart: number;
  massPole: number;
  /** Half the pole's length (Gym's `length`). */
  length: number;
  forceMag: number;
}

export const CARTPOLE_BODIES = {
  standard: { gravity: 9.8, massCart: 1.0, massPole: 0.1, length: 0.5, forceMag: 10.0 },
  'long-pole': { gravity: 9.8, massCart: 1.0, massPole: 0.1, length: 1.0, forceMag: 10.0 },
  'short-pole': { gravity: 9.8, massCart: 1.0, massPole: 0.1, length: 0.25, forceMag: 10.0 },
  'heavy-pole': { gravity: 9.8, massCart: 1.0, massPole: 0.5, length: 0.5, forceMag: 10.0 },
  'weak-motor': { gravity: 9.8, massCart: 1.0, massPole: 0.1, length: 0.5, forceMag: 5.0 },
} satisfies Record<string, CartPoleBody>;

const TAU = 0.02;
const THETA_LIMIT = (12 * 2 * Math.PI) / 360;
const X_LIMIT = 2.4;

function checkBody<T extends object>(body: T, argument: string): T {
  for (const [k, v] of Object.entries(body)) checkNumber(v as number, `${argument}.${k}`, { min: 0, exclusiveMin: k !== 'gravity' });
  return body;
}

function resolveBody<T extends object>(table: Record<string, T>, body: string | Partial<T> | undefined, env: string): T {
  if (body === undefined) return { ...table.standard! };
  if (typeof body === 'string') {
    const b = table[body];
    if (!b) throw new PaperlabError('body', `${env} has no body named '${body}'`, `use one of: ${Object.keys(table).join(', ')}, or pass the numbers`);
    return { ...b };
  }
  const known = Object.keys(table.standard!);
  for (const k of Object.keys(body)) check(known.includes(k), `body.${k}`, `is not a ${env} body parameter`, `use: ${known.join(', ')}`);
  return checkBody({ ...table.standard!, ...body }, 'body');
}

export class CartPole implements Env {
  readonly name = 'cartpole' as const;
  readonly observationSize = 4;
  readonly actionSize = 2;
  readonly actionType = 'discrete' as const;
  readonly maxSteps: number;
  readonly body: CartPoleBody;
  /** x, ẋ, θ, θ̇ in float64 (the observation is its float32 copy). */
  readonly state = new Float64Array(4);
  private t = 0;
  private over = true;

  constructor(body?: keyof typeof CARTPOLE_BODIES | Partial<CartPoleBody>, opts: { maxSteps?: number } = {}) {
    this.body = resolveBody<CartPoleBody>(CARTPOLE_BODIES, body, 'cartpole');
    this.maxSteps = opts.maxSteps ?? 500;
    checkInt(this.maxSteps, 'maxSteps', { min: 1 });
  }

  /** Starts an episode: every state variable uniform in [−0.05, 0.05], drawn from `new Rng(seed)`. */
  reset(seed: number): Float32Array {
    const rng = new Rng(seed);
    for (let k = 0; k < 4; k++) this.state[k] = rng.uniform(-0.05, 0.05);
    this.t = 0;
    this.over = false;
    return Float32Array.from(this.state);
  }

  /** Sets the state directly (for tests and demos); the episode continues from it. */
  setState(x: number, xDot: number, theta: number, thetaDot: number): void {
    this.state.set([x, xDot, theta, thetaDot]);
    this.t = 0;
    this.over = false;
  }

  /** Action 1 pushes right with forceMag newtons, 0 pushes left. */
  step(action: number | ArrayLike<number>): EnvStep {
    const a = typeof action === 'number' ? action : action[0];
    check(a === 0 || a === 1, 'action', `CartPole takes 0 (push left) or 1 (push right), got ${String(a)}`, 'pass 0 or 1');
    check(!this.over, 'step', 'the episode is over', 'call reset(seed) before stepping again');
    const { gravity, massCart, massPole, length, forceMag } = this.body;
    const s = this.state;
    const [x, xDot, theta, thetaDot] = [s[0]!, s[1]!, s[2]!, s[3]!];
    const force = a === 1 ? forceMag : -forceMag;
    const totalMass = massCart + massPole;
    const poleMassLength = massPole * length;
    const cos = Math.cos(theta);
    const sin = Math.sin(theta);
    const temp = (force + poleMassLength * thetaDot * thetaDot * sin) / totalMass;
    const thetaAcc = (gravity * sin - cos * temp) / (length * (4 / 3 - (massPole * cos * cos) / totalMass));
    const xAcc = temp - (poleMassLength * thetaAcc * cos) / totalMass;
    s[0] = x + TAU * xDot;
    s[1] = xDot + TAU * xAcc;
    s[2] = theta + TAU * thetaDot;
    s[3] = thetaDot + TAU * thetaAcc;
    this.t++;
    const fell = s[0]! < -X_LIMIT || s[0]! > X_LIMIT || s[2]! < -THETA_LIMIT || s[2]! > THETA_LIMIT;
    this.over = fell || this.t >= this.maxSteps;
    return { observation: Float32Array.from(s), reward: 1, done: this.over };
  }
}

// ---------------------------------------------------------------------------------------------
// Pendulum

export interface PendulumBody {
  gravity: number;
  mass: number;
  length: number;
  /** Motor strength: torque at action ±1. */
  maxTorque: number;
}

export const PENDULUM_BODIES = {
  standard: { gravity: 10, mass: 1.0, length: 1.0, maxTorque: 2.0 },
  /** A heavier rod: the same motor accelerates it less (seen damage in the experiment). */
  heavy: { gravity: 10, mass: 1.5, length: 1.0, maxTorque: 2.0 },
  /** A longer rod: slower to fall, much harder to turn (held-out damage). */
  long: { gravity: 10, mass: 1.0, length: 1.4, maxTorque: 2.0 },
  /** A damaged motor at 60 % strength. */
  'weak-motor': { gravity: 10, mass: 1.0, length: 1.0, maxTorque: 1.2 },
  /** A rod twice as long: a quarter of the standard body's angular push per unit torque (breaks a static policy). */
  'very-long': { gravity: 10, mass: 1.0, length: 2.0, maxTorque: 2.0 },
  /** A motor at 40 % strength: many more swings are needed to get up (breaks a static policy). */
  'very-weak-motor': { gravity: 10, mass: 1.0, length: 1.0, maxTorque: 0.8 },
  /** A shorter, lighter rod: faster dynamics. */
  short: { gravity: 10, mass: 0.8, length: 0.7, maxTorque: 2.0 },
} satisfies Record<string, PendulumBody>;

const PENDULUM_DT = 0.05;
const PENDULUM_MAX_SPEED = 8;

/** Wraps an angle to [−π, π). */
export function angleNormalize(x: number): number {
  return ((((x + Math.PI) % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI)) - Math.PI;
}

export class Pendulum implements Env {
  readonly name = 'pendulum' as const;
  readonly observationSize = 3;
  readonly actionSize = 1;
  readonly actionType = 'continuous' as const;
  readonly maxSteps: number;
  readonly body: PendulumBody;
  /** θ (0 = upright), θ̇. */
  readonly state = new Float64Array(2);
  private t = 0;
  private over = true;

  constructor(body?: keyof typeof PENDULUM_BODIES | Partial<PendulumBody>, opts: { maxSteps?: number } = {}) {
    this.body = resolveBody<PendulumBody>(PENDULUM_BODIES, body, 'pendulum');
    this.maxSteps = opts.maxSteps ?? 200;
    checkInt(this.maxSteps, 'maxSteps', { min: 1 });
  }

  private observe(): Float32Array {
    return Float32Array.of(Math.cos(this.state[0]!), Math.sin(this.state[0]!), this.state[1]!);
  }

  /** Starts an episode with θ ~ U[−π, π], θ̇ ~ U[−1, 1] drawn from `new Rng(seed)`. */
  reset(seed: number): Float32Array {
    const rng = new Rng(seed);
    this.state[0] = rng.uniform(-Math.PI, Math.PI);
    this.state[1] = rng.uniform(-1, 1);
    this.t = 0;
    this.over = false;
    return this.observe();
  }

  setState(theta: number, thetaDot: number): void {
    this.state[0] = theta;
    this.state[1] = thetaDot;
    this.t = 0;
    this.over = false;
  }

  /** `action` in [−1, 1] (clipped), torque = action · maxTorque. */
  step(action: number | ArrayLike<number>): EnvStep {
    const a = typeof action === 'number' ? action : action[0];
    check(typeof a === 'number' && !Number.isNaN(a), 'action', `Pendulum takes one number in [−1, 1], got ${String(a)}`, 'pass a finite number');
    check(!this.over, 'step', 'the episode is over', 'call reset(seed) before stepping again');
    const { gravity, mass, length, maxTorque } = this.body;
    const u = Math.max(-1, Math.min(1, a)) * maxTorque;
    const th = this.state[0]!;
    const thDot = this.state[1]!;
    const cost = angleNormalize(th) ** 2 + 0.1 * thDot * thDot + 0.001 * u * u;
    let newThDot = thDot + ((3 * gravity) / (2 * length) * Math.sin(th) + (3 / (mass * length * length)) * u) * PENDULUM_DT;
    newThDot = Math.max(-PENDULUM_MAX_SPEED, Math.min(PENDULUM_MAX_SPEED, newThDot));
    this.state[0] = th + newThDot * PENDULUM_DT;
    this.state[1] = newThDot;
    this.t++;
    this.over = this.t >= this.maxSteps;
    return { observation: this.observe(), reward: -cost, done: this.over };
  }
}

// ---------------------------------------------------------------------------------------------

/** A serialisable description of an environment and its body (what workers and agent files carry). */
export interface EnvSpec {
  name: EnvName;
  /** A named variant (e.g. 'standard', 'heavy') or explicit body parameters; default 'standard'. */
  body?: string | Partial<CartPoleBody> | Partial<PendulumBody>;
  maxSteps?: number;
}

/** Names of the body variants of an environment. */
export function bodyNames(name: EnvName): string[] {
  return Object.keys(name === 'cartpole' ? CARTPOLE_BODIES : PENDULUM_BODIES);
}

export function makeEnv(spec: EnvSpec): Env {
  check(spec !== null && typeof spec === 'object', 'env', 'expected an EnvSpec object', "pass { name: 'cartpole' } or { name: 'pendulum', body: 'heavy' }");
  const opts = spec.maxSteps === undefined ? {} : { maxSteps: spec.maxSteps };
  switch (spec.name) {
    case 'cartpole':
      return new CartPole(spec.body as keyof typeof CARTPOLE_BODIES | Partial<CartPoleBody> | undefined, opts);
    case 'pendulum':
      return new Pendulum(spec.body as keyof typeof PENDULUM_BODIES | Partial<PendulumBody> | undefined, opts);
    default:
      throw new PaperlabError('env.name', `unknown environment '${String((spec as { name: unknown }).name)}'`, `use one of: ${ENV_NAMES.join(', ')}`);
  }
}
