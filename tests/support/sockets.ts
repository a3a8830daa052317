/** The listen queue's length of each socket listening on `port`, as the kernel reports it (ss: Send-Q of a listener). */
export function backlogsOf(port: number): number[] {
  const ss = Bun.spawnSync(["ss", "-Hltn", `sport = :${port}`]);
  if (ss.exitCode !== 0) throw new Error(`ss failed: ${ss.stderr.toString()}`);
  return ss.stdout
    .toString()
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => Number(line.trim().split(/\s+/)[2]));
}
