/** True when `version` (its numbers, most significant first) is `min` or newer; a missing part counts as 0. */
export function versionAtLeast(version: readonly number[], min: readonly number[]): boolean {
  for (let i = 0; i < Math.max(version.length, min.length); i++) {
    const have = version[i] ?? 0;
    const need = min[i] ?? 0;
    if (have !== need) return have > need;
  }
  return true;
}
