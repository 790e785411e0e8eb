/**
 * Herald installed the way a user installs it: images in a registry the nodes pull from,
 * the chart as a packaged archive (`helm package` output, not the folder), `helm install`.
 * Helm runs asynchronously (a blocked event loop would stall the probes a test reads while
 * an upgrade rolls) with its config, cache and data in a folder of its own, removed after.
 * @packageDocumentation
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHART_DIR, helmBinary } from '@herald/charts';
import type { Cluster } from '@herald/e2e-cluster';
import { buildHeraldImages, buildTestImages, type HeraldImage, type TestImages } from '@herald/e2e-images';

export interface HelmRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A helm with a private home; `close` removes it. */
export class Helm {
  private constructor(readonly home: string) {}

  static async create(): Promise<Helm> {
    return new Helm(await mkdtemp(join(tmpdir(), 'herald-oncluster-helm-')));
  }

  run(args: readonly string[], opts: { kubeconfig?: string; values?: Record<string, unknown>; timeoutMs?: number } = {}): Promise<HelmRun> {
    return (async () => {
      const extra: string[] = [];
      if (opts.values) {
        const file = join(this.home, `values-${Date.now()}-${Math.random().toString(16).slice(2)}.json`);
        await writeFile(file, JSON.stringify(opts.values));
        extra.push('--values', file);
      }
      if (opts.kubeconfig) extra.push('--kubeconfig', opts.kubeconfig);
      return new Promise<HelmRun>((resolve) => {
        const child = spawn(helmBinary(), [...args, ...extra], {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            PATH: process.env['PATH'] ?? '/usr/bin:/bin',
            HOME: this.home,
            HELM_CACHE_HOME: join(this.home, 'cache'),
            HELM_CONFIG_HOME: join(this.home, 'config'),
            HELM_DATA_HOME: join(this.home, 'data'),
          },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ status: code ?? 1, stdout, stderr });
        });
      });
    })();
  }

  /** `helm package` of charts/herald into a folder; returns the archive's path. */
  async packageChart(out: string, version?: string): Promise<string> {
    const r = await this.run(['package', CHART_DIR, '--destination', out, ...(version === undefined ? [] : ['--version', version, '--app-version', version])]);
    if (r.status !== 0) throw new Error(`helm package: ${r.stderr}`);
    const tgz = (await readdir(out)).find((f) => f.endsWith('.tgz'));
    if (tgz === undefined) throw new Error(`helm package wrote no archive: ${r.stdout}`);
    return join(out, tgz);
  }

  async close(): Promise<void> {
    await rm(this.home, { recursive: true, force: true });
  }
}

export interface BuiltImages {
  readonly herald: readonly HeraldImage[];
  readonly test: TestImages;
  /** Registry references the nodes pull. */
  readonly refs: { readonly controller: string; readonly speaker: string; readonly backend: string; readonly nginx: string };
}

const repoOf = (ref: string): string => ref.slice(0, ref.lastIndexOf(':'));
const tagOf = (ref: string): string => ref.slice(ref.lastIndexOf(':') + 1);

/** Herald's images and the test images, built in the local store (not pushed yet). */
export interface LocalImages {
  readonly herald: readonly HeraldImage[];
  readonly test: TestImages;
}

/**
 * Builds Herald's two images (from the Dockerfile, offline, on local stand-ins of the
 * official bases) and the test images. Needs no cluster, so it can run while one comes up.
 */
export async function buildImages(tag: string): Promise<LocalImages> {
  // No pruning here: another build (the sandbox, the images suite) may be using the cached layers.
  const { images } = await buildHeraldImages({ tag, prune: false });
  const test = await buildTestImages();
  return { herald: images, test };
}

/** Pushes images {@link buildImages} built to the cluster's registry. */
export async function pushImages(cluster: Cluster, tag: string, local: LocalImages): Promise<BuiltImages> {
  const find = (t: string): string => {
    const i = local.herald.find((x) => x.target === t);
    if (i === undefined) throw new Error(`no ${t} image built`);
    return i.image;
  };
  const refs = {
    controller: await cluster.pushImage(find('controller'), `herald/controller:${tag}`),
    speaker: await cluster.pushImage(find('speaker'), `herald/speaker:${tag}`),
    backend: await cluster.pushImage(local.test.backend, `test/backend:${tagOf(local.test.backend).slice(0, 60)}`),
    nginx: await cluster.pushImage(local.test.nginx, `test/nginx:${tagOf(local.test.nginx).slice(0, 60)}`),
  };
  return { ...local, refs };
}

/**
 * Builds Herald's two images (from the Dockerfile, offline, on local stand-ins of the
 * official bases) and the test images, and pushes them all to the cluster's registry.
 */
export async function buildAndPush(cluster: Cluster, tag: string): Promise<BuiltImages> {
  return pushImages(cluster, tag, await buildImages(tag));
}

/** Chart values that point the chart at the pushed images. */
export function imageValues(refs: { controller: string; speaker: string }, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const controller = (extra['controller'] as Record<string, unknown> | undefined) ?? {};
  const speaker = (extra['speaker'] as Record<string, unknown> | undefined) ?? {};
  return {
    ...extra,
    controller: { ...controller, image: { repository: repoOf(refs.controller), tag: tagOf(refs.controller), pullPolicy: 'IfNotPresent' } },
    speaker: { ...speaker, image: { repository: repoOf(refs.speaker), tag: tagOf(refs.speaker), pullPolicy: 'IfNotPresent' } },
  };
}
