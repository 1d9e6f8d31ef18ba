/** Environment physics against closed forms and an independently written reference. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PaperlabError } from '../src/core/errors.js';
import { CartPole, Pendulum, angleNormalize, makeEnv } from '../src/hebbian/envs.js';

const close = (a: number, b: number, tol: number, msg = ''): void => assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b}`);

test('CartPole: first push from rest matches the closed form (ẍ = 4400/451, θ̈ = −600/41)', () => {
  const env = new CartPole();
  env.setState(0, 0, 0, 0);
  const r = env.step(1);
  // temp = 10/1.1; θ̈ = −temp / (0.5·(4/3 − 0.1/1.1)) = −600/41; ẍ = temp − 0.05·θ̈/1.1 = 4400/451.
  close(env.state[0]!, 0, 0, 'x');
  close(env.state[1]!, 0.02 * (4400 / 451), 1e-12, 'ẋ');
  close(env.state[2]!, 0, 0, 'θ');
  close(env.state[3]!, 0.02 * (-600 / 41), 1e-12, 'θ̇');
  assert.equal(r.reward, 1);
  assert.equal(r.done, false);
  // Second step: positions move by τ × the first step's velocities.
  env.step(0);
  close(env.state[0]!, 0.02 * 0.02 * (4400 / 451), 1e-12, 'x₂');
  close(env.state[2]!, 0.02 * 0.02 * (-600 / 41), 1e-12, 'θ₂');
});

/** Barto, Sutton & Anderson (1983) equations, written out separately from the library. */
function referenceCartPole(s: number[], push: number, body = { g: 9.8, mc: 1, mp: 0.1, l: 0.5, f: 10 }): number[] {
  const [x, v, th, w] = s as [number, number, number, number];
  const F = push === 1 ? body.f : -body.f;
  const M = body.mc + body.mp;
  const num = body.g * Math.sin(th) + Math.cos(th) * ((-F - body.mp * body.l * w * w * Math.sin(th)) / M);
  const thAcc = num / (body.l * (4 / 3 - (body.mp * Math.cos(th) ** 2) / M));
  const xAcc = (F + body.mp * body.l * (w * w * Math.sin(th) - thAcc * Math.cos(th))) / M;
  return [x + 0.02 * v, v + 0.02 * xAcc, th + 0.02 * w, w + 0.02 * thAcc];
}

test('CartPole: a 40-step trajectory matches the reference equations, on the standard and a damaged body', () => {
  for (const [name, body] of [
    ['standard', { g: 9.8, mc: 1, mp: 0.1, l: 0.5, f: 10 }],
    ['long-pole', { g: 9.8, mc: 1, mp: 0.1, l: 1.0, f: 10 }],
    ['heavy-pole', { g: 9.8, mc: 1, mp: 0.5, l: 0.5, f: 10 }],
  ] as const) {
    const env = new CartPole(name, { maxSteps: 1000 });
    let ref = [0.01, -0.02, 0.03, 0.01];
    env.setState(ref[0]!, ref[1]!, ref[2]!, ref[3]!);
    for (let t = 0; t < 40; t++) {
      // Keep the pole up with a bang-bang rule so the episode lasts.
      const a = ref[2]! + 0.5 * ref[3]! > 0 ? 1 : 0;
      ref = referenceCartPole(ref, a, body);
      const r = env.step(a);
      for (let k = 0; k < 4; k++) close(env.state[k]!, ref[k]!, 1e-10, `${name} t=${t} state[${k}]`);
      assert.equal(r.done, false, `${name} fell at ${t}`);
    }
  }
});

test('CartPole: mirror symmetry, termination at 12° and at the step limit', () => {
  const a = new CartPole();
  const b = new CartPole();
  a.setState(0.1, 0.2, -0.05, 0.3);
  b.setState(-0.1, -0.2, 0.05, -0.3);
  for (let t = 0; t < 5; t++) {
    a.step(t % 2);
    b.step(1 - (t % 2));
    for (let k = 0; k < 4; k++) close(a.state[k]!, -b.state[k]!, 1e-12, `mirror ${k}`);
  }
  // Always pushing right tips the pole left past 12° within a short while.
  const env = new CartPole();
  env.reset(1);
  let steps = 0;
  let done = false;
  while (!done) {
    done = env.step(1).done;
    steps++;
  }
  assert.ok(env.state[2]! < -(12 * Math.PI) / 180, `θ ${env.state[2]}`);
  assert.ok(steps > 5 && steps < 20, `fell after ${steps} steps`);
  assert.throws(() => env.step(1), (e: unknown) => e instanceof PaperlabError && e.argument === 'step');
  const short = new CartPole('standard', { maxSteps: 3 });
  short.setState(0, 0, 0, 0);
  assert.deepEqual([short.step(1).done, short.step(0).done, short.step(1).done], [false, false, true]);
});

