/** Process and port checks for tests that start trees of processes and must end them by pid. */
import { execFileSync } from "node:child_process";
import { connect } from "node:net";

/** Every descendant of `pid` (by `ps`), so teardown can end what a test started, by pid. */
export function descendants(pid: number): number[] {
  let out = "";
  try {
    out = execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" });
  } catch {
    return []; // ps exits 1 when there are none
  }
  const children = out.split("\n").map((s) => Number(s.trim())).filter((n) => n > 0);
  return children.flatMap((c) => [c, ...descendants(c)]);
}

/** Whether a process with this pid exists (signal 0). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether a connection to 127.0.0.1:`port` is refused (nothing listens there any more). */
export function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.once("error", () => resolve(true));
  });
}
