/**
 * In-browser demo: an evolved Hebbian CartPole agent balancing live. The page embeds the agent file
 * an experiment wrote (src/hebbian/rollout.ts's makeAgentFile); each animation frame advances the
 * episode by `createEpisode(...).step()`: the network's weights start random and only the evolved
 * Hebbian rule changes them. A damaged body (longer/heavier pole, weaker motor) can be chosen.
 */
import { bodyNames } from '../../hebbian/envs.js';
import { createEpisode, type AgentFile, type Episode, type StepInfo } from '../../hebbian/rollout.js';
import { field, h, mount, onReady } from './dom.js';

const ID = 'hebbian-cartpole';
const X_LIMIT = 2.4;

function readAgent(): { agent?: AgentFile; source?: string } {
  const el = document.querySelector(`script[type="application/json"][data-demo-data="${ID}"]`);
  if (!el?.textContent) return {};
  const data = JSON.parse(el.textContent) as { agent?: AgentFile; source?: string };
  return data;
}

function draw(ctx: CanvasRenderingContext2D, w: number, hgt: number, state: ArrayLike<number>, poleHalfLength: number, failed: boolean): void {
  const [x, , theta] = [state[0]!, state[1]!, state[2]!];
  const scale = w / (2 * X_LIMIT + 1);
  const groundY = hgt * 0.75;
  ctx.clearRect(0, 0, w, hgt);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, w, hgt);
  ctx.strokeStyle = '#888';
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(0, groundY);
  ctx.lineTo(w, groundY);
  ctx.stroke();
  for (const lim of [-X_LIMIT, X_LIMIT]) {
    const lx = w / 2 + lim * scale;
    ctx.strokeStyle = '#c77700';
    ctx.beginPath();
    ctx.moveTo(lx, groundY - 12);
    ctx.lineTo(lx, groundY + 12);
    ctx.stroke();
  }
  const cx = w / 2 + x * scale;
  const cartW = 0.5 * scale;
  const cartH = 0.3 * scale;
  ctx.fillStyle = '#1b1d21';
  ctx.fillRect(cx - cartW / 2, groundY - cartH, cartW, cartH);
  const len = 2 * poleHalfLength * scale;
  ctx.strokeStyle = failed ? '#c5221f' : '#0b57d0';
  ctx.lineWidth = Math.max(4, scale * 0.08);
  ctx.lineCap = 'round';
  ctx.beginPath();
  ctx.moveTo(cx, groundY - cartH);
  ctx.lineTo(cx + len * Math.sin(theta), groundY - cartH - len * Math.cos(theta));
  ctx.stroke();
}

