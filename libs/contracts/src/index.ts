export * from './errors';
export * from './targeting';
export * from './config';
export * from './snapshot';
export * from './results';
export * from './assignment';
export * from './events';
export * from './text';
