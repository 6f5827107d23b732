/** The ONNX writer lives with the server (its retrain job writes models too). */
export * from '../../src/modules/recommendations/onnx-writer.js';
