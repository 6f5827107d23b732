/** The ranker's MLP lives with the server (its retrain job trains the ranker too). */
export * from '../../src/modules/recommendations/mlp.js';
