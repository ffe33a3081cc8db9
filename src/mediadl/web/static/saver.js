// One file to the person's disk: the browser downloads the tunnel natively (its own download UI,
// resumable, no page memory spent on the bytes) while the page follows the server's progress.
import { ApiError, follow } from './api.js';

/** How long the browser may take to ask for the tunnel (it may be asking the person first). */
const START_WITHIN_MS = 60_000;

function startDownload(url) {
  const link = document.createElement('a');
  link.href = url;
  link.download = '';
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
}

/**
 * Save the file of a DownloadOut. `onState({stage, sent, total, estimated, speed})` gets each
 * state the server publishes; resolves with the last one on `done`, throws ApiError on `error`,
 * or `blocked` when the browser never asked for the file.
 */
export async function save(download, onState) {
  const stop = new AbortController();
  let blocked = false;
  const timer = setTimeout(() => {
    blocked = true;
    stop.abort();
  }, START_WITHIN_MS);
  try {
    const states = follow(download.events, { signal: stop.signal });
    const first = states.next(); // subscribe first, so no state is missed
    startDownload(download.tunnel);
    let total = download.size;
    let estimated = download.size_is_estimate;
    for (let step = await first; !step.done; step = await states.next()) {
      const state = step.value;
      if (state.stage !== 'waiting') clearTimeout(timer);
      if (state.total) [total, estimated] = [state.total, false];
      else if (state.estimate && estimated) total = state.estimate;
      onState({ ...state, total, estimated });
      if (state.stage === 'done') return state;
      if (state.stage === 'error') {
        const error = state.error || {};
        throw new ApiError(error.code || 'generic', error.message, 0,
          String(error.context?.service || ''), String(error.context?.reason || ''));
      }
    }
    throw new ApiError('network');
  } catch (err) {
    throw blocked ? new ApiError('blocked') : err;
  } finally {
    clearTimeout(timer);
  }
}