function start(): void {
  const root = mount(ID);
  if (!root) return;
  let loaded: { agent?: AgentFile; source?: string };
  try {
    loaded = readAgent();
  } catch (e) {
    root.append(h('p', { class: 'error', role: 'alert' }, `The embedded agent could not be read (${(e as Error).message}). Fix: rebuild the report with paperlab report.`));
    return;
  }
  const agent = loaded.agent;
  if (!agent) {
    root.append(h('p', { 'data-result': 'no-agent' }, 'No trained CartPole agent was found in the results. Run the Hebbian experiment (see `paperlab list`) and rebuild this page with `paperlab report`.'));
    return;
  }
  const bodies = bodyNames('cartpole');
  const trainedBody = typeof agent.env.body === 'string' ? agent.env.body : 'standard';
  const body = h('select', { id: `${ID}-body` }, ...bodies.map((b) => h('option', { value: b, selected: b === trainedBody }, b === trainedBody ? `${b} (trained on)` : b)));
  const seed = h('input', { id: `${ID}-seed`, type: 'number', step: '1', value: '1' });
  const speed = h('select', { id: `${ID}-speed` }, ...[1, 2, 5, 20].map((s) => h('option', { value: String(s), selected: s === 1 }, `${s}× real time`)));
  const play = h('button', { type: 'submit' }, 'Run episode');
  const pause = h('button', { type: 'button', disabled: true }, 'Pause');
  const canvas = h('canvas', { width: 640, height: 240, role: 'img', 'aria-label': 'Cart and pole; the status below describes the episode' });
  const status = h('p', { id: `${ID}-status`, 'aria-live': 'polite' }, 'Press “Run episode”.');
  const readout = h('dl', { class: 'run', 'data-result': 'idle' });
  const info = agent.info ? Object.entries(agent.info).map(([k, v]) => `${k}: ${v}`).join(' · ') : '';
  const form = h(
    'form',
    { 'aria-label': 'Hebbian CartPole controls', novalidate: true },
    field('Body', body, 'damaged bodies were not seen in training unless stated'),
    field('Episode seed', seed, 'sets the start state and the random starting weights'),
    field('Speed', speed),
    h('div', {}, play),
    h('div', {}, pause),
  );
  root.append(
    h('p', { class: 'muted' }, `Agent: ${agent.policy.kind === 'hebbian' ? `Hebbian rule ${agent.policy.rule}` : 'static weights'}, layers ${agent.policy.sizes.join('–')}, ${agent.params.length} evolved parameters${loaded.source ? `, from ${loaded.source}` : ''}${info ? ` (${info})` : ''}.`),
    form,
    canvas,
    status,
    readout,
  );
  const ctx = canvas.getContext('2d');
  if (ctx) draw(ctx, canvas.width, canvas.height, [0, 0, 0, 0], 0.5, false);

  let episode: Episode | null = null;
  let timer = 0;
  let last: StepInfo | null = null;
  let poleHalf = 0.5;

  function show(): void {
    if (!episode) return;
    const state = (episode.env as unknown as { state?: ArrayLike<number> }).state ?? episode.observation;
    if (ctx) draw(ctx, canvas.width, canvas.height, state, poleHalf, episode.done && episode.t < episode.env.maxSteps);
    const items: Array<[string, string]> = [
      ['Step', `${episode.t} of ${episode.env.maxSteps}`],
      ['Return', String(episode.totalReward)],
      ['Mean |Δw| this step', last ? last.weightChange.toExponential(2) : '—'],
      ['Pole angle', `${((Number(state[2]) * 180) / Math.PI).toFixed(1)}°`],
    ];
    readout.replaceChildren(...items.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { 'data-key': k }, v)]));
    readout.setAttribute('data-result', episode.done ? 'done' : 'running');
  }

  function stop(): void {
    if (timer) clearInterval(timer);
    timer = 0;
    pause.disabled = true;
  }

  function tick(): void {
    if (!episode) return;
    const n = Number(speed.value);
    for (let i = 0; i < n && !episode.done; i++) last = episode.step();
    show();
    if (episode.done) {
      stop();
      const full = episode.t >= episode.env.maxSteps;
      status.textContent = full ? `Balanced for all ${episode.t} steps on the ${body.value} body (return ${episode.totalReward}).` : `The pole fell after ${episode.t} steps on the ${body.value} body (return ${episode.totalReward}).`;
    }
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    stop();
    const s = Number(seed.value);
    if (seed.value.trim() === '' || !Number.isInteger(s)) {
      seed.setAttribute('aria-invalid', 'true');
      status.textContent = `Episode seed: '${seed.value}' is not a whole number. Fix: type one such as 1.`;
      return;
    }
    seed.removeAttribute('aria-invalid');
    try {
      episode = createEpisode(agent, s, body.value);
      const b = (episode.env as unknown as { body?: { length?: number } }).body;
      poleHalf = b?.length ?? 0.5;
    } catch (e) {
      status.textContent = (e as Error).message;
      return;
    }
    last = null;
    pause.textContent = 'Pause';
    status.textContent = `Running on the ${body.value} body…`;
    show();
    pause.disabled = false;
    timer = window.setInterval(tick, 20);
  });
  pause.addEventListener('click', () => {
    if (!episode || episode.done) return;
    if (timer) {
      stop();
      pause.disabled = false;
      pause.textContent = 'Resume';
      status.textContent = `Paused at step ${episode.t}.`;
    } else {
      pause.textContent = 'Pause';
      status.textContent = `Running on the ${body.value} body…`;
      timer = window.setInterval(tick, 20);
    }
  });
}

onReady(start);
