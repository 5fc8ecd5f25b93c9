/** Markdown helpers shared by the report's tables. */

/** A number with `d` decimals and thousands separators, or `–` when not finite. */
export const num = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d }) : "–");

/** Bytes as KB with one decimal, or `–`. */
export const kb = (b) => (Number.isFinite(b) ? `${(b / 1024).toFixed(1)} KB` : "–");

/** A Markdown table: first column left-aligned, the others right-aligned. */
export function table(head, rows) {
  const lines = [`| ${head.join(" | ")} |`, `|${head.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`];
  for (const r of rows) lines.push(`| ${r.join(" | ")} |`);
  return lines.join("\n");
}
