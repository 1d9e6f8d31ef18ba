/** Scale-out on BullMQ over Redis: queue-backed sweep seeds and ES evaluation, and the worker. Node-only. */
export { RedisSeedRunner, seedJobId, type RedisSeedRunnerOptions } from './seed-runner.js';
export { QueueEvaluator, type QueueEvaluatorOptions } from './es-evaluator.js';
export { startWorker, type QueueWorker, type WorkerOptions } from './worker.js';
export { probeRedis, redactUrl, DEFAULT_QUEUE } from './connection.js';
export { startRedis, hasRedisServer, type LocalRedis } from './redis-server.js';
