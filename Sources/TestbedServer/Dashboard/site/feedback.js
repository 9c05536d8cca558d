// The error banner: what the API said, in its own words, never a blank page.
import { ApiError } from './api.js';
import { fill, h } from './dom.js';

const banner = document.getElementById('error');

export function showError(error) {
  fill(banner,
    h('strong', {}, error instanceof ApiError ? 'The testbed refused this:' : 'Something went wrong in the page:'),
    h('span', { class: 'message' }, error.message),
    error.code ? h('span', { class: 'hint' }, ` (${error.code})`) : null);
  banner.hidden = false;
  banner.scrollIntoView({ block: 'nearest' });
}

export function clearError() {
  banner.hidden = true;
  banner.replaceChildren();
}

/// Runs the action of a button or form, showing what the API said when it fails.
export async function attempt(action) {
  clearError();
  try {
    return await action();
  } catch (error) {
    showError(error);
    return undefined;
  }
}
