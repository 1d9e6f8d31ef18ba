/** BYOL (Grill et al. 2020) and SimSiam (Chen & He 2020): no negatives, and when that collapses. */
export * from './byol.js';
export * from './monitor.js';
export * from './train.js';
