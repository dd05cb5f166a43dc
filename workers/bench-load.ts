// Entry of the bench command's piscina threads: each task drives one group of connections.
export { runLoad as default } from '../src/bench/load.ts';
