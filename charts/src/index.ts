/**
 * @herald/charts: Herald's Helm chart lives in charts/herald; this package holds
 * the helpers its tests render and install it with.
 * @packageDocumentation
 */
export { CHART_DIR, helmBinary, only, parseManifests, render, renderRaw, runHelm, type HelmResult, type Manifest, type RenderOptions, type Values } from './helm.js';
