// The dashboard's only way to the server: the same HTTP API as every other client, with the
// key from this browser session.

const keyStorage = 'testbed.apiKey';

export class ApiError extends Error {
  constructor(message, code, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export const session = {
  get key() { return sessionStorage.getItem(keyStorage); },
  set key(value) {
    if (value) sessionStorage.setItem(keyStorage, value);
    else sessionStorage.removeItem(keyStorage);
  },
};

function headers(extra = {}) {
  const all = { ...extra };
  if (session.key) all.Authorization = `Bearer ${session.key}`;
  return all;
}

/// The API's own words for an error response, or a description of what came back instead.
async function errorFrom(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    if (body && typeof body.error === 'string') return new ApiError(body.error, body.code, response.status);
  } catch { /* not JSON: described below */ }
  return new ApiError(`the server answered ${response.status} ${response.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`,
    'http_error', response.status);
}

async function send(method, path, { json, body, contentType, accept } = {}) {
  const extra = {};
  if (json !== undefined) extra['Content-Type'] = 'application/json';
  if (contentType) extra['Content-Type'] = contentType;
  if (accept) extra.Accept = accept;
  let response;
  try {
    response = await fetch(path, { method, headers: headers(extra), body: json !== undefined ? JSON.stringify(json) : body });
  } catch (error) {
    throw new ApiError(`the server did not answer (${error.message}); is testbed serve still running?`, 'network', 0);
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

export const api = {
  async get(path) { return (await send('GET', path)).json(); },
  async post(path, json) {
    const response = await send('POST', path, { json });
    return response.status === 204 ? null : response.json();
  },
  async delete(path) { await send('DELETE', path); },
  /// A file to save (an exported model): its bytes and the name the server gives it.
  async download(path) {
    const response = await send('GET', path);
    const disposition = response.headers.get('Content-Disposition') ?? '';
    const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? 'download';
    return { blob: await response.blob(), filename };
  },
  /// A CSV body in, a CSV file (as a Blob) out.
  async postCSV(path, file) {
    return (await send('POST', path, { body: file, contentType: 'text/csv', accept: 'text/csv' })).blob();
  },

  /// Uploads a file as the request body, reporting the share sent so far (fetch cannot).
  upload(path, file, onProgress) {
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open('POST', path);
      for (const [name, value] of Object.entries(headers({ 'Content-Type': 'text/csv' }))) request.setRequestHeader(name, value);
      request.upload.addEventListener('progress', (event) => {
        if (event.lengthComputable) onProgress(event.loaded / event.total);
      });
      request.addEventListener('load', () => {
        let body = null;
        try { body = JSON.parse(request.responseText); } catch { /* described below */ }
        if (request.status >= 200 && request.status < 300 && body) resolve(body);
        else if (body && typeof body.error === 'string') reject(new ApiError(body.error, body.code, request.status));
        else reject(new ApiError(`the server answered ${request.status}: ${request.responseText.slice(0, 200)}`, 'http_error', request.status));
      });
      request.addEventListener('error', () => reject(new ApiError('the upload was interrupted; the server did not answer', 'network', 0)));
      request.send(file);
    });
  },
};
