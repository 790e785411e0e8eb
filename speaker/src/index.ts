/** @herald/speaker public API: filled in by its issue. */
export const PACKAGE = '@herald/speaker';
