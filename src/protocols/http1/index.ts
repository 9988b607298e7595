// HTTP/1.x: total parsers for request and response heads from captured bytes,
// request-target decomposition and a splitter for pipelined messages. Pure
// functions: no I/O, no globals, no exceptions.
export { parseRequest, scanRequest, RequestScan, MAX_METHOD_LENGTH, type HttpRequestHead } from './request.js';
export { parseResponse, scanResponse, ResponseScan, type HttpResponseHead } from './response.js';
export { parseTarget, splitHostPort, authorityPort, NO_HOST, NO_PORT, type RequestTarget } from './target.js';
export { splitMessages, chunkedEnd, MAX_SPLIT_MESSAGES, type SplitOptions } from './split.js';
export { SENSITIVE_HEADERS, MAX_KEPT_HEADERS, MAX_HEADER_VALUE_LENGTH, HeaderScan, type HeaderBlock, type HeaderField, type HeaderOptions } from './headers.js';
export { PARSE_FAILURE_REASONS, type ParseFailureReason, type ParseResult } from './parse-result.js';
