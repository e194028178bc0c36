// A worker thread of `npm run bench`'s parallel floor: loads the models as a pool worker does, then
// replays the recorded model calls of the selfies (their real input tensors) as fast as it can
// when told to start, and reports how long its share took. Only ONNX Runtime runs here: what the
// cores give to raw inference when every one of them infers at once.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { loadModels } = await import('../../src/biometrics/models.ts');
const { default: ort } = await import('onnxruntime-node');
const { sessions } = await loadModels(workerData.modelsDir);
/** @type {{ name: string, feeds: Record<string, import('onnxruntime-node').Tensor> }[][]} */
const images = workerData.images.map((calls) => calls.map(({ name, feeds }) => ({
  name, feeds: Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor(t.type, t.data, t.dims)])),
})));
for (const calls of images) for (const { name, feeds } of calls) await sessions[name].run(feeds); // warm
parentPort.postMessage({ ready: true });
parentPort.once('message', async ({ count }) => {
  const t0 = performance.now();
  for (let i = 0; i < count; i++) for (const { name, feeds } of images[i % images.length]) await sessions[name].run(feeds);
  parentPort.postMessage({ ms: performance.now() - t0 });
});
