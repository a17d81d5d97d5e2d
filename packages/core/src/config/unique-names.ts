/** The part of a zod refinement context that {@link reportDuplicateNames} uses. */
interface IssueSink {
  addIssue(issue: { code: 'custom'; path: PropertyKey[]; message: string }): void;
}

/**
 * Reports every entry whose `name` an earlier entry already used, as `duplicate <kind> name "x"`
 * at `pathOf(index)`. For `superRefine` on lists whose names must be unique.
 *
 * @example
 * ```ts
 * z.array(schedule).superRefine((list, ctx) => reportDuplicateNames(list, ctx, 'schedule'));
 * ```
 */
export function reportDuplicateNames(
  list: readonly { name: string }[],
  ctx: IssueSink,
  kind: string,
  pathOf: (index: number) => PropertyKey[] = (i) => [i, 'name'],
): void {
  const seen = new Set<string>();
  list.forEach(({ name }, i) => {
    if (seen.has(name)) {
      ctx.addIssue({
        code: 'custom',
        path: pathOf(i),
        message: `duplicate ${kind} name "${name}"`,
      });
    }
    seen.add(name);
  });
}
