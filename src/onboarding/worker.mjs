// Worker-thread entry for the document reader pool. Plain JavaScript so that it loads in any host
// (node, jest, the CLI); it registers the TypeScript loader, then hands over to worker-task.ts.
import { register } from 'tsx/esm/api';

register();
const { readTask } = await import('./worker-task.ts');
export default readTask;
