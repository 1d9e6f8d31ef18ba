/** Hebbian meta-learning (Najarro & Risi 2020): rules, plastic networks, environments, OpenAI-ES, worker pool. */
export * from './browser.js';
export * from './es.js';
export * from './evolve.js';
export { WorkerPoolEvaluator, createEvaluator, type PoolOptions } from './pool.js';
