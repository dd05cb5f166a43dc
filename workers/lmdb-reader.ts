// Entry of an LMDB reader thread (a piscina worker of the lmdb backend); what the thread does
// is the backend's (src/backends/lmdb/readers/reader-thread.ts).
import { runReadTask } from '../src/backends/lmdb/readers/reader-thread.ts';

export default runReadTask;
