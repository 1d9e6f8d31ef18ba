/** Supervised contrastive learning (Khosla et al. 2020) and SimCLR: losses, networks, two-stage training. */
export * from './nn.js';
export * from './losses.js';
export * from './encoder.js';
export * from './probe.js';
export * from './train.js';
