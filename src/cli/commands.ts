/** Every `paperlab` sub-command, in help order. */
import type { Command } from './command.js';
import { info, list, run, compute } from './core-commands.js';
import { bench } from './bench.js';
import { report } from './report.js';
import { gptCommands } from './gpt.js';
import { radioactive } from './radioactive.js';
import { sweep } from './sweep.js';
import { worker } from './worker.js';

export const commands: Command[] = [list, run, sweep, worker, report, ...gptCommands, radioactive, info, compute, bench];
