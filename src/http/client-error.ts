import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { HttpError, MethodNotAllowedError } from './http-errors.js';
import type { Logger } from '../logger.js';
import { errorBody } from './error-handler.js';
import { SECURITY_HEADERS } from './security-headers.js';

/** What Node's HTTP parser reports for a request it could not read (the http server's `clientError`). */
export interface ClientErrorFacts {
  readonly code?: string | undefined;
  /** The bytes the parser choked on, to tell a strange method from garbage. */
  readonly rawPacket?: Buffer | string | undefined;
}

/** How long a refused connection stays open for its answer to be read. */
const LINGER_MS = 1000;

/** A request line's shape: an RFC 9110 token, a target, the protocol. */
const REQUEST_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ \S+ HTTP\/\d/;

/**
 * The error to answer a request Node's parser refused with, so that it gets a JSON body
 * like every other error (API.md, Process) instead of Node's bare 400 or 431.
 */
export function clientErrorFor(error: ClientErrorFacts): HttpError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new HttpError(431, 'headers_too_large', 'The request\'s headers are larger than the server accepts (16 KiB in all).');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new HttpError(408, 'request_timeout', 'The request was not received in time; its headers must arrive within 10 s.');
    case 'HPE_INVALID_METHOD': {
      const head = String(error.rawPacket ?? '');
      if (REQUEST_LINE.test(head)) return new MethodNotAllowedError(head.slice(0, head.indexOf(' ')), 'GET, HEAD, POST, OPTIONS');
      return new HttpError(400, 'bad_request', 'The request is not valid HTTP.');
    }
    default:
      return new HttpError(400, 'bad_request', 'The request is not valid HTTP.');
  }
}

/** The whole response for a request that never became one, as raw bytes on its socket. */
export function rawErrorResponse(error: HttpError): string {
  const body = JSON.stringify(errorBody(error));
  const headers = {
    ...SECURITY_HEADERS,
    ...error.headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
  };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\n${lines.join('')}\r\n${body}`;
}

/**
 * The http server's `clientError` listener. As Node's own default does, it answers only on a
 * socket that has sent nothing yet (else the bytes would land inside another response) and
 * then closes the connection. The raw packet is never logged: it may hold a token.
 */
export function clientErrorHandler(logger: Logger): (error: Error & ClientErrorFacts, socket: Duplex) => void {
  return (error, socket) => {
    const canAnswer = error.code !== 'ECONNRESET' && socket.writable && (socket as Duplex & { bytesWritten?: number }).bytesWritten === 0;
    if (!canAnswer) {
      socket.destroy();
      return;
    }
    const answer = clientErrorFor(error);
    logger[answer.status === 408 ? 'debug' : 'info']({ status: answer.status, code: answer.code, parserCode: error.code }, 'request refused');
    socket.end(rawErrorResponse(answer));
    // A peer that never closes its side must not keep the descriptor: give the answer a moment, then close.
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
}
