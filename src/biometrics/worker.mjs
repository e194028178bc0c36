// Worker-thread entry for the face engine pool. Plain JavaScript so that it loads in any host
// (node, jest, the CLI); it registers the TypeScript loader, then hands over to worker-task.ts.
import { register } from 'tsx/esm/api';

register();
const { createTask } = await import('./worker-task.ts');
export default createTask;
