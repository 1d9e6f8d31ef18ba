/**
 * The browser-safe part of the Hebbian module: rules, networks, environments, episodes, agent files.
 * No Node imports anywhere below this file, so a bundler can ship it to a web page:
 *
 * ```ts
 * import { createEpisode } from 'paperlab/dist/src/hebbian/browser.js';
 * const ep = createEpisode(agentJson, 1);          // agent file from the hebbian-adaptation run
 * function frame() { if (!ep.done) { const s = ep.step(); draw(ep.env, s); requestAnimationFrame(frame); } }
 * ```
 */
export * from './rules.js';
export * from './network.js';
export * from './envs.js';
export * from './rollout.js';
export { InlineEvaluator, type Evaluator } from './evaluator.js';
