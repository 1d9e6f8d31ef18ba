/**
 * The in-browser demos and their bundling. Each demo is a browser entry under ./demos/, compiled by
 * tsc next to this file and bundled by esbuild into one classic script (IIFE, so it also runs when
 * the page is opened from disk, where module scripts are blocked). Where a demo uses TensorFlow.js,
 * esbuild's browser resolution picks tfjs's browser build.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DemoId } from './sections.js';

export interface DemoInfo {
  id: DemoId;
  title: string;
  description: string;
  /** Compiled entry file name under ./demos/. */
  entry: string;
  /** Modules the demo needs (relative to this file), so a missing one gives a clear reason. */
  needs: string[];
}

export const DEMOS: readonly DemoInfo[] = [
  {
    id: 'gpt-compute',
    title: 'the training compute and cost calculator',
    description:
      'C = 6·N·D FLOPs (3·N·D for T5) and what that costs on GPUs. Pick a row of GPT-3’s Table D.1 or type your own model; the result sets our number beside the paper’s and against BERT-Base.',
    entry: 'gpt-compute.js',
    needs: ['../gpt/compute.js'],
  },
  {
    id: 'lsh-buckets',
    title: 'LSH bucketing of a sequence — angular vs coset hash',
    description:
      'A sequence of random vectors is hashed into buckets two ways: Reformer’s angular hash (argmax over random projections and their negatives) and the notes’ coset hash (signs of a few parity checks). Neighbours should share buckets.',
    entry: 'lsh-buckets.js',
    needs: ['../attention/hash.js'],
  },
  {
    id: 'hebbian-cartpole',
    title: 'a Hebbian CartPole agent, live',
    description:
      'The network starts from random weights every episode; only the evolved Hebbian rule changes them, step by step, while it balances the pole.',
    entry: 'hebbian-cartpole.js',
    needs: ['../hebbian/rollout.js', '../hebbian/envs.js'],
  },
];

const here = path.dirname(fileURLToPath(import.meta.url));

export interface BundledDemo {
  id: DemoId;
  /** Path relative to the report folder, when bundled. */
  script?: string;
  unavailable?: string;
}

/** Bundles the demos into `<outDir>/demos/`. Never throws: a demo that cannot be built says why. */
export async function bundleDemos(outDir: string, ids: readonly DemoId[]): Promise<BundledDemo[]> {
  type Esbuild = typeof import('esbuild');
  let esbuild: Esbuild | null = null;
  let why = '';
  try {
    esbuild = (await import('esbuild')) as Esbuild;
  } catch {
    why = 'the bundler (esbuild) is not installed — install the dev dependencies (npm install --include=dev) and rebuild the report';
  }
  const dir = path.join(outDir, 'demos');
  await fs.mkdir(dir, { recursive: true });
  const out: BundledDemo[] = [];
  for (const id of ids) {
    const d = DEMOS.find((x) => x.id === id)!;
    if (!esbuild) {
      out.push({ id, unavailable: why });
      continue;
    }
    const entry = path.join(here, 'demos', d.entry);
    const missing = d.needs.filter((n) => !existsSync(path.join(here, n)));
    if (missing.length || !existsSync(entry)) {
      out.push({ id, unavailable: `it needs ${missing.length ? missing.map((m) => `src/${path.relative(path.join(here, '..'), path.join(here, m)).replace(/\.js$/, '.ts')}`).join(', ') : `its entry ${d.entry}`}, which this build does not have yet` });
      continue;
    }
    try {
      await esbuild.build({
        entryPoints: [entry],
        bundle: true,
        format: 'iife',
        platform: 'browser',
        target: 'es2020',
        minify: true,
        legalComments: 'none',
        logLevel: 'silent',
        define: { 'process.env.NODE_ENV': '"production"' },
        outfile: path.join(dir, `${id}.js`),
      });
      out.push({ id, script: `demos/${id}.js` });
    } catch (e) {
      const errs = (e as { errors?: Array<{ text: string }> }).errors;
      out.push({ id, unavailable: `bundling failed: ${errs?.length ? errs.map((x) => x.text).slice(0, 3).join('; ') : (e as Error).message}` });
    }
  }
  return out;
}
