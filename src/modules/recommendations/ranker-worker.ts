/**
 * The ranker's training thread (issue #24): receives the retrain's orders and catalog as its
 * `workerData`, runs `trainCandidate` (the replay, the training and the candidate's held-out
 * figures) and posts the result back; the retrain job then ends the thread. The held-out cases'
 * rows (about 16 MB for 3,000 cases) are transferred, not copied, so the API thread does not
 * spend its time cloning them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { trainCandidate, type TrainInput } from './ranker-training.js';

try {
  const result = trainCandidate(workerData as TrainInput);
  parentPort!.postMessage(
    { ok: true, result },
    result.cases.map((testCase) => testCase.rows.buffer as ArrayBuffer),
  );
} catch (error) {
  parentPort!.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error) });
}
