/**
 * The package as a consumer gets it: `npm pack` the repository, unpack the tarball into a fresh
 * strict-TypeScript ESM project, type-check and run one example per subpath export (paperlab/core,
 * /attention, /gpt, /contrastive, /byol, /radioactive, /hebbian, and the root). Only files inside
 * the tarball are used for paperlab itself (its dependencies are linked from this repository's
 * node_modules, so no network is needed), which proves package.json's "files" and "exports".
 * Also: `import 'paperlab'` loads no Vega module; rendering a chart does (so the check can fail).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const EXAMPLES: Record<string, string> = {
  core: `import { tf, Rng, AdamW, trainStep } from 'paperlab/core';
// Minimise (x − 3)² with AdamW: x should end near 3.
const x = tf.variable(tf.scalar(0));
const opt = new AdamW({ lr: 0.1 });
for (let s = 0; s < 300; s++) trainStep(() => tf.square(tf.sub(x, 3)), { x }, opt, { step: s });
const r1 = new Rng(5).next();
const r2 = new Rng(5).next();
console.log(JSON.stringify({ x: x.dataSync()[0], sameRng: r1 === r2 }));`,
  attention: `import { tf } from 'paperlab/core';
import { attention } from 'paperlab/attention';
// Equal queries and keys give uniform weights, so each output row is the mean of v's rows.
const q = tf.zeros([1, 1, 4, 2]) as tf.Tensor4D;
const v = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 4, 2]);
const out: Float32Array | Int32Array | Uint8Array = attention(q, q, v, { kind: 'full' }).dataSync();
console.log(JSON.stringify({ row0: Array.from(out.slice(0, 2)) }));`,
  gpt: `import { tf, Rng } from 'paperlab/core';
import { CharTokenizer, GPT, trainingFlops } from 'paperlab/gpt';
const tok = CharTokenizer.fromText('hello world');
const ids = tok.encode('hello');
const model = new GPT({ vocabSize: tok.vocabSize, blockSize: 8, nLayer: 1, nHead: 1, nEmbd: 8 }, new Rng(0));
const logits = model.forward(tf.tensor2d(ids, [1, ids.length], 'int32'));
console.log(JSON.stringify({ roundTrip: tok.decode(ids), shape: logits.shape, vocab: tok.vocabSize, flops: trainingFlops(1e6, 1e6) }));`,
  contrastive: `import { tf } from 'paperlab/core';
import { supConLoss, collapsedLoss } from 'paperlab/contrastive';
// Identical features: the collapse value ln(2·4 − 1).
const loss = supConLoss(tf.ones([4, 2, 3])).dataSync()[0];
console.log(JSON.stringify({ loss, collapsed: collapsedLoss(4, 2) }));`,
  byol: `import { byolTau } from 'paperlab/byol';
console.log(JSON.stringify({ tauHalf: byolTau(50, 100, 0.996) }));`,
  radioactive: `import { cosinePvalue } from 'paperlab/radioactive';
console.log(JSON.stringify({ p0: cosinePvalue(0, 128) }));`,
  hebbian: `import { hebbianDelta, type HebbianRule } from 'paperlab/hebbian';
const rule: HebbianRule = 'ABCD';
console.log(JSON.stringify({ delta: hebbianDelta(rule, [0.5, 1, 2, 3], 2, 3) }));`,
  root: `import { Rng, attention, GPT, supConLoss, byolTau, cosinePvalue, hebbianDelta, buildReport } from 'paperlab';
import * as core from 'paperlab/core';
console.log(JSON.stringify({ same: Rng === core.Rng, fns: [attention, GPT, supConLoss, byolTau, cosinePvalue, hebbianDelta, buildReport].every((f) => typeof f === 'function') }));`,
};

const EXPECT: Record<string, (o: Record<string, unknown>) => void> = {
  core: (o) => {
    assert.ok(Math.abs((o.x as number) - 3) < 0.05, `x ${o.x}`);
    assert.equal(o.sameRng, true);
  },
  attention: (o) => assert.deepEqual(o.row0, [4, 5]),
  gpt: (o) => {
    assert.equal(o.roundTrip, 'hello');
    assert.deepEqual(o.shape, [1, 5, o.vocab]);
    assert.equal(o.flops, 6e12);
  },
  contrastive: (o) => {
    assert.ok(Math.abs((o.loss as number) - Math.log(7)) < 1e-4, `loss ${o.loss}`);
    assert.ok(Math.abs((o.collapsed as number) - Math.log(7)) < 1e-12);
  },
  byol: (o) => assert.ok(Math.abs((o.tauHalf as number) - 0.998) < 1e-12),
  radioactive: (o) => assert.ok(Math.abs((o.p0 as number) - 0.5) < 1e-9, `p ${o.p0}`),
  hebbian: (o) => assert.equal(o.delta, 0.5 * 6 + 2 + 6 + 3),
  root: (o) => assert.deepEqual(o, { same: true, fns: true }),
};

test('npm pack → fresh strict TypeScript project: every subpath type-checks and runs; import does not load Vega', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'paperlab-consumer-'));
  try {
    const packed = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' });
    assert.equal(packed.status, 0, packed.stderr);
    const info = (JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>)[0]!;
    const files = info.files.map((f) => f.path);
    assert.ok(files.includes('dist/src/index.js') && files.includes('dist/src/gpt/index.d.ts') && files.includes('native/build.mjs'));
    assert.ok(!files.some((f) => f.startsWith('dist/test/') || f.startsWith('src/')), 'tests and TypeScript sources stay out of the tarball');

    const app = path.join(dir, 'app');
    const nm = path.join(app, 'node_modules');
    mkdirSync(nm, { recursive: true });
    const untar = spawnSync('tar', ['-xzf', path.join(dir, info.filename), '-C', nm], { encoding: 'utf8' });
    assert.equal(untar.status, 0, untar.stderr);
    renameSync(path.join(nm, 'package'), path.join(nm, 'paperlab'));
    const pkg = JSON.parse(readFileSync(path.join(nm, 'paperlab', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const dep of [...Object.keys(pkg.dependencies), '@types/node']) {
      const target = path.join(root, 'node_modules', dep);
      assert.ok(existsSync(target), `dependency ${dep} is installed in the repository`);
      mkdirSync(path.dirname(path.join(nm, dep)), { recursive: true });
      symlinkSync(target, path.join(nm, dep), 'dir');
    }
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: false, outDir: 'out', skipLibCheck: true, types: ['node'], lib: ['ES2022', 'DOM'] },
        include: ['src/*.ts'],
      }),
    );
    mkdirSync(path.join(app, 'src'));
    for (const [name, code] of Object.entries(EXAMPLES)) writeFileSync(path.join(app, 'src', `${name}.ts`), code + '\n');
    // A deliberate type error must be caught, so the type-check is not vacuous.
    writeFileSync(path.join(app, 'src', 'wrong.ts'), `import { byolTau } from 'paperlab/byol';\nconst t: string = byolTau(1, 2, 0.9);\nconsole.log(t);\n`);
    const tsc = (): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], { encoding: 'utf8' });
    const bad = tsc();
    assert.notEqual(bad.status, 0);
    assert.match(String(bad.stdout), /wrong\.ts.*Type 'number' is not assignable to type 'string'/);
    assert.doesNotMatch(String(bad.stdout), /src\/(core|attention|gpt|contrastive|byol|radioactive|hebbian|root)\.ts/, 'only the deliberate error');
    rmSync(path.join(app, 'src', 'wrong.ts'));
    const ok = tsc();
    assert.equal(ok.status, 0, String(ok.stdout) + String(ok.stderr));

    const env = { ...process.env, PAPERLAB_QUIET: '1' };
    for (const name of Object.keys(EXAMPLES)) {
      const r = spawnSync(process.execPath, [path.join(app, 'out', `${name}.js`)], { cwd: app, encoding: 'utf8', env });
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop()!;
      EXPECT[name]!(JSON.parse(line) as Record<string, unknown>);
    }

    // Which modules load: a resolve hook logs every resolved URL of a vega package.
    writeFileSync(
      path.join(app, 'hook.mjs'),
      `import { appendFileSync } from 'node:fs';\nexport async function resolve(spec, ctx, next) {\n  const r = await next(spec, ctx);\n  if (/\\/node_modules\\/vega[^/]*\\//.test(r.url)) appendFileSync(process.env.VEGA_LOG, r.url + '\\n');\n  return r;\n}\n`,
    );
    writeFileSync(path.join(app, 'register.mjs'), `import { register } from 'node:module';\nregister('./hook.mjs', import.meta.url);\n`);
    writeFileSync(
      path.join(app, 'load.mjs'),
      `const p = await import('paperlab');\nif (process.argv[2] === 'render') await p.renderSvg({ mark: 'point', data: { values: [{ a: 1, b: 2 }] }, encoding: { x: { field: 'a', type: 'quantitative' }, y: { field: 'b', type: 'quantitative' } } });\nconsole.log(Object.keys(p).length);\n`,
    );
    const loaded = (mode: string): string[] => {
      const log = path.join(app, `vega-${mode}.log`);
      writeFileSync(log, '');
      const r = spawnSync(process.execPath, ['--import', './register.mjs', 'load.mjs', mode], { cwd: app, encoding: 'utf8', env: { ...env, VEGA_LOG: log } });
      assert.equal(r.status, 0, r.stderr);
      return readFileSync(log, 'utf8').split('\n').filter(Boolean);
    };
    assert.deepEqual(loaded('import'), [], "import 'paperlab' loads no vega module");
    assert.ok(loaded('render').some((u) => /\/vega\//.test(u)), 'rendering a chart loads vega (the check can see it)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
