/**
 * The stdin commands of `bgp-lite peer`, one per line, and the route table they edit. Pure:
 * a line in, a command or a one-line reason out.
 *
 * ```
 * announce PREFIX [nexthop IP] [community a:b]... [large a:b:c]... [local-pref N] [med N]
 * withdraw PREFIX
 * show
 * help
 * quit [shutdown message]
 * ```
 * @packageDocumentation
 */

import { MAX_SHUTDOWN_COMMUNICATION_LENGTH } from '../codec/constants.js';
import { formatPrefix, parsePrefix } from '../codec/prefix.js';
import type { PeerRoute } from '../peer/adjribout.js';
import { addRouteAttribute, completeRoute, finishRoute, UsageError, type RouteDefaults, type RouteDraft } from './route.js';

/** One command read from stdin. */
export type Command =
  | { readonly type: 'announce'; readonly route: PeerRoute }
  /** `prefix` in canonical form (the route table's key). */
  | { readonly type: 'withdraw'; readonly prefix: string }
  | { readonly type: 'show' }
  | { readonly type: 'help' }
  /** Cease/Administrative Shutdown, with the Shutdown Communication when given (RFC 9003). */
  | { readonly type: 'quit'; readonly message?: string };

/** The outcome of {@link parseCommand}; `command` is undefined for a blank or `#` line. */
export type ParsedCommand = { readonly ok: true; readonly command: Command | undefined } | { readonly ok: false; readonly error: string };

export const COMMAND_HELP: readonly string[] = [
  'announce PREFIX [nexthop IP] [community a:b]... [large a:b:c]... [local-pref N] [med N]',
  'withdraw PREFIX',
  'show',
  'quit [shutdown message]',
];

const utf8 = new TextEncoder();

/** The canonical text of a prefix (`10.0.0.1` becomes `10.0.0.1/32`); throws on bad input. */
export function prefixKey(text: string): string {
  try {
    return formatPrefix(parsePrefix(text));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function parseAnnounce(args: readonly string[], defaults: RouteDefaults): Command {
  const [prefix, ...rest] = args;
  if (prefix === undefined) throw new UsageError('announce: want announce PREFIX [nexthop IP] [community a:b]... [large a:b:c]... [local-pref N] [med N]');
  const draft: RouteDraft = { prefix, communities: [], largeCommunities: [] };
  for (let i = 0; i < rest.length; i += 2) {
    const key = rest[i] ?? '';
    const value = rest[i + 1];
    if (value === undefined) throw new UsageError(`announce ${prefix}: ${key} needs a value`);
    addRouteAttribute(draft, key, value);
  }
  return { type: 'announce', route: completeRoute(finishRoute(draft), defaults) };
}

function noArguments(verb: string, args: readonly string[]): void {
  if (args.length > 0) throw new UsageError(`${verb} takes no arguments`);
}

function parseQuit(line: string): Command {
  const message = line.trim().slice('quit'.length).trim();
  if (message === '') return { type: 'quit' };
  // RFC 9003 §2: at most 255 octets of UTF-8.
  const octets = utf8.encode(message).length;
  if (octets > MAX_SHUTDOWN_COMMUNICATION_LENGTH) {
    throw new UsageError(`quit: the shutdown message is ${octets} octets, at most ${MAX_SHUTDOWN_COMMUNICATION_LENGTH} fit (RFC 9003)`);
  }
  return { type: 'quit', message };
}

function parseWords(line: string, defaults: RouteDefaults): Command | undefined {
  const words = line.trim().split(/\s+/);
  const [verb = '', ...args] = words;
  if (verb === '' || verb.startsWith('#')) return undefined;
  switch (verb) {
    case 'announce':
      return parseAnnounce(args, defaults);
    case 'withdraw':
      if (args.length !== 1) throw new UsageError('withdraw: want withdraw PREFIX');
      return { type: 'withdraw', prefix: prefixKey(args[0] ?? '') };
    case 'show':
      noArguments(verb, args);
      return { type: 'show' };
    case 'help':
      noArguments(verb, args);
      return { type: 'help' };
    case 'quit':
      return parseQuit(line);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(verb)} (want ${['announce', 'withdraw', 'show', 'help', 'quit'].join(', ')})`);
  }
}

/** Parses one stdin line. Invalid input is a result, not an exception. */
export function parseCommand(line: string, defaults: RouteDefaults): ParsedCommand {
  try {
    return { ok: true, command: parseWords(line, defaults) };
  } catch (err) {
    if (err instanceof UsageError) return { ok: false, error: err.message };
    throw err;
  }
}

/**
 * The routes the user wants announced, one per prefix, in the order first announced. The whole
 * list goes to `BgpPeer.setRoutes`, which works out what to send.
 */
export class RouteTable {
  readonly #routes = new Map<string, PeerRoute>();

  constructor(initial: readonly PeerRoute[] = []) {
    for (const route of initial) this.announce(route);
  }

  /** Adds the route, or replaces the route of the same prefix. Returns the prefix key. */
  announce(route: PeerRoute): string {
    const key = prefixKey(route.prefix);
    this.#routes.set(key, route);
    return key;
  }

  has(key: string): boolean {
    return this.#routes.has(key);
  }

  /** Removes the route of `key`; false when there was none. */
  withdraw(key: string): boolean {
    return this.#routes.delete(key);
  }

  get routes(): PeerRoute[] {
    return [...this.#routes.values()];
  }
}