test('CartPole: reset(seed) is reproducible and uniform in [−0.05, 0.05]', () => {
  const env = new CartPole();
  const o1 = env.reset(42);
  const o2 = env.reset(42);
  assert.deepEqual(o1, o2);
  assert.notDeepEqual(env.reset(43), o1);
  for (let s = 0; s < 50; s++) for (const v of env.reset(s)) assert.ok(Math.abs(v) <= 0.05);
  assert.throws(() => env.step(2), (e: unknown) => e instanceof PaperlabError && e.argument === 'action');
});

test('Pendulum: one step by hand, motor strength and mass scale the push', () => {
  for (const [body, acc] of [
    ['standard', 3 * 2], // 3/(m l²) · maxTorque
    ['heavy', (3 / 1.5) * 2],
    ['weak-motor', 3 * 1.2],
    ['long', (3 / 1.96) * 2],
    ['very-long', (3 / 4) * 2],
    ['very-weak-motor', 3 * 0.8],
  ] as const) {
    const env = new Pendulum(body);
    env.setState(0, 0);
    const r = env.step([1]);
    close(env.state[1]!, acc * 0.05, 1e-12, `${body} θ̇`);
    close(env.state[0]!, acc * 0.05 * 0.05, 1e-12, `${body} θ (semi-implicit)`);
    const u = env.body.maxTorque;
    close(r.reward, -0.001 * u * u, 1e-12, `${body} reward`);
  }
  const env = new Pendulum();
  env.setState(Math.PI / 2, 2);
  const r = env.step(0);
  close(r.reward, -((Math.PI / 2) ** 2 + 0.1 * 4), 1e-12, 'cost of angle and speed');
  close(env.state[1]!, 2 + 15 * 0.05, 1e-12, 'gravity torque 3g/(2l)·sin θ');
  // Actions beyond ±1 are clipped, speeds beyond ±8 too.
  env.setState(0, 7.9);
  env.step(5);
  close(env.state[1]!, 8, 0, 'clipped speed');
});

test('Pendulum: small swings about the bottom have the period 2π·sqrt(2l/(3g)), for two rod lengths', () => {
  for (const body of ['standard', 'long'] as const) {
    const env = new Pendulum(body, { maxSteps: 2000 });
    env.setState(Math.PI + 0.05, 0);
    const crossings: number[] = [];
    let prev = angleNormalize(env.state[0]! - Math.PI);
    for (let t = 1; t <= 1000; t++) {
      env.step(0);
      const cur = angleNormalize(env.state[0]! - Math.PI);
      if (prev < 0 && cur >= 0) crossings.push(t - cur / (cur - prev)); // interpolated upward crossing
      prev = cur;
    }
    const measured = ((crossings[crossings.length - 1]! - crossings[0]!) / (crossings.length - 1)) * 0.05;
    const l = env.body.length;
    const want = 2 * Math.PI * Math.sqrt((2 * l) / (3 * 10));
    close(measured, want, 0.01 * want, `${body} period`);
  }
});

test('Pendulum: reset ranges, 200-step episodes, observations (cos θ, sin θ, θ̇)', () => {
  const env = new Pendulum();
  for (let s = 0; s < 20; s++) {
    const o = env.reset(s);
    close(o[0]! ** 2 + o[1]! ** 2, 1, 1e-6, 'unit circle');
    assert.ok(Math.abs(o[2]!) <= 1);
  }
  let steps = 0;
  let done = false;
  env.reset(0);
  while (!done) {
    done = env.step([0]).done;
    steps++;
  }
  assert.equal(steps, 200);
  close(angleNormalize(3 * Math.PI), -Math.PI, 1e-12);
  close(angleNormalize(-0.5), -0.5, 1e-15);
});

test('makeEnv: named and explicit bodies; unknown names are PaperlabErrors', () => {
  const e = makeEnv({ name: 'pendulum', body: { mass: 2 } }) as Pendulum;
  assert.equal(e.body.mass, 2);
  assert.equal(e.body.length, 1);
  assert.equal((makeEnv({ name: 'cartpole', body: 'long-pole' }) as CartPole).body.length, 1);
  assert.throws(() => makeEnv({ name: 'pendulum', body: 'three-legged' }), (x: unknown) => x instanceof PaperlabError && x.argument === 'body');
  assert.throws(() => makeEnv({ name: 'pendulum', body: { mas: 2 } as never }), (x: unknown) => x instanceof PaperlabError && x.argument === 'body.mas');
  assert.throws(() => makeEnv({ name: 'pendulum', body: { mass: -1 } }), (x: unknown) => x instanceof PaperlabError && x.argument === 'body.mass');
  assert.throws(() => makeEnv({ name: 'ant' as never }), (x: unknown) => x instanceof PaperlabError && x.argument === 'env.name');
});
