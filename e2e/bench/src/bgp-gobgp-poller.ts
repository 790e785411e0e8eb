/**
 * Counts a GoBGP router's Adj-RIB-In per neighbour over gobgpd's own gRPC API, from inside the
 * router's namespace (`node dist/bgp-gobgp-poller.js PORT`): one HTTP/2 connection kept open,
 * so a query costs about a millisecond instead of a `gobgp` CLI process (30-150 ms here).
 *
 * stdin, one JSON object per line: `{ "id": N, "neighbor": "192.0.2.11" }`.
 * stdout: `{ "id": N, "destinations", "paths", "accepted" }` or `{ "id": N, "error" }`.
 * Exits when stdin closes.
 */
import { connect } from 'node:http2';
import { createInterface } from 'node:readline';
import { GOBGP_GET_TABLE_PATH, gobgpAdjInRequest, gobgpTableCounts } from './bgp-parse.js';

function main(): void {
  const port = Number(process.argv[2] ?? '50051');
  const session = connect(`http://127.0.0.1:${port}`);
  session.on('error', (err) => {
    process.stderr.write(`gobgp poller: ${err.message}\n`);
    process.exit(1);
  });
  const reply = (o: Record<string, unknown>): void => {
    process.stdout.write(JSON.stringify(o) + '\n');
  };
  const query = (id: number, neighbor: string): void => {
    const req = session.request({ ':method': 'POST', ':path': GOBGP_GET_TABLE_PATH, 'content-type': 'application/grpc', te: 'trailers' });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    let message = '';
    req.on('trailers', (h) => {
      status = String(h['grpc-status'] ?? '');
      message = String(h['grpc-message'] ?? '');
    });
    req.on('response', (h) => {
      // A call that fails at once answers with headers only (trailers-only response).
      if (h['grpc-status'] !== undefined) {
        status = String(h['grpc-status']);
        message = String(h['grpc-message'] ?? '');
      }
    });
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('error', (err) => reply({ id, error: err.message }));
    req.on('end', () => {
      if (status !== '0') return reply({ id, error: `grpc-status ${status ?? '?'}: ${decodeURIComponent(message)}` });
      const c = gobgpTableCounts(Buffer.concat(chunks));
      reply(c === undefined ? { id, error: 'undecodable GetTableResponse' } : { id, ...c });
    });
    req.end(gobgpAdjInRequest(neighbor));
  };
  createInterface({ input: process.stdin })
    .on('line', (line) => {
      if (line.trim() === '') return;
      const q = JSON.parse(line) as { id: number; neighbor: string };
      query(q.id, q.neighbor);
    })
    .on('close', () => {
      session.close();
      process.exit(0);
    });
}

main();
