/** @herald/controller public API: filled in by its issue. */
export const PACKAGE = '@herald/controller';
