/** Ridge regression lives with the server (its retrain job fits the preparation model). */
export * from '../../src/modules/recommendations/ridge.js';
