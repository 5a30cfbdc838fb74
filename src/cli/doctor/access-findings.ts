import { readErrorBody } from '../http-failure.js';
import { failed, passed, type Finding } from './finding.js';

/** An answer, read whole: what the judges below look at. */
export interface Answer {
  readonly status: number;
  readonly text: string;
}

/** A judge's finding, and whether the later checks can tell anything after it. */
export interface Judged {
  readonly finding: Finding;
  readonly canGoOn: boolean;
}

/** A failed request: the system's error code, with a hint for the usual ones. */
export function unreachableFinding(url: string, code: string): Finding {
  const hint = /CERT|SSL|TLS/i.test(code)
    ? 'the certificate is not trusted; give its CA to Node with NODE_EXTRA_CA_CERTS=<file.pem>'
    : 'is the server running, and is --server (BUILDLOG_SERVER) the address people use?';
  return failed(`cannot reach ${url} (${code}): ${hint}`);
}

/** GET /healthz, which never needs a token nor an allowed host: is a build-log server there? */
export function judgeHealth(url: string, answer: Answer): Judged {
  if (answer.status === 200 && /"status"\s*:\s*"ok"/.test(answer.text)) return { finding: passed(`the server answers at ${url}`), canGoOn: true };
  if (answer.status === 502 || answer.status === 504) {
    return { finding: failed(`${url} answered ${answer.status}: the proxy cannot reach the server; is it running, and does proxy_pass name its HOST and PORT?`), canGoOn: false };
  }
  return { finding: failed(`${url} answered ${answer.status}, not a build-log server's {"status": "ok"}: is --server (BUILDLOG_SERVER) the right address?`), canGoOn: false };
}

/** GET /api/builds: the token, and the Host rule (forbidden_host is checked on every route but /healthz). */
export function judgeApi(answer: Answer, hasToken: boolean): Judged {
  const error = readErrorBody(answer.text);
  if (answer.status === 200) {
    return { finding: passed(hasToken ? 'the token is accepted' : 'the API answers without a token (the server has no AUTH_TOKEN)'), canGoOn: true };
  }
  if (answer.status === 401) {
    const text = hasToken
      ? "the server refused the token (401 unauthorized): give the server's AUTH_TOKEN with --token or BUILDLOG_TOKEN"
      : 'the server needs a token (401 unauthorized): give it with --token or BUILDLOG_TOKEN';
    return { finding: failed(text), canGoOn: false };
  }
  if (answer.status === 403 && error?.code === 'forbidden_host') {
    return { finding: failed(`the server refuses the host this URL names: ${error.message} (403 forbidden_host)`), canGoOn: false };
  }
  const reason = error ? `${error.message} (${answer.status} ${error.code})` : `HTTP ${answer.status}`;
  return { finding: failed(`GET /api/builds answered something unexpected: ${reason}`), canGoOn: false };
}

/**
 * The page's POST, sent with the page's Origin and a body the server refuses: 400 means the
 * Host and Origin rules let it through (and no build starts), 403 that the page could not
 * start builds.
 */
export function judgeOrigin(origin: string, answer: Answer): Finding {
  const error = readErrorBody(answer.text);
  if (answer.status === 400) return passed(`the page's POST passes the Host and Origin checks (Origin: ${origin})`);
  if (answer.status === 403 && (error?.code === 'forbidden_origin' || error?.code === 'forbidden_host')) {
    // The server's message names the variables; the value for this URL is ours to add.
    return failed(`the page's POST is refused (403 ${error.code}): ${error.message.replace(/\.$/, '')}; for this URL: PUBLIC_URL=${origin}`);
  }
  const reason = error ? `${error.message} (${answer.status} ${error.code})` : `HTTP ${answer.status}`;
  return failed(`POST /api/project/build with Origin: ${origin} answered something unexpected: ${reason}`);
}
