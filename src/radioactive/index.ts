/** Radioactive data (Sablayrolles et al. 2020): carriers, marking, detection and their statistics. */
export * from './stats.js';
export * from './carriers.js';
export * from './shift.js';
export * from './nets.js';
export * from './mark.js';
export * from './align.js';
export * from './detect.js';
export * from './augment.js';
